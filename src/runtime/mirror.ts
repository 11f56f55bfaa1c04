// In-memory mirrors of the backend for -watch: one per distinct key prefix the resources use.
// Each is a range read at revision R, then a watch from R+1; every event is applied here and
// resources render from these maps, never by re-reading the backend (except one read of a prefix
// to confirm it at a revision, for a resource spanning several prefixes: see consistent()). A compaction past the
// watch's revision, or a periodic reconciliation, re-reads the prefix and continues from there.
// A backend without revisions (file, redis, ZooKeeper: a "prefix-changed" feed) feeds the mirror its own re-reads
// instead: whole-prefix snapshots when its feed starts or reconnects, and keys re-read after a
// notification; such a mirror stays at revision 0.
import { hasChangeFeed, type ChangeFeedBackend, type KeyChange, type KeyValue, type PrefixWatch, type Snapshot, type WatchableBackend, type WatchEvent } from '../backends/types.js';
import { compareByKey, covers, lowerBoundKey, minimalCover } from '../keys/index.js';
import type { Logger } from '../log.js';
import { backoffDelay, defaultScheduler, type Timer } from './scheduler.js';
import { MirrorViews } from './views.js';

export interface MirrorChange {
  readonly prefix: string;
  /** Keys whose value changed, appeared or disappeared. */
  readonly keys: readonly string[];
  /** The new value of each key, same order (undefined: deleted). */
  readonly values: readonly (string | undefined)[];
  readonly revision: number;
  /** Why: a watch event, or a (re-)read of the whole prefix. */
  readonly cause: 'event' | 'read';
}

export interface MirrorStatus {
  readonly prefix: string;
  readonly inSync: boolean;
  readonly connected: boolean;
  readonly revision: number;
  readonly keyCount: number;
  /** Milliseconds since etcd last confirmed this mirror is current (event, progress or read). */
  readonly ageMs: number;
}

/** The entries of byte-ordered `kvs` that `prefix` covers. */
function coveredBy(kvs: readonly KeyValue[], prefix: string): KeyValue[] {
  const out: KeyValue[] = [];
  for (let i = lowerBoundKey(kvs, prefix); i < kvs.length && kvs[i]!.key.startsWith(prefix); i++) {
    if (covers(prefix, kvs[i]!.key)) out.push(kvs[i]!);
  }
  return out;
}

export class PrefixMirror {
  /**
   * The prefix's keys in byte order. Entries are never mutated (a change replaces the object), so
   * a render can take a cheap copy of the array: at 100k keys, building new objects per render
   * cost ~90 ms, a slice well under 1 ms.
   */
  private entries: KeyValue[] = [];
  private watch: PrefixWatch | undefined;
  private resyncing: Promise<void> | undefined;
  private closed = false;
  /** Newest revision seen: events, reads and progress answers, hints too (status and freshness). */
  revision = 0;
  /**
   * Every event up to this revision is in the map: events, reads and progress answers that are no
   * mere hints. The consistency barrier trusts only this.
   */
  settled = 0;
  /** Revision of the last full read: events up to it are already in the maps. */
  private readRevision = 0;
  inSync = false;
  connected = false;
  lastFreshAt = 0;

  constructor(
    readonly prefix: string,
    private readonly backend: WatchableBackend | ChangeFeedBackend,
    private readonly log: Logger,
    private readonly emit: (change: MirrorChange) => void,
    /** Called whenever `revision` moved (events, progress, reads). */
    private readonly advanced: () => void = () => undefined,
    private readonly retryMs: { min: number; max: number } = { min: 200, max: 5_000 },
  ) {}

  get keyCount(): number {
    return this.entries.length;
  }

  /** Reads the prefix (retrying with backoff until it works or the mirror is closed), then watches from there. */
  resync(): Promise<void> {
    this.resyncing ??= this.doResync().finally(() => {
      this.resyncing = undefined;
    });
    return this.resyncing;
  }

  /** Stops the watch, before a read that will replace the contents. */
  async pause(): Promise<void> {
    const old = this.watch;
    this.watch = undefined;
    await old?.cancel();
  }

  private async doResync(): Promise<void> {
    await this.pause();
    await retryRead(`reading ${this.prefix}`, async () => this.adopt(await this.backend.getValues([this.prefix])), () => this.closed, this.log, this.retryMs);
  }

