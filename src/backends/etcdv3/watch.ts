// etcd's Watch RPC driven directly (through etcd3's generated service client), because etcd3's
// own watcher hides what a watch that never misses needs:
//  - the resume revision is ours: the last delivered event's mod_revision + 1, or a progress
//    notification's header revision + 1; never the header of a "created" response (etcd3 moves
//    there before the backlog arrives, and skips history when the stream breaks mid catch-up);
//  - a compaction surfaces with its compact_revision, so the owner re-reads and re-watches; so does
//    a store replaced under us (etcd rebuilt empty or restored from an older backup), which only a
//    read can prove (connection.ts): a watch header that looks old merely makes us read once;
//  - one stream carries every prefix, and works through `etcd grpc-proxy` as etcd's own Go client
//    does: the server picks the watch ids (etcd 3.4's proxy ignores ids a client chooses: a create
//    with id 7 is answered as id 0), so creates go one at a time and each "created" answer belongs
//    to the create in flight;
//  - progress requests are optional: a member answers them, the proxy never does. Whether this
//    stream's endpoint answers is learnt from the first one; where it does not, freshness comes from
//    a cheap read at a long interval (a quiet stream is reported as a mere hint, onCaughtUp);
//  - neighbouring prefixes share one etcd watcher over their covering range (when the keys between
//    them that none reads are few): its responses come in revision order, so each one settles every
//    prefix on it, and a render spanning them needs neither a progress answer nor a read;
//  - an answer to a progress request (watch id -1) settles the watchers only where the server's
//    version (Maintenance Status, same host) sends it in order with the events (3.4.24+/3.5.8+);
//    otherwise it is a hint, and a render spanning prefixes on different etcd watchers confirms by
//    a read (mirror.ts);
//  - require-leader metadata (hasleader) makes a member cut off from the quorum end the stream
//    instead of keeping it silently open; after a break the stream reconnects with bounded,
//    jittered backoff to whichever member answers;
//  - close() cancels the watchers and the stream first, so the process can exit (etcd3 #60).
import type { IWatchResponse } from 'etcd3';
import type { Logger } from '../../log.js';
import type { PrefixWatch, PrefixWatchHandlers, WatchEvent } from '../types.js';
import { covers } from '../../keys/index.js';
import { decodeBytes } from '../../bytes.js';
import { EtcdError, type EtcdConnection, type WatchDuplex } from './connection.js';
import type { RangePage, RangeSpec } from './range-codec.js';
import { prefixRangeEnd } from './read.js';
import { backoffDelay } from '../../time/backoff.js';
import { hostTimers, type Timer, type TimerSource } from '../../time/timers.js';

export interface WatchHubOptions {
  /** First reconnect delay; doubles up to maxBackoffMs, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often to ask etcd whether every watcher has caught up, where the endpoint answers (freshness signal). */
  progressIntervalMs?: number;
  /** How long a progress request may go unanswered before the endpoint counts as one that never answers. */
  progressProbeMs?: number;
  /** The runtime's scheduler (the host's timers by default). */
  timers?: TimerSource;
}

interface Watcher {
  readonly prefix: string;
  readonly handlers: PrefixWatchHandlers;
  /** The first revision not yet delivered. */
  nextRevision: number;
  /** The etcd watcher that carries its events; undefined until laid out. */
  feed: Feed | undefined;
  /** cancel() was called. */
  cancelled: boolean;
}

/**
 * One etcd watcher over a key range covering one or more prefixes (siblings). etcd delivers one
 * watcher's events in revision order and never splits a revision across responses, so every
 * response on it (events for some siblings, or a progress_notify) proves every sibling has
 * everything up to its revision: a render spanning sibling prefixes needs no read to confirm them.
 */
interface Feed {
  readonly key: Buffer;
  /** etcd's range_end: a single 0 byte is "to the end of the key space". */
  readonly rangeEnd: Buffer;
  readonly members: Set<Watcher>;
  /** The id the server gave it on the current stream; undefined until its "created" answer. */
  id: number | undefined;
  /** The revision its current create asked from. */
  startRevision: number;
  /** The first revision this etcd watcher has not delivered yet (on the current stream). */
  nextRevision: number;
  /** A member joined needing revisions before the one its create in flight asked from: create again once answered. */
  restart: boolean;
}

