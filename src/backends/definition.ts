// What a backend declares about itself in its own folder (<name>/backend.ts), and what the
// registry (registry.ts) reads: its names, the settings it uses, its default node, how it follows
// changes, and a factory that loads the backend's code (and its client) only when it is chosen.
import type { Logger } from '../log.js';
import type { TimerSource } from '../time/timers.js';
import type { Backend } from './types.js';
import type { BackendOptionSpec, SettingsOf } from './options.js';

/**
 * What every backend is handed besides the options it declares: these belong to the run, not to a
 * backend (cli/options.ts declares them).
 */
export interface RunSettings {
  backend: string;
  /** -interval (seconds): redis -watch says it falls back to this re-read when notifications are off. */
  interval: number;
  /** -onetime: the backend only reads (etcd: a small client over node:http2 instead of etcd3's). */
  onetime?: boolean;
}

/**
 * How a backend follows changes under -watch; the runtime handles each kind (runtime/mirror.ts):
 * - "revisioned": a stream of events, each with the store revision that made it (etcd); applied to
 *   the mirror, which reads again only when the history is compacted away.
 * - "prefix-changed": the server says "something under P changed" (file system events, redis
 *   keyspace notifications, ZooKeeper watches); the backend re-reads what changed and hands over
 *   the keys. No revisions: such a mirror stays at revision 0.
 * - "none": the data cannot change while the process runs (the environment): read once.
 */
export type ChangeFeedKind = 'revisioned' | 'prefix-changed' | 'none';

export interface BackendContext {
  /** -node, or the backend's default node when none is given. */
  nodes: string[];
  log?: Logger;
  /** The runtime's scheduler, which the backend's reconnects and retries go through (the host's timers without it). */
  timers?: TimerSource;
}

export interface BackendDefinition<K extends ChangeFeedKind = ChangeFeedKind, O extends readonly BackendOptionSpec[] = readonly BackendOptionSpec[]> {
  /** -backend values that choose it, the canonical one first (etcdv3 is also "etcd", as in confd). */
  readonly names: readonly string[];
  /**
   * The settings it reads (flags, CONFD_* variables, confd.toml keys, defaults): cli/options.ts
   * lists them all, and its Options type and defaults come from them (registry.ts).
   */
  readonly options: O;
  /** confd's node when no -node is given. */
  readonly defaultNode?: string;
  /** confd's client removes every "/*" from a key before reading it (confd's redis and zookeeper clients). */
  readonly stripsKeyWildcards?: boolean;
  readonly changeFeed: K;
  /**
   * Loads the backend's module (and so its client) and creates it from the settings it declared:
   * a backend whose changeFeed is the declared kind, or (opts.onetime) one that only reads.
   */
  create(opts: SettingsOf<O> & RunSettings, context: BackendContext): Promise<Backend>;
}

/** Types a backend's declaration (its options keep their keys and types, for the settings they give). */
export function defineBackend<K extends ChangeFeedKind, const O extends readonly BackendOptionSpec[]>(definition: BackendDefinition<K, O>): BackendDefinition<K, O> {
  return definition;
}
