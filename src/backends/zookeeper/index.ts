// The ZooKeeper backend (-backend zookeeper), read as confd reads it (read.ts) over one session
// (session.ts); -watch follows ZooKeeper's one-shot watches (watch.ts). node-zookeeper-client (pure
// JavaScript) is loaded only with this module, which backends/index.ts imports only when zookeeper is
// chosen (a separate bundle, dist/zookeeper.cjs).
import zk from 'node-zookeeper-client';
import { maskUserinfo, type Logger } from '../../log.js';
import { compareByKey, stripWildcard } from '../../keys/index.js';
import type { ChangeFeedBackend, Snapshot } from '../types.js';
import { readKey } from './read.js';
import { ZkError, ZkSession } from './session.js';
import { ZkFeeds } from './watch.js';

export interface ZookeeperBackendOptions {
  /** host:port, several allowed (one session); at least one (backends/index.ts gives confd's default). */
  nodes: readonly string[];
  log?: Logger;
}

export function createZookeeperBackend(opts: ZookeeperBackendOptions): ChangeFeedBackend {
  const nodes = opts.nodes;
  if (nodes.length === 0) throw new Error('zookeeper: no -node given');
  for (const n of nodes) {
    // node-zookeeper-client splits at every ':' and throws from a socket callback on a bad port (an
    // uncaught crash), so only a plain host (or [IPv6]) and a port in range get through; a user:password@
    // (not a ZooKeeper node form) is masked in the message.
    const m = /^(?:\[[0-9a-fA-F:.]+\]|[^\s/,:@[\]]+):(\d{1,5})$/.exec(n);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) {
      throw new Error(`zookeeper: invalid -node ${JSON.stringify(maskUserinfo(n))}: expected host:port`);
    }
  }
  const session = new ZkSession(zk, nodes.join(','), opts.log);
  const feeds = new ZkFeeds(session, opts.log);
  return {
    name: 'zookeeper',
    changeFeed: 'prefix-changed',
    async getValues(prefixes: readonly string[]): Promise<Snapshot> {
      await session.ready();
      const all = new Map<string, string>();
      // A key that does not exist fails the resources naming it (confd's "node does not exist"), not the others.
      const unreadable = new Map<string, string>();
      for (const prefix of prefixes) {
        try {
          for (const kv of await readKey(session, prefix)) all.set(kv.key, kv.value);
        } catch (e) {
          if (!(e instanceof ZkError && e.noNode && e.path === stripWildcard(prefix))) throw e;
          unreadable.set(prefix, e.message);
        }
      }
      const kvs = [...all].map(([key, value]) => ({ key, value })).sort(compareByKey);
      return unreadable.size > 0 ? { kvs, revision: 0, unreadable } : { kvs, revision: 0 };
    },
    watchChanges: (prefix, handlers) => feeds.watch(prefix, handlers),
    requestProgress: () => feeds.requestProgress(),
    async close(): Promise<void> {
      feeds.close();
      session.close();
    },
  };
}