/** Whether the current stream's endpoint answers progress requests (an etcd member does, etcd 3.4's grpc-proxy never). */
type ProgressAnswers = 'unknown' | 'answered' | 'never';

/** A stream with no answer for this long after a barrier asked counts as caught up (no progress requests). */
const QUIET_MS = 15;

/**
 * Whether an etcd of this version answers a progress request (watch id -1) in order with the
 * watchers' events and only once every watcher of the stream is synced: 3.4.24+, 3.5.8+, 3.6+
 * (etcd #15220, fixed by #15237 and its backports). Before, the answer can overtake events.
 */
export function progressAnswersInOrder(version: string): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return false;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major !== 3) return major > 3;
  if (minor === 4) return patch >= 24;
  if (minor === 5) return patch >= 8;
  return minor > 5;
}

/**
 * Sibling prefixes share one etcd watcher over their covering range when the keys in that range
 * that none of them reads (counted once, when they are laid out) are at most this share of the
 * keys they read, or at most OVERFETCH_MIN_KEYS: the events of those keys are the price.
 */
const OVERFETCH_RATIO = 0.1;
const OVERFETCH_MIN_KEYS = 8;

/** etcd's default --max-txn-ops: the layout's counts go this many to a Txn. */
const COUNTS_PER_TXN = 128;

/** Byte order of etcd range ends, where a single 0 byte is "no end". */
function endAtLeast(a: Buffer, b: Buffer): boolean {
  const aOpen = a.length === 1 && a[0] === 0;
  const bOpen = b.length === 1 && b[0] === 0;
  if (aOpen) return true;
  if (bOpen) return false;
  return Buffer.compare(a, b) >= 0;
}

/** What the last layout put on how many etcd watchers, and the over-fetch it accepted (for tests, logs and figures). */
export interface WatchLayout {
  prefixes: number;
  watchers: number;
  /** Keys the prefixes held when counted. */
  readKeys: number;
  /** Keys in the covering ranges that no prefix reads, when counted. */
  extraKeys: number;
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  /** Every feed laid out so far (a feed without members holds no etcd watcher, and keeps its range for members that come back). */
  private readonly feeds: Feed[] = [];
  /** Watchers still to be laid out on feeds. */
  private unplaced: Watcher[] = [];
  private placing = false;
  /** Feeds created on the current stream, by the id the server gave them. */
  private readonly byId = new Map<number, Feed>();
  /** Feeds whose create is still to be sent on the current stream, in order. */
  private queue: Feed[] = [];
  /** The one create sent and not yet answered. */
  private creating: Feed | undefined;
  /** Watch ids whose cancel we sent, with what to call when etcd confirms. */
  private readonly cancelling = new Map<number, () => void>();
  private stream: WatchDuplex | undefined;
  private streamGeneration = 0;
  private connecting = false;
  private closed = false;
  private failures = 0;
  private reconnectTimer: Timer | undefined;
  private progressTimer: Timer | undefined;
  private createTimer: Timer | undefined;
  private probeTimer: Timer | undefined;
  private quietTimer: Timer | undefined;
  private readonly timers: TimerSource;
  private progressAnswers: ProgressAnswers = 'unknown';
  /** The current stream's server sends progress answers in order with events (its version says so). */
  private answersInOrder = false;
  /** Newest header revision any answer on this stream carried. */
  private streamRevision = 0;
  private lastAnswerAt = 0;
  /** When a read last proved the endpoint (and the cluster behind it) alive; for endpoints without progress answers. */
  private lastAliveReadAt = 0;
  private aliveRead: Promise<void> | undefined;
  /** A read already checked this stream's suspicious "created" header (once per stream, never a loop). */
  private storeChecked = false;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly progressIntervalMs: number;
  private readonly progressProbeMs: number;
  private readonly log: Logger | undefined;
  private readonly unsubscribe: () => void;
  /** The last layout's figures. */
  layout: WatchLayout = { prefixes: 0, watchers: 0, readKeys: 0, extraKeys: 0 };

