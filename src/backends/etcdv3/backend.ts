// etcd v3 in the registry: -backend etcdv3 (or etcd, as confd accepts both). -onetime reads with a
// small client over node:http2 (unary.ts); -watch and -interval load etcd3 and grpc (~180 ms).
import { defineBackend } from '../definition.js';
import {
  BASIC_AUTH_OPTION,
  CLIENT_CA_KEYS_OPTION,
  CLIENT_CERT_OPTION,
  CLIENT_INSECURE_OPTION,
  CLIENT_KEY_OPTION,
  NODE_OPTION,
  PASSWORD_OPTION,
  USERNAME_OPTION,
} from '../options.js';

export const DEFAULT_ETCD_NODE = 'http://127.0.0.1:2379';

export const etcdv3Backend = defineBackend({
  names: ['etcdv3', 'etcd'],
  options: [NODE_OPTION, CLIENT_CERT_OPTION, CLIENT_KEY_OPTION, CLIENT_CA_KEYS_OPTION, CLIENT_INSECURE_OPTION, BASIC_AUTH_OPTION, USERNAME_OPTION, PASSWORD_OPTION],
  defaultNode: DEFAULT_ETCD_NODE,
  changeFeed: 'revisioned',
  async create(opts, { nodes, log }) {
    const connection = {
      nodes,
      clientCert: opts.clientCert,
      clientKey: opts.clientKey,
      clientCaKeys: opts.clientCaKeys,
      clientInsecure: opts.clientInsecure,
      basicAuth: opts.basicAuth,
      username: opts.username,
      password: opts.password,
      logger: log,
    };
    if (opts.onetime) return (await import('./unary.js')).createEtcdV3ReadBackend(connection);
    return (await import('./index.js')).createEtcdV3Backend(connection);
  },
});
