// The etcdv3 backend. Loaded with `await import()` by the backend factory, so etcd3 and grpc
// (~180 ms to load) cost nothing when another backend is used.
import type { Backend, Snapshot } from '../types.js';
import { EtcdConnection, type EtcdConnectionOptions } from './connection.js';
import { readPrefixes } from './read.js';

export type EtcdV3BackendOptions = EtcdConnectionOptions;

export interface EtcdV3Backend extends Backend {
  readonly connection: EtcdConnection;
}

export async function createEtcdV3Backend(opts: EtcdV3BackendOptions): Promise<EtcdV3Backend> {
  const connection = new EtcdConnection(opts);
  return {
    name: 'etcdv3',
    connection,
    getValues(prefixes: readonly string[]): Promise<Snapshot> {
      return readPrefixes(connection, prefixes);
    },
    async close(): Promise<void> {
      connection.close();
    },
  };
}

export { EtcdConnection, EtcdError, parseNode } from './connection.js';
export type { EtcdConnectionOptions } from './connection.js';
