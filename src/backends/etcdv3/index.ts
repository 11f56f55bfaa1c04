// The etcdv3 backend. Loaded with `await import()` by the backend factory, so etcd3 and grpc
// (~180 ms to load) cost nothing when another backend is used.
import type { PrefixWatch, PrefixWatchHandlers, Snapshot, WatchableBackend } from '../types.js';
import { EtcdConnection, type EtcdConnectionOptions } from './connection.js';
import { readPrefixes } from './read.js';
import { WatchHub, type WatchHubOptions, type WatchLayout } from './watch.js';
import type { TimerSource } from '../../time/timers.js';

export interface EtcdV3BackendOptions extends EtcdConnectionOptions {
  watch?: WatchHubOptions;
  /** The runtime's scheduler: the watch's reconnects and protocol timers. */
  timers?: TimerSource;
}

export interface EtcdV3Backend extends WatchableBackend {
  readonly connection: EtcdConnection;
  getValuesAt(prefixes: readonly string[], revision: number): Promise<Snapshot>;
  progressSettles(): boolean;
  /** How the last prefixes laid out share etcd watchers (undefined before any watch). */
  watchLayout(): WatchLayout | undefined;
}

export async function createEtcdV3Backend(opts: EtcdV3BackendOptions): Promise<EtcdV3Backend> {
  const connection = new EtcdConnection(opts);
  let hub: WatchHub | undefined;
  return {
    name: 'etcdv3',
    changeFeed: 'revisioned',
    connection,
    getValues(prefixes: readonly string[]): Promise<Snapshot> {
      return readPrefixes(connection, prefixes);
    },
    getValuesAt(prefixes: readonly string[], revision: number): Promise<Snapshot> {
      return readPrefixes(connection, prefixes, undefined, revision);
    },
    watchPrefix(prefix: string, fromRevision: number, handlers: PrefixWatchHandlers): PrefixWatch {
      hub ??= new WatchHub(connection, { timers: opts.timers, ...opts.watch });
      return hub.watch(prefix, fromRevision, handlers);
    },
    progressSettles(): boolean {
      return hub?.progressSettles() ?? false;
    },
    watchLayout(): WatchLayout | undefined {
      return hub?.layout;
    },
    requestProgress(freshWithinMs?: number): void {
      hub?.requestProgress(freshWithinMs);
    },
    async close(): Promise<void> {
      // Watchers first: etcd3's close() hangs while a watch stream is open.
      await hub?.close();
      connection.close();
    },
  };
}

export { EtcdConnection, EtcdError, parseNode } from './connection.js';
export type { EtcdConnectionOptions } from './connection.js';
export type { WatchHubOptions, WatchLayout } from './watch.js';