  /** Takes a read of the prefix at `snap.revision` and watches from the next revision. */
  adopt(snap: Snapshot): void {
    if (this.closed) return;
    // A compaction re-read and a reconciliation may overlap: only the newest watch stays.
    void this.watch?.cancel();
    this.replace(snap);
    for (const [prefix, error] of snap.unreadable ?? []) if (covers(prefix, this.prefix)) this.unreadable(error);
    if (hasChangeFeed(this.backend)) {
      this.watch = this.subscribe(this.backend, () => undefined);
      return;
    }
    this.watch = this.backend.watchPrefix(this.prefix, snap.revision + 1, {
          onEvents: (events, revision) => this.apply(events, revision),
          onProgress: (revision, hint) => this.progress(revision, hint),
          onCaughtUp: (revision) => this.caughtUp(revision),
          onCompacted: () => {
            this.inSync = false;
            this.watch = undefined;
            void this.resync();
          },
          onConnection: (error) => this.connection(error),
        });
  }

  /**
   * A change-feed backend (redis, ZooKeeper): subscribes, and resolves on the feed's first answer
   * (a whole read of the prefix, or "cannot be read"). That first snapshot is the start-up read:
   * reading before subscribing as well doubled it (a medium ZooKeeper tree: ~0.3-1 s of walking
   * that delayed the first changes after start).
   */
  startFeed(): Promise<void> {
    if (this.closed || !hasChangeFeed(this.backend)) return Promise.resolve();
    const backend = this.backend;
    void this.watch?.cancel();
    return new Promise((resolve) => {
      this.firstAnswer = resolve;
      this.watch = this.subscribe(backend, () => {
        this.firstAnswer = undefined;
        resolve();
      });
    });
  }

  private firstAnswer: (() => void) | undefined;

  private subscribe(backend: ChangeFeedBackend, answered: () => void): PrefixWatch {
    return backend.watchChanges(this.prefix, {
      onSnapshot: (kvs) => {
        this.replace({ kvs, revision: 0 });
        answered();
      },
      onKeys: (changes) => this.applyChanges(changes, 0),
      onUnreadable: (error) => {
        this.unreadable(error.message);
        answered();
      },
      onAlive: () => this.progress(0),
      onConnection: (error) => this.connection(error),
    });
  }

  /** The prefix cannot be read (a ZooKeeper key that does not exist): no render from it until a snapshot comes. */
  private unreadable(reason: string): void {
    if (this.inSync) this.log.debug(`${this.prefix}: cannot be read (${reason}); resources using it keep their files`);
    this.inSync = false;
    this.connected = true;
    this.lastFreshAt = Date.now();
    this.advanced();
  }

  private connection(error: Error | undefined): void {
    this.connected = error === undefined;
    if (error === undefined) this.lastFreshAt = Date.now();
  }

  /** The keys whose value differs between the map and `kvs` (a whole prefix), with their values in `kvs`. */
  private differences(kvs: readonly KeyValue[]): { changed: string[]; values: Array<string | undefined> } {
    const changed: string[] = [];
    const values: Array<string | undefined> = [];
    const old = new Map(this.entries.map((kv) => [kv.key, kv.value]));
    for (const kv of kvs) {
      if (old.get(kv.key) !== kv.value || !old.has(kv.key)) {
        changed.push(kv.key);
        values.push(kv.value);
      }
      old.delete(kv.key);
    }
    for (const key of old.keys()) {
      changed.push(key);
      values.push(undefined);
    }
    return { changed, values };
  }

  private replace(snap: Snapshot): void {
    const { changed, values } = this.differences(snap.kvs);
    this.entries = snap.kvs.slice();
    this.revision = snap.revision;
    this.settled = snap.revision;
    this.readRevision = snap.revision;
    this.inSync = true;
    this.connected = true;
    this.lastFreshAt = Date.now();
    if (changed.length > 0) this.emit({ prefix: this.prefix, keys: changed, values, revision: snap.revision, cause: 'read' });
    this.advanced();
  }

  private apply(events: readonly WatchEvent[], revision: number): void {
    const changed: string[] = [];
    const values: Array<string | undefined> = [];
    for (const e of events) {
      // A re-read already holds everything up to its revision. Replays after a reconnect are
      // harmless: applying the same puts and deletes again in order ends in the same state.
      if (e.revision <= this.readRevision) continue;
      const value = e.type === 'put' ? e.value : undefined;
      if (!this.set(e.key, value)) continue;
      changed.push(e.key);
      values.push(value);
    }
    this.changed(changed, values, revision);
  }

  /** Keys a change feed re-read (no revisions: they come in the order the backend read them). */
  private applyChanges(changes: readonly KeyChange[], revision: number): void {
    const changed: string[] = [];
    const values: Array<string | undefined> = [];
    for (const c of changes) {
      if (!covers(this.prefix, c.key) || !this.set(c.key, c.value)) continue;
      changed.push(c.key);
      values.push(c.value);
    }
    this.changed(changed, values, revision);
  }

