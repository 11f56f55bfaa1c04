// The store key of a backend key: what a template's getv/gets/ls see for an etcd key under a
// resource's prefix, as confd forms it.
import { isAscii, isCleanAbs, join } from './gopath.js';

/** confd's store key for an etcd key: path.Join("/", strings.TrimPrefix(etcdKey, prefix)). */
export function storeKeyFor(etcdKey: string, prefix: string): string {
  // With the prefix "/" (no prefix) a clean key maps to itself: skip building a copy.
  if ((prefix === '/' || prefix === '') && isCleanAbs(etcdKey)) return etcdKey;
  const trimmed = prefix !== '' && etcdKey.startsWith(prefix) ? etcdKey.slice(prefix.length) : etcdKey;
  if (trimmed.length > 0 && isCleanAbs(trimmed)) return trimmed;
  // The usual prefix "/" leaves "svc/x": rooting it is all Join does when the rest is clean.
  if (trimmed.length > 0 && trimmed.charCodeAt(0) !== 47) {
    const rooted = '/' + trimmed;
    if (isCleanAbs(rooted)) return rooted;
  }
  return join('/', trimmed);
}

/** storeKeyFor(k, prefix) is k without the prefix, rooted, and clean: distinct keys never merge. */
export function mapsOneToOne(etcdKey: string, prefix: string): boolean {
  if (!isAscii(etcdKey) || !isCleanAbs(etcdKey)) return false;
  if (prefix === '/' || prefix === '') return true;
  if (!etcdKey.startsWith(prefix)) return false;
  const rest = etcdKey.slice(prefix.length);
  return prefix.endsWith('/') ? rest !== '' : rest.charCodeAt(0) === 47;
}
