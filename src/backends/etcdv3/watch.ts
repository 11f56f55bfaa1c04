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
//  - an answer to a progress request (watch id -1) settles the watchers only where the server's
//    version (Maintenance Status, same host) sends it in order with the events (3.4.24+/3.5.8+);
//    otherwise it is a hint, and a render spanning several prefixes confirms by a read (mirror.ts);
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
import { prefixRangeEnd } from './read.js';

export interface WatchHubOptions {
  /** First reconnect delay; doubles up to maxBackoffMs, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often to ask etcd whether every watcher has caught up, where the endpoint answers (freshness signal). */
  progressIntervalMs?: number;
  /** How long a progress request may go unanswered before the endpoint counts as one that never answers. */
  progressProbeMs?: number;
}

interface Watcher {
  readonly prefix: string;
  readonly handlers: PrefixWatchHandlers;
  /** The first revision not yet delivered. */
  nextRevision: number;
  /** The id the server gave it on the current stream; undefined until its "created" answer. */
  id: number | undefined;
  /** cancel() was called (its create may still be in flight). */
  cancelled: boolean;
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

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  /** Watchers created on the current stream, by the id the server gave them. */
  private readonly byId = new Map<number, Watcher>();
  /** Watchers whose create is still to be sent on the current stream, in order. */
  private queue: Watcher[] = [];
  /** The one create sent and not yet answered. */
  private creating: Watcher | undefined;
  /** Watch ids whose cancel we sent, with what to call when etcd confirms. */
  private readonly cancelling = new Map<number, () => void>();
  private stream: WatchDuplex | undefined;
  private streamGeneration = 0;
  private connecting = false;
  private closed = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private createTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private quietTimer: NodeJS.Timeout | undefined;
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

  constructor(
    private readonly conn: EtcdConnection,
    opts: WatchHubOptions = {},
  ) {
    this.minBackoffMs = opts.minBackoffMs ?? 100;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
    this.progressIntervalMs = opts.progressIntervalMs ?? 30_000;
    this.progressProbeMs = opts.progressProbeMs ?? 3_000;
    this.log = conn.logger;
    this.unsubscribe = conn.onStoreReplaced((revision) => this.storeReplaced(revision));
  }

  watch(prefix: string, fromRevision: number, handlers: PrefixWatchHandlers): PrefixWatch {
    if (this.closed) throw new Error('etcd watch: the client is closed');
    const watcher: Watcher = { prefix, handlers, nextRevision: fromRevision, id: undefined, cancelled: false };
    this.watchers.add(watcher);
    if (this.stream) {
      this.queue.push(watcher);
      this.sendNextCreate();
    } else {
      this.connect();
    }
    return { cancel: () => this.cancel(watcher) };
  }