  constructor(
    private readonly conn: EtcdConnection,
    opts: WatchHubOptions = {},
  ) {
    this.minBackoffMs = opts.minBackoffMs ?? 100;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
    this.progressIntervalMs = opts.progressIntervalMs ?? 30_000;
    this.progressProbeMs = opts.progressProbeMs ?? 3_000;
    this.timers = opts.timers ?? hostTimers;
    this.log = conn.logger;
    this.unsubscribe = conn.onStoreReplaced((revision) => this.storeReplaced(revision));
  }

  watch(prefix: string, fromRevision: number, handlers: PrefixWatchHandlers): PrefixWatch {
    if (this.closed) throw new Error('etcd watch: the client is closed');
    const watcher: Watcher = { prefix, handlers, nextRevision: fromRevision, feed: undefined, cancelled: false };
    this.watchers.add(watcher);
    this.unplaced.push(watcher);
    // The mirrors ask for their watches in one synchronous loop: lay them out together.
    if (this.unplaced.length === 1 && !this.placing) queueMicrotask(() => void this.place());
    return { cancel: () => this.cancel(watcher) };
  }

  private cancel(watcher: Watcher): Promise<void> {
    if (watcher.cancelled) return Promise.resolve();
    watcher.cancelled = true;
    this.watchers.delete(watcher);
    this.unplaced = this.unplaced.filter((w) => w !== watcher);
    const feed = watcher.feed;
    watcher.feed = undefined;
    if (!feed) return Promise.resolve();
    feed.members.delete(watcher);
    // Its siblings go on; it simply gets nothing more.
    if (feed.members.size > 0) return Promise.resolve();
    this.queue = this.queue.filter((f) => f !== feed);
    const stream = this.stream;
    const id = feed.id;
    // Not created yet: a create in flight is cancelled when its answer names the id.
    if (!stream || id === undefined) return Promise.resolve();
    this.byId.delete(id);
    feed.id = undefined;
    return new Promise<void>((resolve) => {
      const done = () => {
        timer.cancel();
        this.cancelling.delete(id);
        resolve();
      };
      const timer = this.timers.after(1_000, done);
      this.cancelling.set(id, done);
      stream.write({ cancel_request: { watch_id: id } });
    });
  }

  /**
   * Puts the watchers asked for since the last call on feeds: a prefix inside a feed's range joins
   * it; the others are laid out together (one count-only read decides which share a covering range).
   */
  private async place(): Promise<void> {
    if (this.placing || this.closed) return;
    this.placing = true;
    try {
      while (this.unplaced.length > 0 && !this.closed) {
        const batch = this.unplaced;
        this.unplaced = [];
        const fresh: Watcher[] = [];
        for (const w of batch) {
          const [key, end] = this.rangeOf(w.prefix);
          const feed = this.feeds.find((f) => Buffer.compare(f.key, key) <= 0 && endAtLeast(f.rangeEnd, end));
          if (feed) this.join(feed, w);
          else fresh.push(w);
        }
        if (fresh.length > 0) {
          for (const group of await this.layOut(fresh)) {
            const live = group.filter((w) => !w.cancelled);
            if (live.length === 0) continue;
            const [key] = this.rangeOf(group[0]!.prefix);
            const end = group.map((w) => this.rangeOf(w.prefix)[1]).reduce((a, b) => (endAtLeast(a, b) ? a : b));
            const feed: Feed = { key, rangeEnd: end, members: new Set(), id: undefined, startRevision: 0, nextRevision: 0, restart: false };
            this.feeds.push(feed);
            for (const w of live) this.join(feed, w);
          }
        }
      }
    } finally {
      this.placing = false;
    }
    if (this.stream) {
      this.sendNextCreate();
      this.allCreated();
    } else {
      this.connect();
    }
  }

  private rangeOf(prefix: string): [Buffer, Buffer] {
    const key = Buffer.from(prefix);
    return [key, prefixRangeEnd(key)];
  }