  /** Puts (a value) or deletes (undefined) one key; false when that changes nothing. */
  private set(key: string, value: string | undefined): boolean {
    const i = lowerBoundKey(this.entries, key);
    const found = this.entries[i]?.key === key;
    if (value !== undefined) {
      if (!found) this.entries.splice(i, 0, { key, value });
      else if (this.entries[i]!.value === value) return false;
      else this.entries[i] = { key, value };
    } else {
      if (!found) return false;
      this.entries.splice(i, 1);
    }
    return true;
  }

  private changed(changed: string[], values: Array<string | undefined>, revision: number): void {
    if (revision > this.revision) this.revision = revision;
    if (revision > this.settled) this.settled = revision;
    this.lastFreshAt = Date.now();
    this.connected = true;
    if (changed.length > 0) this.emit({ prefix: this.prefix, keys: changed, values, revision: this.revision, cause: 'event' });
    this.advanced();
  }

  private progress(revision: number, hint = false): void {
    if (revision > this.revision) this.revision = revision;
    if (!hint && revision > this.settled) this.settled = revision;
    this.lastFreshAt = Date.now();
    this.connected = true;
    this.advanced();
  }

  /** A hint (a quiet stream): moves the newest revision seen, neither `settled` nor freshness. */
  private caughtUp(revision: number): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    this.advanced();
  }

  /** How many entries `key` covers. */
  count(key: string): number {
    if (key === this.prefix) return this.entries.length;
    let n = 0;
    for (let i = lowerBoundKey(this.entries, key); i < this.entries.length && this.entries[i]!.key.startsWith(key); i++) {
      if (covers(key, this.entries[i]!.key)) n++;
    }
    return n;
  }

  /**
   * Takes a read of the prefix at `snap.revision` as its state there, for the consistency barrier:
   * the watch goes on, events at or below that revision that arrive late are ignored, later ones
   * apply on top. Ignored when the watch's events got there first.
   */
  confirmAt(snap: Snapshot): void {
    if (this.closed || snap.revision <= this.settled) return;
    const { changed, values } = this.differences(snap.kvs);
    this.entries = snap.kvs.slice();
    this.readRevision = snap.revision;
    this.settled = snap.revision;
    if (snap.revision > this.revision) this.revision = snap.revision;
    if (changed.length > 0) {
      this.log.debug(`${this.prefix}: the read at revision ${snap.revision} holds ${changed.length} change(s) its watch had not delivered yet`);
      this.emit({ prefix: this.prefix, keys: changed, values, revision: snap.revision, cause: 'read' });
    }
    this.advanced();
  }

  /** The entries `key` covers, in byte order (a copy: the mirror keeps changing). */
  select(key: string): KeyValue[] {
    return key === this.prefix ? this.entries.slice() : coveredBy(this.entries, key);
  }

  status(now = Date.now()): MirrorStatus {
    return {
      prefix: this.prefix,
      inSync: this.inSync,
      connected: this.connected,
      revision: this.revision,
      keyCount: this.entries.length,
      ageMs: this.lastFreshAt === 0 ? Infinity : now - this.lastFreshAt,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.firstAnswer?.();
    const w = this.watch;
    this.watch = undefined;
    await w?.cancel();
  }
}

/** How long the consistency barrier waits for a progress answer that settles, before it reads instead. */
const PROGRESS_FIRST_MS = 100;

/** The mirrors for a set of resource keys, and views of them per resource. */
export class KeyMirrors {
  readonly mirrors: PrefixMirror[];
  /**
   * The immutable views renders take (views.ts): `views.hold` hands a render the mirrors as they are
   * now. Every change reaches them before onChange hears of it.
   */
  readonly views: MirrorViews;
  private readonly byPrefix: Map<string, PrefixMirror>;
  private waiters: Array<() => boolean> = [];
  private closed = false;

  constructor(
    private readonly backend: WatchableBackend | ChangeFeedBackend,
    keys: readonly string[],
    private readonly log: Logger,
    onChange: (change: MirrorChange) => void,
    /** Called whenever a mirror's revision or state moved (after its change, if any, was emitted). */
    private readonly onAdvanced: () => void = () => undefined,
  ) {
    this.views = new MirrorViews((etcdKeys) => this.snapshot(etcdKeys).kvs);
    const emit = (change: MirrorChange) => {
      this.views.apply(change);
      onChange(change);
    };
    this.mirrors = minimalCover(keys).map((p) => new PrefixMirror(p, backend, log, emit, () => this.advanced()));
    this.byPrefix = new Map(this.mirrors.map((m) => [m.prefix, m]));
  }

