// The one small interface every backend implements. The runtime asks for whole key
// prefixes; a backend answers with every key equal to a prefix or below it ("/app" covers
// "/app" and "/app/x", never "/apple"), read at one consistent revision where the store has one.

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface Snapshot {
  /** Keys sorted by byte order, no duplicates. */
  readonly kvs: KeyValue[];
  /** The store revision the read was made at (etcd's header revision); 0 where the backend has none. */
  readonly revision: number;
  /**
   * Prefixes that could not be read, with why (a ZooKeeper key that does not exist, which confd
   * reports as an error of the resource naming it): those resources fail, the others render.
   */
  readonly unreadable?: ReadonlyMap<string, string>;
}

export interface Backend {
  readonly name: string;
  /**
   * How it follows changes under -watch (backends/definition.ts: ChangeFeedKind); absent on a backend
   * that only reads (etcd's -onetime client), which -watch refuses.
   */
  readonly changeFeed?: 'revisioned' | 'prefix-changed' | 'none';
  /** Every key equal to one of the prefixes or below it ("prefix/..."), at one revision. */
  getValues(prefixes: readonly string[]): Promise<Snapshot>;
  close(): Promise<void>;
}

/** One change under a watched prefix, in etcd's revision order. */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** "" for deletes. */
  readonly value: string;
  /** The revision that made the change (etcd's mod_revision). */
  readonly revision: number;
}

export interface PrefixWatchHandlers {
  /** Changes in revision order; everything up to `revision` has now been delivered. */
  onEvents(events: readonly WatchEvent[], revision: number): void;
  /**
   * The watch is alive and the store is at `revision`. Without `hint`, everything up to `revision`
   * has been delivered to this watch. With `hint`, events at or below it may still arrive: etcd
   * before 3.4.24/3.5.8 answers a progress request with the head revision even while a watch is
   * catching up or its events are still queued on the stream (etcd #15220).
   */
  onProgress(revision: number, hint?: boolean): void;
  /**
   * Nothing more is expected up to `revision`, judged without the server's confirmation (etcd's
   * grpc-proxy answers no progress request: a quiet stream stands in). A hint like
   * onProgress(revision, true): proves neither freshness nor that every event up to it arrived.
   */
  onCaughtUp?(revision: number): void;
  /**
   * The history from the watch's revision is gone (compacted away, or the store was rebuilt and its
   * revisions restarted below it); the watch has ended. Re-read, then watch again.
   */
  onCompacted(compactRevision: number): void;
  /** The connection broke (with the error), or it is back and the watch re-established (undefined). */
  onConnection(error: Error | undefined): void;
}

export interface PrefixWatch {
  /** Stops the watch; resolves once the server confirmed or the stream is gone. */
  cancel(): Promise<void>;
}

/** A backend that streams revisioned events (etcd v3). */
export interface WatchableBackend extends Backend {
  readonly changeFeed: 'revisioned';
  /** Watches every key `prefix` covers, from `fromRevision` (inclusive), resuming by itself after reconnects. */
  watchPrefix(prefix: string, fromRevision: number, handlers: PrefixWatchHandlers): PrefixWatch;
  /**
   * Asks the server to confirm every watch is current (answered through onProgress, or onCaughtUp
   * where the server cannot). With `freshWithinMs`, a backend that can prove freshness only by a
   * read does one when its last proof is older than that (answered through onConnection).
   */
  requestProgress(freshWithinMs?: number): void;
  /**
   * The prefixes as they were at `revision` (a past or the current revision, not a future one),
   * in one consistent read. A backend whose progress answers can be mere hints has it: a resource
   * spanning several prefixes confirms a lagging prefix with it instead of trusting a hint.
   */
  getValuesAt?(prefixes: readonly string[], revision: number): Promise<Snapshot>;
  /**
   * Whether, right now, an answer to requestProgress would settle every watch (no hint): then a
   * lagging prefix is confirmed by asking for progress first, by a read only if that takes long.
   * Absent: answers settle, unless the backend has getValuesAt.
   */
  progressSettles?(): boolean;
}

export function isWatchable(backend: Backend): backend is WatchableBackend {
  return backend.changeFeed === 'revisioned';
}

/** One key re-read after its server said it changed. */
export interface KeyChange {
  readonly key: string;
  /** undefined: the key is gone (or no longer holds a value the backend reads). */
  readonly value: string | undefined;
}

/**
 * What a backend without revisions tells a watched prefix (redis keyspace notifications, ZooKeeper
 * watches). Such a server says "this changed", not "here is event N"; the backend re-reads what
 * changed, as it reads a key for getValues, and hands over the result. Calls come in the order
 * the backend made its reads, so the last one is the newest.
 */
export interface ChangeFeedHandlers {
  /**
   * Everything the prefix holds now, read afresh: once when the feed is live (covering changes
   * between the caller's read and the subscription) and after every reconnect (notifications
   * were lost while disconnected).
   */
  onSnapshot(kvs: KeyValue[]): void;
  /** Keys re-read after a notification, in the order they were read. */
  onKeys(changes: readonly KeyChange[]): void;
  /**
   * The prefix cannot be read (a ZooKeeper key that does not exist, or no longer): resources
   * naming it keep their files and do not render until an onSnapshot comes.
   */
  onUnreadable(error: Error): void;
  /** The feed answered a liveness check: nothing under the prefix changed unseen (answers requestProgress). */
  onAlive(): void;
  /** The connection broke (with the error), or it is back (undefined; an onSnapshot follows). */
  onConnection(error: Error | undefined): void;
}

/** A backend that watches by "prefix changed" notifications instead of revisioned events (file, redis, ZooKeeper). */
export interface ChangeFeedBackend extends Backend {
  readonly changeFeed: 'prefix-changed';
  /** Follows every key `prefix` covers, re-subscribing by itself after reconnects. */
  watchChanges(prefix: string, handlers: ChangeFeedHandlers): PrefixWatch;
  /** Asks every feed to confirm it is live (answered through onAlive). */
  requestProgress(): void;
}

export function hasChangeFeed(backend: Backend): backend is ChangeFeedBackend {
  return backend.changeFeed === 'prefix-changed';
}

/**
 * A backend whose data cannot change while the process runs (the environment): -watch reads it
 * once, renders, and waits, as confd's env WatchPrefix blocks until stopped.
 */
export interface StaticBackend extends Backend {
  readonly changeFeed: 'none';
}

export function isStatic(backend: Backend): backend is StaticBackend {
  return backend.changeFeed === 'none';
}