  /**
   * Groups the prefixes (in byte order) whose covering range holds few keys that none of them
   * reads: counts of every prefix and every gap between neighbours, in Txns of count-only ranges.
   * A failed count lays every prefix out alone (a render spanning them then confirms by a read).
   */
  private async layOut(watchers: Watcher[]): Promise<Watcher[][]> {
    const sorted = [...watchers].sort((a, b) => Buffer.compare(Buffer.from(a.prefix), Buffer.from(b.prefix)));
    if (sorted.length === 1) return [sorted];
    // gaps[i]: the keys between what sorted[0..i] covers and sorted[i+1] (none when they overlap).
    const specs: RangeSpec[] = [];
    const ownSpec: number[] = [];
    const gapSpec: Array<number | undefined> = [];
    let end = this.rangeOf(sorted[0]!.prefix)[1];
    for (let i = 0; i < sorted.length; i++) {
      const [key, ownEnd] = this.rangeOf(sorted[i]!.prefix);
      ownSpec.push(specs.length);
      specs.push({ key, rangeEnd: ownEnd, countOnly: true });
      if (i + 1 < sorted.length) {
        if (endAtLeast(ownEnd, end)) end = ownEnd;
        const next = Buffer.from(sorted[i + 1]!.prefix);
        if (endAtLeast(end, next)) gapSpec.push(undefined);
        else {
          gapSpec.push(specs.length);
          specs.push({ key: end, rangeEnd: next, countOnly: true });
        }
      }
    }
    let counts: number[];
    try {
      const batches: Array<Promise<RangePage[]>> = [];
      for (let i = 0; i < specs.length; i += COUNTS_PER_TXN) batches.push(this.conn.rangePages(specs.slice(i, i + COUNTS_PER_TXN)));
      counts = (await Promise.all(batches)).flat().map((p) => p.count);
    } catch (e) {
      this.log?.debug(`etcd watch: counting the keys around ${sorted.length} prefixes failed (${(e as Error).message}); one etcd watcher per prefix`);
      this.layout = { prefixes: sorted.length, watchers: sorted.length, readKeys: 0, extraKeys: 0 };
      return sorted.map((w) => [w]);
    }
    const groups: Watcher[][] = [];
    let group: Watcher[] = [];
    let readKeys = 0;
    let extraKeys = 0;
    let totalRead = 0;
    let totalExtra = 0;
    for (let i = 0; i < sorted.length; i++) {
      const own = counts[ownSpec[i]!] ?? 0;
      totalRead += own;
      if (i > 0) {
        const gi = gapSpec[i - 1];
        const gap = gi === undefined ? 0 : (counts[gi] ?? 0);
        if (extraKeys + gap <= Math.max(OVERFETCH_MIN_KEYS, OVERFETCH_RATIO * (readKeys + own))) {
          extraKeys += gap;
        } else {
          groups.push(group);
          totalExtra += extraKeys;
          group = [];
          readKeys = 0;
          extraKeys = 0;
        }
      }
      group.push(sorted[i]!);
      readKeys += own;
    }
    groups.push(group);
    totalExtra += extraKeys;
    this.layout = { prefixes: sorted.length, watchers: groups.length, readKeys: totalRead, extraKeys: totalExtra };
    this.log?.debug(
      `etcd watch: ${sorted.length} prefixes on ${groups.length} etcd watcher(s); their covering ranges hold ${totalExtra} key(s) that none reads (${totalRead} read)`,
    );
    return groups;
  }

  /** Adds a watcher to a feed; the feed's etcd watcher is (re-)created from where its members need. */
  private join(feed: Feed, watcher: Watcher): void {
    if (watcher.cancelled) return;
    watcher.feed = feed;
    feed.members.add(watcher);
    if (feed.id !== undefined) {
      // Already past where this member starts: those events went by; create again from there.
      if (watcher.nextRevision < feed.nextRevision) this.recreate(feed);
    } else if (this.creating === feed) {
      if (watcher.nextRevision < feed.startRevision) feed.restart = true;
    } else if (!this.queue.includes(feed) && this.stream) {
      this.queue.push(feed);
    }
  }

  /** Cancels the feed's etcd watcher and creates it again from its members' oldest revision (each member skips what it has). */
  private recreate(feed: Feed): void {
    const id = feed.id;
    if (id !== undefined) {
      this.byId.delete(id);
      feed.id = undefined;
      this.stream?.write({ cancel_request: { watch_id: id } });
    }
    if (!this.queue.includes(feed)) this.queue.push(feed);
    this.sendNextCreate();
  }

