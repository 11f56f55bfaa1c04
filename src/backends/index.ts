// Picks a backend by name from the registry (registry.ts). Each backend is imported only when
// chosen: etcd's client (grpc, protobuf) costs ~180 ms to load, the YAML parser ~250 KB, ioredis
// and node-zookeeper-client are bundles of their own.
import type { Backend } from './types.js';
import type { Logger } from '../log.js';
import { BACKENDS, findBackend, type BackendOptions } from './registry.js';
import type { TimerSource } from '../time/timers.js';

export type { Backend, KeyValue, Snapshot } from './types.js';

export type { BackendOptions, BackendSettings } from './registry.js';
export { backendDefaults, backendOptionSpecs } from './registry.js';

/** The backends tsconfd implements (every name of each, from the registry): the one list that -h, -backend's check and its errors read. */
export const BACKEND_NAMES: readonly string[] = BACKENDS.flatMap((b) => b.names);

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
  return findBackend(backend)?.stripsKeyWildcards ?? false;
}

export { DEFAULT_ETCD_NODE } from './etcdv3/backend.js';

/** The nodes a backend will talk to, with confd's default when none are given. */
export function backendNodes(opts: Pick<BackendOptions, 'backend' | 'nodes'>): string[] {
  if (opts.nodes.length > 0) return [...opts.nodes];
  const fallback = findBackend(opts.backend)?.defaultNode;
  return fallback === undefined ? [] : [fallback];
}

export async function createBackend(opts: BackendOptions, log?: Logger, timers?: TimerSource): Promise<Backend> {
  const definition = findBackend(opts.backend);
  if (!definition) throw new Error(unsupportedBackend(opts.backend) ?? `Invalid backend: ${opts.backend}`);
  const backend = await definition.create(opts, { nodes: backendNodes(opts), log, timers });
  // A read-only backend (-onetime) has no feed; any other follows the kind its folder declares.
  if (backend.changeFeed !== undefined && backend.changeFeed !== definition.changeFeed) {
    await backend.close();
    throw new Error(`backend ${definition.names[0]}: declares a ${definition.changeFeed} change feed but created a ${backend.changeFeed} one`);
  }
  return backend;
}
