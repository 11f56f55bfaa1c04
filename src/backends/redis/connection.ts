// Connections to redis as confd makes them: each -node is `host:port`, `host:port/DB` (database
// number) or the path of a unix socket (a path that exists on disk); they are tried in order and
// the first that connects is used. A connection that breaks is replaced by trying them again.
// ioredis' own reconnecting is off: which node, and when, is decided here.
import { existsSync } from 'node:fs';
import type { Redis as RedisClient, RedisOptions } from 'ioredis';

export interface RedisNode {
  /** As written on the command line (for logs and errors: it holds no secret). */
  readonly label: string;
  readonly db: number;
  readonly options: RedisOptions;
}

export function parseRedisNode(node: string): RedisNode {
  if (existsSync(node)) return { label: node, db: 0, options: { path: node } };
  const m = /^(.*?)(?:\/(\d+))?$/.exec(node)!;
  const address = m[1]!;
  const db = m[2] === undefined ? 0 : Number(m[2]);
  const colon = address.lastIndexOf(':');
  const host = colon < 0 ? address : address.slice(0, colon);
  const portText = colon < 0 ? '6379' : address.slice(colon + 1);
  const port = Number(portText);
  if (host === '' || !/^\d+$/.test(portText) || port <= 0 || port > 65535) {
    throw new Error(`redis: invalid -node ${JSON.stringify(node)}: expected host:port, host:port/DB or the path of a unix socket`);
  }
  return { label: node, db, options: { host: host.replace(/^\[(.*)\]$/, '$1'), port, db } };
}

export interface RedisConnectOptions {
  nodes: readonly RedisNode[];
  password: string;
  username: string;
  /** ioredis' constructor, loaded lazily by the caller. */
  Redis: typeof RedisClient;
}

export interface Connected {
  readonly client: RedisClient;
  readonly node: RedisNode;
}

const CONNECT_TIMEOUT_MS = 1_000;
/** confd's reads have a 1 s timeout; a whole SCAN of a large database is many commands, each bounded. */
const COMMAND_TIMEOUT_MS = 5_000;

/** Makes one connection, trying the nodes in order; the error names every node and why it failed. */
export async function connectFirst(opts: RedisConnectOptions, purpose: 'commands' | 'subscriber'): Promise<Connected> {
  const failures: string[] = [];
  for (const node of opts.nodes) {
    const client = new opts.Redis({
      ...node.options,
      password: opts.password === '' ? undefined : opts.password,
      username: opts.username === '' ? undefined : opts.username,
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: purpose === 'commands' ? COMMAND_TIMEOUT_MS : undefined,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      autoResubscribe: false,
      connectionName: `tsconfd-${purpose}`,
    });
    let lastError: Error | undefined;
    client.on('error', (e: Error) => (lastError = e));
    try {
      await client.connect();
      return { client, node };
    } catch (e) {
      client.disconnect();
      failures.push(`${node.label}: ${describeError(lastError ?? (e as Error))}`);
    }
  }
  throw new Error(`redis: cannot connect to ${opts.nodes.length === 1 ? 'the node' : 'any node'} (${failures.join('; ')})`);
}

/** A short, clear reason; the password is never part of it (redis does not echo it). */
export function describeError(e: Error): string {
  const msg = e.message;
  if (msg.startsWith('WRONGPASS')) return 'wrong password or username (WRONGPASS): check -password (or confd\'s -client-key)';
  if (msg.startsWith('NOAUTH')) return 'the server requires a password (NOAUTH): set -password (or confd\'s -client-key)';
  return msg;
}