  /**
   * Asks etcd to confirm that every watcher has caught up (answered through onProgress). Where the
   * endpoint never answers progress requests (etcd's grpc-proxy), a quiet stream confirms the
   * watchers caught up (onCaughtUp), and with `freshWithinMs` a read proves the endpoint alive
   * (onConnection) when the last proof is older than that.
   */
  requestProgress(freshWithinMs?: number): void {
    if (!this.stream || this.closed) return;
    if (this.progressAnswers === 'never') this.confirmWhenQuiet();
    else this.sendProgressRequest();
    // Until this endpoint has answered a progress request, a read proves it alive (the answer may never come).
    if (this.progressAnswers !== 'answered' && freshWithinMs !== undefined && Date.now() - this.lastAliveReadAt >= freshWithinMs) this.readAlive();
  }

  /**
   * Whether a progress answer on the current stream proves every watcher has everything up to its
   * revision: the endpoint answers progress requests and runs an etcd that sends them in order.
   */
  progressSettles(): boolean {
    return this.stream !== undefined && this.answersInOrder && this.progressAnswers === 'answered';
  }

  /** Cancels every watcher and ends the stream; needed before the client's close() (etcd3 #60). */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.watchers].map((w) => this.cancel(w)));
    this.closed = true;
    this.unsubscribe();
    this.reconnectTimer?.cancel();
    this.dropStream();
  }

  private sendProgressRequest(): void {
    this.stream!.write({ progress_request: {} });
    if (this.progressAnswers === 'unknown' && !this.probeTimer) {
      const generation = this.streamGeneration;
      this.probeTimer = this.timers.after(this.progressProbeMs, () => {
        this.probeTimer = undefined;
        if (generation !== this.streamGeneration || this.progressAnswers !== 'unknown') return;
        this.progressAnswers = 'never';
        this.log?.info(
          `etcd watch: ${this.conn.endpoints.join(', ')} does not answer progress requests (etcd grpc-proxy?); ` +
            'freshness is confirmed by a read at a long interval instead',
        );
        // Whoever waited for that answer waits for a quiet stream instead.
        this.confirmWhenQuiet();
      });
    }
  }

  private *activeMembers(): Iterable<Watcher> {
    for (const feed of this.byId.values()) yield* feed.members;
  }

  /** Once the stream has been quiet for QUIET_MS, every active watcher has what the stream sent up to its newest revision. */
  private confirmWhenQuiet(): void {
    if (this.quietTimer) return;
    const generation = this.streamGeneration;
    const check = () => {
      if (generation !== this.streamGeneration) return;
      const quietFor = Date.now() - this.lastAnswerAt;
      if (quietFor < QUIET_MS) {
        this.quietTimer = this.timers.after(QUIET_MS - quietFor, check);
        return;
      }
      this.quietTimer = undefined;
      const revision = this.streamRevision;
      for (const w of [...this.activeMembers()]) if (w.nextRevision <= revision + 1) w.handlers.onCaughtUp?.(revision);
    };
    this.quietTimer = this.timers.after(QUIET_MS, check);
  }

  /** A cheap linearizable read (one key, count only): the endpoint and the quorum behind it answer. */
  private readAlive(): void {
    if (this.aliveRead) return;
    const generation = this.streamGeneration;
    this.aliveRead = this.conn
      .rangePage({ key: Buffer.from([0]), rangeEnd: Buffer.alloc(0), countOnly: true })
      .then(() => {
        this.lastAliveReadAt = Date.now();
        if (generation !== this.streamGeneration || !this.allActive()) return;
        for (const w of [...this.activeMembers()]) w.handlers.onConnection(undefined);
      })
      .catch((e: Error) => {
        // No answer is no proof either way: the age keeps growing and -stale-after judges it.
        this.log?.debug(`etcd liveness read failed: ${e.message}`);
      })
      .finally(() => {
        this.aliveRead = undefined;
      });
  }

  private sendNextCreate(): void {
    const stream = this.stream;
    if (!stream || this.creating) return;
    let feed: Feed | undefined;
    while ((feed = this.queue.shift()) && feed.members.size === 0);
    if (!feed) return;
    this.creating = feed;
    feed.restart = false;
    feed.startRevision = Math.min(...[...feed.members].map((w) => w.nextRevision));
    // No watch_id: the server assigns one (etcd's grpc-proxy would ignore ours anyway).
    stream.write({
      create_request: {
        key: feed.key,
        range_end: feed.rangeEnd,
        start_revision: feed.startRevision,
        progress_notify: true,
      },
    });
    // A member that accepts the stream but never answers (partitioned, overloaded) counts as down.
    this.createTimer?.cancel();
    const generation = this.streamGeneration;
    this.createTimer = this.timers.after(this.conn.dialTimeoutMs, () => {
      if (generation === this.streamGeneration && this.creating) {
        this.onBroken(new Error(`no answer to watch requests within ${this.conn.dialTimeoutMs} ms`));
      }
    });
  }

  private connect(): void {
    if (this.connecting || this.stream || this.closed || this.watchers.size === 0) return;
    this.connecting = true;
    const generation = ++this.streamGeneration;
    this.conn
      .openWatchStream()
      .then(({ stream, markFailed, serverVersion }) => {
        this.connecting = false;
        if (this.closed || generation !== this.streamGeneration) {
          stream.cancel();
          return;
        }
        this.stream = stream;
        this.progressAnswers = 'unknown';
        this.answersInOrder = false;
        serverVersion().then(
          (version) => {
            if (generation !== this.streamGeneration) return;
            this.answersInOrder = progressAnswersInOrder(version);
            this.log?.debug(
              `etcd watch: the server is etcd ${version || '(no version)'}; its progress answers ${this.answersInOrder ? 'are' : 'are not'} trusted to follow every event`,
            );
          },
          (e: Error) => this.log?.debug(`etcd watch: the server's version is unknown (${e.message}); its progress answers are not trusted to follow every event`),
        );
        this.streamRevision = 0;
        this.storeChecked = false;
        stream.on('data', (response) => this.onResponse(response as IWatchResponse, generation));
        stream.on('error', (error) => {
          if (generation !== this.streamGeneration) return;
          markFailed(error);
          this.onBroken(error);
        });
        stream.on('end', () => {
          if (generation === this.streamGeneration) this.onBroken(new Error('watch stream ended by the server'));
        });
        this.queue = this.feeds.filter((f) => f.members.size > 0);
        this.sendNextCreate();
        this.progressTimer?.cancel();
        this.progressTimer = this.timers.every(this.progressIntervalMs, () => {
          if (generation === this.streamGeneration && this.progressAnswers !== 'never') this.sendProgressRequest();
        });
      })
      .catch((error: Error) => {
        this.connecting = false;
        this.onBroken(error);
      });
  }

  private dropStream(): void {
    this.streamGeneration++;
    this.progressTimer?.cancel();
    this.createTimer?.cancel();
    this.probeTimer?.cancel();
    this.quietTimer?.cancel();
    this.probeTimer = undefined;
    this.quietTimer = undefined;
    const stream = this.stream;
    this.stream = undefined;
    this.creating = undefined;
    this.queue = [];
    this.byId.clear();
    for (const f of this.feeds) {
      f.id = undefined;
      f.restart = false;
    }
    for (const done of [...this.cancelling.values()]) done();
    if (stream) {
      stream.removeAllListeners();
      // Late errors of a cancelled call must not crash the process.
      stream.on('error', () => undefined);
      try {
        stream.end();
        stream.cancel();
      } catch {
        // already closed
      }
    }
  }

  private onBroken(error: Error): void {
    if (this.closed) return;
    const wasUp = this.stream !== undefined && this.failures === 0;
    this.dropStream();
    this.failures++;
    const explained = error instanceof EtcdError ? error : this.conn.explain(error);
    // etcd 3.4 leaves a watch with a stale token (e.g. after a restart) unanswered rather than
    // refusing it, so any break may be one: log in again on the next stream (no-op without auth).
    this.conn.forgetAuthToken();
    if (wasUp || this.failures === 1) this.log?.warning(`etcd watch broken, reconnecting: ${explained.message}`);
    else this.log?.debug(`etcd watch reconnect attempt ${this.failures} failed: ${explained.message}`);
    for (const w of [...this.watchers]) w.handlers.onConnection(explained);
    const delay = backoffDelay(this.failures, { minMs: this.minBackoffMs, maxMs: this.maxBackoffMs, jitter: true });
    this.reconnectTimer?.cancel();
    this.reconnectTimer = this.timers.after(delay, () => this.connect());
  }

  private allActive(): boolean {
    return this.stream !== undefined && this.creating === undefined && this.queue.length === 0 && this.unplaced.length === 0 && !this.placing;
  }

  /** Once every watcher is created on the stream, the watch counts as (re-)established. */
  private allCreated(): void {
    if (!this.allActive()) return;
    this.createTimer?.cancel();
    if (this.failures > 0) this.log?.info('etcd watch re-established');
    this.failures = 0;
    for (const w of [...this.watchers]) w.handlers.onConnection(undefined);
    // Learn now whether this endpoint answers progress requests, before a render needs one.
    if (this.progressAnswers === 'unknown') this.sendProgressRequest();
  }

  /**
   * The store behind the endpoints was replaced (a read proved it): watchers waiting for revisions
   * beyond its head would wait for ever; they end as after a compaction, so their owners re-read.
   */
  private storeReplaced(revision: number): void {
    for (const w of [...this.watchers]) {
      if (w.nextRevision <= revision + 1) continue;
      void this.cancel(w);
      w.handlers.onCompacted(revision);
    }
  }

  private onCreated(response: IWatchResponse, headerRevision: number): void {
    const feed = this.creating;
    // An answer to no create of ours (cannot happen with one create in flight): ignore it.
    if (!feed) return;
    this.creating = undefined;
    const id = Number(response.watch_id);
    if (response.canceled) {
      // Refused at creation (permissions, a compacted start revision on some versions).
      this.handleCanceled(feed, response);
      this.sendNextCreate();
      this.allCreated();
      return;
    }
    if (feed.members.size === 0) {
      this.stream?.write({ cancel_request: { watch_id: id } });
    } else if (feed.restart) {
      // A member joined meanwhile that needs older revisions than this create asked for.
      this.stream?.write({ cancel_request: { watch_id: id } });
      this.queue.unshift(feed);
    } else {
      feed.id = id;
      feed.nextRevision = feed.startRevision;
      this.byId.set(id, feed);
      // The header of "created" is the head, not what was delivered: do not move nextRevision.
      this.log?.debug(
        `etcd watch on ${this.describe(feed)} created as id ${id} from revision ${feed.startRevision} (head ${headerRevision})`,
      );
      // A head below what the watchers already have means a replaced store, or a proxy's header from
      // its own cache: only a read can tell (connection.ts decides), and one read per stream is enough.
      if (headerRevision > 0 && headerRevision + 1 < feed.startRevision && !this.storeChecked) {
        this.storeChecked = true;
        this.log?.info(`etcd watch on ${this.describe(feed)}: created at head ${headerRevision}, below revision ${feed.startRevision - 1} already seen; checking the store with a read`);
        this.conn.rangePage({ key: Buffer.from([0]), rangeEnd: Buffer.alloc(0), countOnly: true }).catch(() => undefined);
      }
    }
    this.sendNextCreate();
    this.allCreated();
  }

  private describe(feed: Feed): string {
    const [first] = feed.members;
    if (!first) return feed.key.toString();
    return feed.members.size === 1 ? first.prefix : `${first.prefix} and ${feed.members.size - 1} sibling prefix(es)`;
  }

  private handleCanceled(feed: Feed, response: IWatchResponse): void {
    if (feed.id !== undefined) this.byId.delete(feed.id);
    feed.id = undefined;
    if (feed.members.size === 0) return;
    const compactRevision = Number(response.compact_revision);
    if (compactRevision > 0) {
      const members = [...feed.members];
      feed.members.clear();
      for (const w of members) {
        this.watchers.delete(w);
        w.cancelled = true;
        w.feed = undefined;
        this.log?.warning(`etcd watch on ${w.prefix}: revision ${w.nextRevision} was compacted (compact revision ${compactRevision}); re-reading the prefix`);
      }
      for (const w of members) w.handlers.onCompacted(compactRevision);
      return;
    }
    if (feed.members.size > 1) {
      // Refused over the covering range (a role that may read each prefix, not what lies between):
      // watch the prefixes one by one instead, for good (a render spanning them then confirms by a read).
      this.log?.info(
        `etcd watch on ${this.describe(feed)} refused over their covering range (${response.cancel_reason || 'no reason given'}); watching each prefix alone`,
      );
      this.feeds.splice(this.feeds.indexOf(feed), 1);
      for (const w of feed.members) {
        const [key, rangeEnd] = this.rangeOf(w.prefix);
        const alone: Feed = { key, rangeEnd, members: new Set([w]), id: undefined, startRevision: 0, nextRevision: 0, restart: false };
        w.feed = alone;
        this.feeds.push(alone);
        this.queue.push(alone);
      }
      feed.members.clear();
      this.sendNextCreate();
      return;
    }
    // Canceled for another reason (permissions, server side): retry the whole stream later.
    this.onBroken(new Error(`watch on ${this.describe(feed)} canceled by etcd: ${response.cancel_reason || 'no reason given'}`));
  }

  private onResponse(response: IWatchResponse, generation: number): void {
    if (generation !== this.streamGeneration) return;
    const headerRevision = Number(response.header?.revision ?? 0);
    this.lastAnswerAt = Date.now();
    if (headerRevision > this.streamRevision) this.streamRevision = headerRevision;
    if (response.created) {
      this.onCreated(response, headerRevision);
      return;
    }
    const id = Number(response.watch_id);
    const feed = this.byId.get(id);

    if (response.canceled) {
      if (!feed) {
        this.cancelling.get(id)?.();
        return;
      }
      this.handleCanceled(feed, response);
      return;
    }

    if (id === -1) {
      // A progress_request answer proves the stream alive. It moves no resume revision, and it is
      // only a hint (a render spanning several prefixes does not trust it) unless the server's
      // version says otherwise: etcd before 3.4.24/3.5.8 sends it on another channel than the
      // events and with the head revision, even while a watcher is still catching up, so events at
      // or below it may still arrive (etcd #15220; seen here on 3.4.23 as a torn render).
      if (this.progressAnswers !== 'answered') {
        this.progressAnswers = 'answered';
        this.probeTimer?.cancel();
        this.probeTimer = undefined;
      }
      const hint = !this.answersInOrder;
      for (const w of [...this.activeMembers()]) w.handlers.onProgress(headerRevision, hint);
      return;
    }
    if (!feed) return; // events still in flight for an etcd watcher we cancelled
    if (response.events.length === 0) {
      // progress_notify: everything up to the header has been sent to this etcd watcher (etcd sends
      // it through the watcher's own channel, in order with its events, and only once it is synced).
      if (headerRevision + 1 > feed.nextRevision) feed.nextRevision = headerRevision + 1;
      for (const w of [...feed.members]) {
        if (headerRevision + 1 > w.nextRevision) w.nextRevision = headerRevision + 1;
        w.handlers.onProgress(headerRevision);
      }
      return;
    }
    const decoded: WatchEvent[] = [];
    let last = feed.nextRevision - 1;
    for (const e of response.events) {
      const revision = Number(e.kv.mod_revision);
      if (revision > last) last = revision;
      decoded.push({ type: e.type === 'Delete' ? 'delete' : 'put', key: decodeBytes(e.kv.key), value: e.type === 'Delete' ? '' : decodeBytes(e.kv.value), revision });
    }
    feed.nextRevision = last + 1;
    // Every member has everything up to `last` now: the ones with events get them, the others a
    // progress that settles them there (one etcd watcher: nothing of theirs at or below it can follow).
    for (const w of [...feed.members]) {
      if (w.cancelled) continue;
      // The range is every key in the covering range; confd's prefix is "itself or below it/".
      // A member that joined later skips what it already has.
      const events = decoded.filter((e) => e.revision >= w.nextRevision && covers(w.prefix, e.key));
      if (last + 1 > w.nextRevision) w.nextRevision = last + 1;
      if (events.length > 0) w.handlers.onEvents(events, last);
      else w.handlers.onProgress(last);
    }
  }
}