  private advanced(): void {
    if (this.waiters.length > 0) this.waiters = this.waiters.filter((done) => !done());
    this.onAdvanced();
  }

  /**
   * Resolves true once every mirror behind `keys` holds one revision: the newest any of them has
   * settled at (every event up to it applied), so a resource spanning several prefixes renders one
   * revision of all of them (a transaction touching two prefixes arrives as two watch responses,
   * and a render may start between them). A lagging mirror is confirmed by one read of its prefix
   * at that revision where the backend can (etcd: its progress answers are mere hints before
   * 3.4.24/3.5.8 and through grpc-proxy never come), otherwise by a progress request. The target
   * moves when events arrive meanwhile; false after `timeoutMs` without a confirmation.
   * A resource reading one prefix (or prefixes that are all settled alike) never waits nor reads.
   */
  async consistent(keys: readonly string[], timeoutMs: number): Promise<boolean> {
    const involved = minimalCover(keys)
      .map((k) => this.mirrorFor(k))
      .filter((m): m is PrefixMirror => m !== undefined);
    const lagging = (): { target: number; behind: PrefixMirror[] } => {
      const target = involved.reduce((max, m) => Math.max(max, m.settled), 0);
      return { target, behind: involved.filter((m) => m.settled < target) };
    };
    const settled = () => lagging().behind.length === 0;
    if (settled()) return true;
    const deadline = Date.now() + timeoutMs;
    const backend = this.backend;
    if (hasChangeFeed(backend) || !backend.getValuesAt) return this.settledBy(settled, deadline);
    // A server whose progress answers settle (etcd 3.4.24+/3.5.8+ directly): ask it first. A read
    // still follows if no answer comes soon: such etcd holds the answer back while any watcher of
    // the stream is unsynced, and some versions for long (a new watcher that matched no event,
    // etcd #17507; a watcher started at a future revision, etcd #20229).
    if (backend.progressSettles?.() && (await this.settledBy(settled, Math.min(deadline, Date.now() + PROGRESS_FIRST_MS)))) return true;
    for (;;) {
      const { target, behind } = lagging();
      if (behind.length === 0) return true;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return false;
      let timer: Timer | undefined;
      const read = backend.getValuesAt(
        behind.map((m) => m.prefix),
        target,
      );
      const answer = await Promise.race([
        read.then(
          (snap) => snap,
          (e: Error) => e,
        ),
        new Promise<undefined>((resolve) => (timer = defaultScheduler.after(left, () => resolve(undefined)))),
      ]);
      timer?.cancel();
      if (answer === undefined) return false;
      if (answer instanceof Error) {
        // The watch may still deliver what is missing; wait for it instead (or the deadline).
        this.log.debug(`confirming ${behind.map((m) => m.prefix).join(', ')} at revision ${target} failed: ${answer.message}`);
        return this.settledBy(settled, deadline);
      }
      this.reads++;
      for (const m of behind) m.confirmAt({ kvs: coveredBy(answer.kvs, m.prefix), revision: target });
    }
  }

  /** Reads made by the consistency barrier (confirmations of a lagging prefix), for tests and figures. */
  reads = 0;

  /** Resolves true once `done()` holds (checked whenever a mirror's revision moves), false at `deadline`. */
  private settledBy(done: () => boolean, deadline: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    this.backend.requestProgress();
    return new Promise((resolve) => {
      // etcd sends a revision's events before its store reaches that revision (watchableStoreTxnWrite.End:
      // notify, then TxnWrite.End), so a progress request that quick may be answered with the one
      // before, and no other answer would come: ask again while waiting (5 ms, 10, ... every 100 ms).
      let askAgain: Timer | undefined;
      const ask = (ms: number) => {
        askAgain = defaultScheduler.after(ms, () => {
          this.backend.requestProgress();
          ask(Math.min(ms * 2, 100));
        });
      };
      ask(5);
      const timer = defaultScheduler.after(Math.max(0, deadline - Date.now()), () => {
        askAgain?.cancel();
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(false);
      });
      const check = () => {
        if (!done()) return false;
        timer.cancel();
        askAgain?.cancel();
        resolve(true);
        return true;
      };
      this.waiters.push(check);
    });
  }

  /** Resolves when every mirror has read its prefix once and is watching. */
  start(): Promise<void> {
    return this.loadAll();
  }

