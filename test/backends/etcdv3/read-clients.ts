// The two clients that read etcd: etcd3's (-watch, -interval) and the node:http2 one (-onetime,
// unary.ts). The read tests run against each, so both keep the same promises and error texts.
import type { Backend } from '../../../src/backends/types.js';
import type { EtcdConnectionOptions } from '../../../src/backends/etcdv3/endpoints.js';
import { createEtcdV3Backend } from '../../../src/backends/etcdv3/index.js';
import { createEtcdV3ReadBackend } from '../../../src/backends/etcdv3/unary.js';

export type CreateReadBackend = (opts: EtcdConnectionOptions) => Promise<Backend>;

export const READ_CLIENTS: ReadonlyArray<readonly [string, CreateReadBackend]> = [
  ['etcd3', createEtcdV3Backend],
  ['node:http2', createEtcdV3ReadBackend],
];