  private cancel(watcher: Watcher): Promise<void> {
    if (watcher.cancelled) return Promise.resolve();
    watcher.cancelled = true;
    this.watchers.delete(watcher);
    this.queue = this.queue.filter((w) => w !== watcher);
    const stream = this.stream;
    const id = watcher.id;
    // Not created yet: a create in flight is cancelled when its answer names the id.
    if (!stream || id === undefined) return Promise.resolve();
    this.byId.delete(id);
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.cancelling.delete(id);
        resolve();
      };
      const timer = setTimeout(done, 1_000);
      this.cancelling.set(id, done);
      stream.write({ cancel_request: { watch_id: id } });
    });
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
    clearTimeout(this.reconnectTimer);
    this.dropStream();
  }

  private sendProgressRequest(): void {
    this.stream!.write({ progress_request: {} });
    if (this.progressAnswers === 'unknown' && !this.probeTimer) {
      const generation = this.streamGeneration;
      this.probeTimer = setTimeout(() => {
        this.probeTimer = undefined;
        if (generation !== this.streamGeneration || this.progressAnswers !== 'unknown') return;
        this.progressAnswers = 'never';
        this.log?.info(
          `etcd watch: ${this.conn.endpoints.join(', ')} does not answer progress requests (etcd grpc-proxy?); ` +
            'freshness is confirmed by a read at a long interval instead',
        );
        // Whoever waited for that answer waits for a quiet stream instead.
        this.confirmWhenQuiet();
      }, this.progressProbeMs);
    }
  }

  /** Once the stream has been quiet for QUIET_MS, every active watcher has what the stream sent up to its newest revision. */
  private confirmWhenQuiet(): void {
    if (this.quietTimer) return;
    const generation = this.streamGeneration;
    const check = () => {
      if (generation !== this.streamGeneration) return;
      const quietFor = Date.now() - this.lastAnswerAt;
      if (quietFor < QUIET_MS) {
        this.quietTimer = setTimeout(check, QUIET_MS - quietFor);
        return;
      }
      this.quietTimer = undefined;
      const revision = this.streamRevision;
      for (const w of this.byId.values()) if (w.nextRevision <= revision + 1) w.handlers.onCaughtUp?.(revision);
    };
    this.quietTimer = setTimeout(check, QUIET_MS);
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
        for (const w of this.byId.values()) w.handlers.onConnection(undefined);
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
    const watcher = this.queue.shift();
    if (!watcher) return;
    this.creating = watcher;
    const key = Buffer.from(watcher.prefix);
    // No watch_id: the server assigns one (etcd's grpc-proxy would ignore ours anyway).
    stream.write({
      create_request: {
        key,
        range_end: prefixRangeEnd(key),
        start_revision: watcher.nextRevision,
        progress_notify: true,
      },
    });
    // A member that accepts the stream but never answers (partitioned, overloaded) counts as down.
    clearTimeout(this.createTimer);
    const generation = this.streamGeneration;
    this.createTimer = setTimeout(() => {
      if (generation === this.streamGeneration && this.creating) {
        this.onBroken(new Error(`no answer to watch requests within ${this.conn.dialTimeoutMs} ms`));
      }
    }, this.conn.dialTimeoutMs);
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
        this.queue = [...this.watchers];
        this.sendNextCreate();
        clearInterval(this.progressTimer);
        this.progressTimer = setInterval(() => {
          if (generation === this.streamGeneration && this.progressAnswers !== 'never') this.sendProgressRequest();
        }, this.progressIntervalMs);
      })
      .catch((error: Error) => {
        this.connecting = false;
        this.onBroken(error);
      });
  }

  private dropStream(): void {
    this.streamGeneration++;
    clearInterval(this.progressTimer);
    clearTimeout(this.createTimer);
    clearTimeout(this.probeTimer);
    clearTimeout(this.quietTimer);
    this.probeTimer = undefined;
    this.quietTimer = undefined;
    const stream = this.stream;
    this.stream = undefined;
    this.creating = undefined;
    this.queue = [];
    this.byId.clear();
    for (const w of this.watchers) w.id = undefined;
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
    for (const w of this.watchers) w.handlers.onConnection(explained);
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(this.failures - 1, 16));
    const delay = base / 2 + Math.random() * (base / 2);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private allActive(): boolean {
    return this.stream !== undefined && this.creating === undefined && this.queue.length === 0;
  }

  /** Once every watcher is created on the stream, the watch counts as (re-)established. */
  private allCreated(): void {
    if (!this.allActive()) return;
    clearTimeout(this.createTimer);
    if (this.failures > 0) this.log?.info('etcd watch re-established');
    this.failures = 0;
    for (const w of this.watchers) w.handlers.onConnection(undefined);
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
    const watcher = this.creating;
    // An answer to no create of ours (cannot happen with one create in flight): ignore it.
    if (!watcher) return;
    this.creating = undefined;
    const id = Number(response.watch_id);
    if (response.canceled) {
      // Refused at creation (permissions, a compacted start revision on some versions).
      this.handleCanceled(watcher, response);
      this.sendNextCreate();
      this.allCreated();
      return;
    }
    watcher.id = id;
    if (watcher.cancelled) {
      this.stream?.write({ cancel_request: { watch_id: id } });
    } else {
      this.byId.set(id, watcher);
      // The header of "created" is the head, not what was delivered: do not move nextRevision.
      this.log?.debug(`etcd watch on ${watcher.prefix} created as id ${id} from revision ${watcher.nextRevision} (head ${headerRevision})`);
      // A head below what the watcher already has means a replaced store, or a proxy's header from
      // its own cache: only a read can tell (connection.ts decides), and one read per stream is enough.
      if (headerRevision > 0 && headerRevision + 1 < watcher.nextRevision && !this.storeChecked) {
        this.storeChecked = true;
        this.log?.info(`etcd watch on ${watcher.prefix}: created at head ${headerRevision}, below revision ${watcher.nextRevision - 1} already seen; checking the store with a read`);
        this.conn.rangePage({ key: Buffer.from([0]), rangeEnd: Buffer.alloc(0), countOnly: true }).catch(() => undefined);
      }
    }
    this.sendNextCreate();
    this.allCreated();
  }

  private handleCanceled(watcher: Watcher, response: IWatchResponse): void {
    if (watcher.id !== undefined) this.byId.delete(watcher.id);
    if (watcher.cancelled) return;
    const compactRevision = Number(response.compact_revision);
    if (compactRevision > 0) {
      this.watchers.delete(watcher);
      watcher.cancelled = true;
      this.log?.warning(
        `etcd watch on ${watcher.prefix}: revision ${watcher.nextRevision} was compacted (compact revision ${compactRevision}); re-reading the prefix`,
      );
      watcher.handlers.onCompacted(compactRevision);
      return;
    }
    // Canceled for another reason (permissions, server side): retry the whole stream later.
    this.onBroken(new Error(`watch on ${watcher.prefix} canceled by etcd: ${response.cancel_reason || 'no reason given'}`));
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
    const watcher = this.byId.get(id);

    if (response.canceled) {
      if (!watcher) {
        this.cancelling.get(id)?.();
        return;
      }
      this.handleCanceled(watcher, response);
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
        clearTimeout(this.probeTimer);
        this.probeTimer = undefined;
      }
      const hint = !this.answersInOrder;
      for (const w of this.byId.values()) w.handlers.onProgress(headerRevision, hint);
      return;
    }
    if (!watcher) return; // events still in flight for a watcher we cancelled
    if (response.events.length === 0) {
      // progress_notify: everything up to the header has been sent to this watcher (etcd sends it
      // through the watcher's own channel, in order with its events, and only once it is synced).
      if (headerRevision + 1 > watcher.nextRevision) watcher.nextRevision = headerRevision + 1;
      watcher.handlers.onProgress(headerRevision);
      return;
    }
    const events: WatchEvent[] = [];
    let last = watcher.nextRevision - 1;
    for (const e of response.events) {
      const revision = Number(e.kv.mod_revision);
      if (revision > last) last = revision;
      const key = decodeBytes(e.kv.key);
      // The range is every key starting with the prefix; confd's prefix is "itself or below it/".
      if (!covers(watcher.prefix, key)) continue;
      events.push({ type: e.type === 'Delete' ? 'delete' : 'put', key, value: e.type === 'Delete' ? '' : decodeBytes(e.kv.value), revision });
    }
    watcher.nextRevision = last + 1;
    if (events.length > 0) watcher.handlers.onEvents(events, last);
    else watcher.handlers.onProgress(last);
  }
}