  /** Re-reads every prefix (periodic reconciliation); differences arrive as changes with cause "read". */
  reconcile(): Promise<void> {
    return this.loadAll();
  }

  /**
   * One read of every prefix at one revision R (the backend batches them), then every watch from
   * R+1: all mirrors start consistent with each other, and 1,000 prefixes cost a few round trips
   * instead of 1,000. Retries with backoff until it works or the mirrors close.
   */
  private async loadAll(): Promise<void> {
    if (this.mirrors.length === 0) return;
    // A change feed reads the whole prefix when it starts (and retries by itself): that is the read.
    if (hasChangeFeed(this.backend)) {
      await Promise.all(this.mirrors.map((m) => m.startFeed()));
      return;
    }
    await Promise.all(this.mirrors.map((m) => m.pause()));
    await retryRead(
      'reading the keys',
      async () => {
        const snap = await this.backend.getValues(this.mirrors.map((m) => m.prefix));
        for (const m of this.mirrors) m.adopt({ kvs: coveredBy(snap.kvs, m.prefix), revision: snap.revision, unreadable: snap.unreadable });
      },
      () => this.closed,
      this.log,
    );
  }

  private mirrorFor(key: string): PrefixMirror | undefined {
    return this.byPrefix.get(key) ?? this.mirrors.find((m) => covers(m.prefix, key));
  }

  /** Whether every mirror behind these keys has data (not starting, not re-reading after a compaction). */
  inSync(keys: readonly string[]): boolean {
    return keys.every((k) => this.mirrorFor(k)?.inSync ?? false);
  }

  /** The entries the keys cover, sorted and unique, at the newest revision among their mirrors. */
  snapshot(keys: readonly string[]): Snapshot {
    const parts: KeyValue[][] = [];
    let revision = 0;
    for (const key of minimalCover(keys)) {
      const mirror = this.mirrorFor(key);
      if (!mirror) continue;
      parts.push(mirror.select(key));
      if (mirror.revision > revision) revision = mirror.revision;
    }
    if (parts.length === 1) return { kvs: parts[0]!, revision };
    // Distinct prefixes select disjoint keys; only their order needs merging.
    const kvs = parts.flat().sort(compareByKey);
    return { kvs, revision };
  }

  /** What snapshot() would hold, without copying it: how many entries, and the revision. */
  count(keys: readonly string[]): { size: number; revision: number } {
    let size = 0;
    let revision = 0;
    for (const key of minimalCover(keys)) {
      const mirror = this.mirrorFor(key);
      if (!mirror) continue;
      size += mirror.count(key);
      if (mirror.revision > revision) revision = mirror.revision;
    }
    return { size, revision };
  }

  status(now = Date.now()): MirrorStatus[] {
    return this.mirrors.map((m) => m.status(now));
  }

  /** Age of the stalest mirror. */
  ageMs(now = Date.now()): number {
    return this.mirrors.reduce((max, m) => Math.max(max, m.status(now).ageMs), 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.mirrors.map((m) => m.close()));
  }
}

/** At most one "... failed" line per retrying read this often while it keeps failing. */
const RETRY_LOG_EVERY_MS = 5_000;

/**
 * Runs `read` until it succeeds or `closed()`, with doubling backoff. Every failure is counted and each log line
 * says when the next try is; lines come at most every RETRY_LOG_EVERY_MS, so an outage neither floods the log nor
 * goes quiet.
 */
async function retryRead(
  what: string,
  read: () => Promise<void>,
  closed: () => boolean,
  log: Logger,
  retryMs: { min: number; max: number } = { min: 200, max: 5_000 },
): Promise<void> {
  let loggedAt = 0;
  let unlogged = 0;
  for (let attempt = 1; !closed(); attempt++) {
    try {
      await read();
      if (attempt > 1) log.info(`${what} succeeded after ${attempt} attempts`);
      return;
    } catch (e) {
      const delay = backoffDelay(attempt, { minMs: retryMs.min, maxMs: retryMs.max });
      if (attempt === 1 || Date.now() - loggedAt >= RETRY_LOG_EVERY_MS) {
        const more = unlogged > 0 ? `; ${unlogged} earlier ${unlogged === 1 ? 'failure' : 'failures'} not logged` : '';
        log.error(`${what} failed (attempt ${attempt}${more}), retrying in ${formatDelay(delay)}: ${(e as Error).message}`);
        loggedAt = Date.now();
        unlogged = 0;
      } else {
        unlogged++;
      }
      await defaultScheduler.sleep(delay);
    }
  }
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}
