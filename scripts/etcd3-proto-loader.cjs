// Stands in for @grpc/proto-loader inside the bundled etcd3 (scripts/build.mjs swaps it in).
// etcd3 calls loadSync(rpc.proto) when it is first required: proto-loader then parses the
// .proto text and builds descriptors for every message (~60-110 ms of every etcd run). Here the
// parse happened at build time ('tsconfd:etcd3-proto' is its protobufjs JSON plus the service
// list), and the protobufjs types behind a method's (de)serializers are made on its first call:
// tsconfd's reads use their own codec (src/backends/etcdv3/range-codec.ts), so -onetime never
// loads protobufjs at all. Everything grpc-js and etcd3 see is what proto-loader 0.7 gives.
'use strict';
const { rootJson, services } = require('tsconfd:etcd3-proto');

// The options etcd3 1.1.2 passes; keepCase is baked into rootJson, so it must not change.
const EXPECTED = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

let root;
function lookupType(name) {
  if (!root) root = require('protobufjs/light').Root.fromJSON(rootJson);
  return root.lookupType(name);
}

// proto-loader's createSerializer / createDeserializer, on a type made when first needed.
function codec(typeName, options) {
  let cls;
  const type = () => cls || (cls = lookupType(typeName));
  return {
    serialize(arg) {
      if (Array.isArray(arg)) throw new Error(`Failed to serialize message: expected object with ${type().name} structure, got array instead`);
      const t = type();
      return t.encode(t.fromObject(arg)).finish();
    },
    deserialize(buf) {
      const t = type();
      return t.toObject(t.decode(buf), options);
    },
  };
}

function loadSync(_file, options) {
  for (const [key, value] of Object.entries(EXPECTED)) {
    if (options[key] !== value) throw new Error(`tsconfd's bundled proto loader expects etcd3's option ${key}: ${String(value)}`);
  }
  const definition = {};
  for (const [serviceName, methods] of services) {
    const service = {};
    for (const [name, requestType, responseType, requestStream, responseStream, originalName] of methods) {
      const request = codec(requestType, options);
      const response = codec(responseType, options);
      service[name] = {
        path: `/${serviceName}/${name}`,
        requestStream,
        responseStream,
        requestSerialize: request.serialize,
        requestDeserialize: request.deserialize,
        responseSerialize: response.serialize,
        responseDeserialize: response.deserialize,
        originalName,
        // Descriptors are for reflection servers, which a client never needs.
        requestType: { format: 'Protocol Buffer 3 DescriptorProto', type: requestType },
        responseType: { format: 'Protocol Buffer 3 DescriptorProto', type: responseType },
        options: {},
      };
    }
    definition[serviceName] = service;
  }
  return definition;
}

module.exports = { loadSync };
