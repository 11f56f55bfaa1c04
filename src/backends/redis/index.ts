// The redis backend (-backend redis), read as confd reads it (read.ts) over connections made as
// confd makes them (connection.ts); -watch follows keyspace notifications (watch.ts).
// ioredis is loaded only with this module, which backends/index.ts imports only when redis is
// chosen (a separate bundle, dist/ioredis.cjs).
import ioredis from 'ioredis';
import type { Logger } from '../../log.js';
import type { ChangeFeedBackend, KeyValue, Snapshot } from '../types.js';
import { compareByKey } from '../../keys/index.js';
import { connectFirst, describeError, parseRedisNode, type Connected, type RedisConnectOptions } from './connection.js';
import { KeyMapping, readKey } from './read.js';
import { RedisFeeds } from './watch.js';

export interface RedisBackendOptions {
  /** At least one (backends/index.ts gives confd's default). */
  nodes: readonly string[];
  /** -password / CONFD_PASSWORD / confd.toml password. */
  password: string;
  /** confd hands -client-key to redis as its password; used when no -password is given. */
  clientKey: string;
  username: string;
  separator: string;
  /** -interval in seconds: -watch's full re-read, the fallback when keyspace notifications are off. */
  intervalSeconds: number;
  log?: Logger;
}

export async function createRedisBackend(opts: RedisBackendOptions): Promise<ChangeFeedBackend> {
  let password = opts.password;
  if (password === '' && opts.clientKey !== '') {
    opts.log?.warning('redis: using the -client-key value as the redis password, as confd does; prefer -password (or CONFD_PASSWORD, or password in confd.toml)');
    password = opts.clientKey;
  }
  const connectOptions: RedisConnectOptions = {
    nodes: opts.nodes.map(parseRedisNode),
    password,
    username: opts.username,
    Redis: ioredis.Redis,
  };
  const mapping = new KeyMapping(opts.separator);
  // confd connects when it starts and stops if no node answers.
  let commands: Connected | undefined = await connectFirst(connectOptions, 'commands');
  opts.log?.debug(`redis: connected to ${commands.node.label}`);
  let connecting: Promise<Connected> | undefined;
  /** The command connection; a broken one is replaced, trying the nodes in order again (confd's PING-then-reconnect). */
  const client = async () => {
    if (commands?.client.status === 'ready') return commands.client;
    commands?.client.disconnect();
    commands = undefined;
    connecting ??= connectFirst(connectOptions, 'commands').finally(() => (connecting = undefined));
    commands = await connecting;
    opts.log?.info(`redis: connected to ${commands.node.label}`);
    return commands.client;
  };
  let warnedSkipped = false;
  const read = async (prefixes: readonly string[]): Promise<KeyValue[]> => {
    const redis = await client();
    const all = new Map<string, string>();
    for (const prefix of prefixes) {
      const r = await readKey(redis, mapping, prefix);
      for (const kv of r.kvs) all.set(kv.key, kv.value);
      if (r.mode === 'scan' && r.skipped > 0 && !warnedSkipped) {
        warnedSkipped = true;
        opts.log?.warning(
          `redis: ${r.skipped} key(s) under ${prefix} hold a hash, list or set and are not read, as confd does not read them ` +
            '(confd reads a hash only when a resource key names it exactly)',
        );
      }
    }
    return [...all].map(([key, value]) => ({ key, value })).sort(compareByKey);
  };
  const feeds = new RedisFeeds({
    connect: () => connectFirst(connectOptions, 'subscriber'),
    client,
    mapping,
    intervalSeconds: opts.intervalSeconds,
    log: opts.log,
  });
  return {
    name: 'redis',
    changeFeed: 'prefix-changed',
    async getValues(prefixes: readonly string[]): Promise<Snapshot> {
      try {
        return { kvs: await read(prefixes), revision: 0 };
      } catch (e) {
        const msg = describeError(e as Error);
        throw new Error(msg.startsWith('redis: ') ? msg : `redis: ${msg}`);
      }
    },
    watchChanges: (prefix, handlers) => feeds.watch(prefix, handlers),
    requestProgress: () => feeds.requestProgress(),
    async close(): Promise<void> {
      await feeds.close();
      commands?.client.disconnect();
      commands = undefined;
    },
  };
}
