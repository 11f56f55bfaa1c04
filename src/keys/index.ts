// Key logic every layer shares (backends, template stores, resources, the runtime): byte order,
// searching sorted keys, prefixes and what they cover, the store key of a backend key, and Go's
// path package over keys (gopath.ts). A leaf: it imports nothing of ours but the byte codec
// (src/bytes.ts).
export { compareBytes, compareByKey, gallopBound, lowerBound, lowerBoundKey, partitionPoint, prefixEnd, sortByBytes } from './order.js';
export { mapsOneToOne, storeKeyFor } from './store-key.js';
export { covers, coversAny, minimalCover, selectCovered, stripWildcard } from './prefix.js';
