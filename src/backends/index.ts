// Picks a backend by name. Each backend is imported only when chosen: etcd's client (grpc,
// protobuf) costs ~180 ms to load, the YAML parser ~250 KB, ioredis and node-zookeeper-client
// are bundles of their own.
import type { Backend } from './types.js';
import type { Logger } from '../log.js';
import type { TimerSource } from '../time/timers.js';

export type { Backend, KeyValue, Snapshot } from './types.js';

export interface BackendOptions {
  backend: string;
  nodes: readonly string[];
  clientCert: string;
  clientKey: string;
  clientCaKeys: string;
  clientInsecure: boolean;
  basicAuth: boolean;
  username: string;
  password: string;
  files: readonly string[];
  filter: string;
  /** redis: confd's -separator ('' or '/': keys as they are). */
  separator: string;
  /** -interval (seconds): redis -watch says it falls back to this re-read when notifications are off. */
  interval: number;
  /** -onetime: the backend only reads (etcd: a small client over node:http2 instead of etcd3's). */
  onetime?: boolean;
}

/** The backends tsconfd implements: the one list that -h, -backend's check and its errors read. */
export const BACKEND_NAMES = ['etcdv3', 'etcd', 'file', 'env', 'redis', 'zookeeper'] as const;

/** confd's backends (its backends/client.go); those not in BACKEND_NAMES are "not supported by tsconfd". */
export const CONFD_BACKEND_NAMES = ['consul', 'dynamodb', 'etcd', 'etcdv3', 'env', 'file', 'redis', 'ssm', 'vault', 'zookeeper'] as const;

/** Why `name` cannot be used, or undefined when tsconfd implements it. */
export function unsupportedBackend(name: string): string | undefined {
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return undefined;
  const supported = BACKEND_NAMES.join(', ');
  if ((CONFD_BACKEND_NAMES as readonly string[]).includes(name)) {
    return `backend "${name}" is not supported by tsconfd (supported: ${supported})`;
  }
  return `Invalid backend: ${name} (supported: ${supported})`;
}

/** Whether the backend removes every "/*" from a key before reading it (confd's redis and zookeeper clients do). */
export function stripsKeyWildcards(backend: string): boolean {
  return backend === 'redis' || backend === 'zookeeper';
}

export const DEFAULT_ETCD_NODE = 'http://127.0.0.1:2379';

/** confd's node for each backend when no -node is given. */
const DEFAULT_NODES: Readonly<Record<string, string>> = {
  etcd: DEFAULT_ETCD_NODE,
  etcdv3: DEFAULT_ETCD_NODE,
  redis: '127.0.0.1:6379',
  zookeeper: '127.0.0.1:2181',
};

/** The nodes a backend will talk to, with confd's default when none are given. */
export function backendNodes(opts: Pick<BackendOptions, 'backend' | 'nodes'>): string[] {
  if (opts.nodes.length > 0) return [...opts.nodes];
  const fallback = DEFAULT_NODES[opts.backend];
  return fallback === undefined ? [] : [fallback];
}

/** `timers`: the runtime's scheduler, which the backend's reconnects and retries go through (the host's timers without it). */
export async function createBackend(opts: BackendOptions, log?: Logger, timers?: TimerSource): Promise<Backend> {
  switch (opts.backend) {
    case 'etcd':
    case 'etcdv3': {
      const connection = {
        nodes: backendNodes(opts),
        clientCert: opts.clientCert,
        clientKey: opts.clientKey,
        clientCaKeys: opts.clientCaKeys,
        clientInsecure: opts.clientInsecure,
        basicAuth: opts.basicAuth,
        username: opts.username,
        password: opts.password,
        logger: log,
        timers,
      };
      if (opts.onetime) return (await import('./etcdv3/unary.js')).createEtcdV3ReadBackend(connection);
      return (await import('./etcdv3/index.js')).createEtcdV3Backend(connection);
    }
    case 'file': {
      const { createFileBackend } = await import('./file/index.js');
      return createFileBackend({ files: opts.files, filter: opts.filter, log, timers });
    }
    case 'env': {
      const { createEnvBackend } = await import('./env/index.js');
      return createEnvBackend(process.env);
    }
    case 'redis': {
      const { createRedisBackend } = await import('./redis/index.js');
      return createRedisBackend({
        nodes: backendNodes(opts),
        password: opts.password,
        clientKey: opts.clientKey,
        username: opts.username,
        separator: opts.separator,
        intervalSeconds: opts.interval,
        log,
        timers,
      });
    }
    case 'zookeeper': {
      const { createZookeeperBackend } = await import('./zookeeper/index.js');
      return createZookeeperBackend({ nodes: backendNodes(opts), log, timers });
    }
  }
  throw new Error(unsupportedBackend(opts.backend) ?? `Invalid backend: ${opts.backend}`);
}
