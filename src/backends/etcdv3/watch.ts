// etcd's Watch RPC driven directly (through etcd3's generated service client), because etcd3's
// own watcher hides what a watch that never misses needs:
//  - the resume revision is ours: the last delivered event's mod_revision + 1, or a progress
//    notification's header revision + 1; never the header of a "created" response (etcd3 moves
//    there before the backlog arrives, and skips history when the stream breaks mid catch-up);
//  - a compaction surfaces with its compact_revision, so the owner re-reads and re-watches; so does
//    a store whose head is below what a watcher already has (etcd rebuilt empty or restored from an
//    older backup: its revisions are not ours, and a watch from ours would wait for ever);
//  - progress requests every few seconds tell how fresh the watch is, even when nothing changes;
//  - require-leader metadata (hasleader) makes a member cut off from the quorum end the stream
//    instead of keeping it silently open;
//  - one stream carries every prefix (client-chosen watch ids, so creates need no ordering), and
//    after a break it reconnects with bounded, jittered backoff to whichever member answers;
//  - close() cancels the watchers and the stream first, so the process can exit (etcd3 #60).
import type { IWatchResponse } from 'etcd3';
import type { Logger } from '../../log.js';
import type { PrefixWatch, PrefixWatchHandlers, WatchEvent } from '../types.js';
import { covers } from '../keys.js';
import { decodeBytes } from '../../bytes.js';
import { EtcdError, type EtcdConnection, type WatchDuplex } from './connection.js';
import { prefixRangeEnd } from './read.js';

export interface WatchHubOptions {
  /** First reconnect delay; doubles up to maxBackoffMs, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often to ask etcd whether every watcher has caught up (freshness signal). */
  progressIntervalMs?: number;
}

interface Watcher {
  readonly id: number;
  readonly prefix: string;
  readonly handlers: PrefixWatchHandlers;
  /** The first revision not yet delivered. */
  nextRevision: number;
  /** Created on the current stream. */
  active: boolean;
}

export class WatchHub {
  private readonly watchers = new Map<number, Watcher>();
  /** Watch ids whose cancel we sent, with what to call when etcd confirms. */
  private readonly cancelling = new Map<number, () => void>();
  private nextId = 1;
  private stream: WatchDuplex | undefined;
  private streamGeneration = 0;
  private connecting = false;
  private closed = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private createTimer: NodeJS.Timeout | undefined;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly progressIntervalMs: number;
  private readonly log: Logger | undefined;

  constructor(
    private readonly conn: EtcdConnection,
    opts: WatchHubOptions = {},
  ) {
    this.minBackoffMs = opts.minBackoffMs ?? 100;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
    this.progressIntervalMs = opts.progressIntervalMs ?? 5_000;
    this.log = conn.logger;
  }

  watch(prefix: string, fromRevision: number, handlers: PrefixWatchHandlers): PrefixWatch {
    if (this.closed) throw new Error('etcd watch: the client is closed');
    const watcher: Watcher = { id: this.nextId++, prefix, handlers, nextRevision: fromRevision, active: false };
    this.watchers.set(watcher.id, watcher);
    if (this.stream) this.sendCreate(watcher);
    else this.connect();
    return { cancel: () => this.cancel(watcher) };
  }

  private cancel(watcher: Watcher): Promise<void> {
    if (!this.watchers.has(watcher.id)) return Promise.resolve();
    this.watchers.delete(watcher.id);
    const stream = this.stream;
    if (!stream) return Promise.resolve();
    if (!watcher.active) {
      // Its create may still be in flight; etcd handles requests in order, so cancel after it.
      stream.write({ cancel_request: { watch_id: watcher.id } });
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.cancelling.delete(watcher.id);
        resolve();
      };
      const timer = setTimeout(done, 1_000);
      this.cancelling.set(watcher.id, done);
      stream.write({ cancel_request: { watch_id: watcher.id } });
    });
  }

  requestProgress(): void {
    if (this.stream && !this.closed) this.stream.write({ progress_request: {} });
  }

  /** Cancels every watcher and ends the stream; needed before the client's close() (etcd3 #60). */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.watchers.values()].map((w) => this.cancel(w)));
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.dropStream();
  }

  private sendCreate(watcher: Watcher): void {
    const key = Buffer.from(watcher.prefix);
    this.stream!.write({
      create_request: {
        key,
        range_end: prefixRangeEnd(key),
        start_revision: watcher.nextRevision,
        watch_id: watcher.id,
        progress_notify: true,
      },
    });
  }

  private connect(): void {
    if (this.connecting || this.stream || this.closed || this.watchers.size === 0) return;
    this.connecting = true;
    const generation = ++this.streamGeneration;
    this.conn
      .openWatchStream()
      .then(({ stream, markFailed }) => {
        this.connecting = false;
        if (this.closed || generation !== this.streamGeneration) {
          stream.cancel();
          return;
        }
        this.stream = stream;
        stream.on('data', (response) => this.onResponse(response as IWatchResponse, generation));
        stream.on('error', (error) => {
          if (generation !== this.streamGeneration) return;
          markFailed(error);
          this.onBroken(error);
        });
        stream.on('end', () => {
          if (generation === this.streamGeneration) this.onBroken(new Error('watch stream ended by the server'));
        });
        for (const w of this.watchers.values()) this.sendCreate(w);
        // A member that accepts the stream but never answers (partitioned, overloaded) counts as down.
        this.createTimer = setTimeout(() => {
          if (generation === this.streamGeneration && [...this.watchers.values()].some((w) => !w.active)) {
            this.onBroken(new Error(`no answer to watch requests within ${this.conn.dialTimeoutMs} ms`));
          }
        }, this.conn.dialTimeoutMs);
        clearInterval(this.progressTimer);
        this.progressTimer = setInterval(() => {
          if (generation === this.streamGeneration) this.stream?.write({ progress_request: {} });
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
    const stream = this.stream;
    this.stream = undefined;
    for (const w of this.watchers.values()) w.active = false;
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
    for (const w of this.watchers.values()) w.handlers.onConnection(explained);
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(this.failures - 1, 16));
    const delay = base / 2 + Math.random() * (base / 2);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Once every watcher is created on the stream, the watch counts as (re-)established. */
  private allCreated(): void {
    if (!this.stream || ![...this.watchers.values()].every((w) => w.active)) return;
    clearTimeout(this.createTimer);
    if (this.failures > 0) this.log?.info('etcd watch re-established');
    this.failures = 0;
    for (const w of this.watchers.values()) w.handlers.onConnection(undefined);
  }

  private onResponse(response: IWatchResponse, generation: number): void {
    if (generation !== this.streamGeneration) return;
    const id = Number(response.watch_id);
    const headerRevision = Number(response.header?.revision ?? 0);
    const watcher = this.watchers.get(id);

    if (response.created) {
      if (!watcher) return;
      // The header of "created" is the head, not what was delivered: do not move nextRevision.
      if (!response.canceled && headerRevision > 0 && headerRevision + 1 < watcher.nextRevision) {
        // Revisions never go back in one store. A member merely behind the quorum may show this for a
        // moment too; a needless re-read costs little, a watch from a revision that means nothing here misses everything.
        this.watchers.delete(id);
        this.stream?.write({ cancel_request: { watch_id: id } });
        this.log?.warning(
          `etcd watch on ${watcher.prefix}: the store's revision ${headerRevision} is below revision ${watcher.nextRevision - 1} already seen ` +
            `(etcd rebuilt or restored from a backup?); re-reading the prefix`,
        );
        watcher.handlers.onCompacted(headerRevision);
        this.allCreated();
        return;
      }
      if (!response.canceled) {
        watcher.active = true;
        this.log?.debug(`etcd watch on ${watcher.prefix} created from revision ${watcher.nextRevision} (head ${headerRevision})`);
        this.allCreated();
        return;
      }
    }

    if (response.canceled) {
      if (!watcher) {
        this.cancelling.get(id)?.();
        return;
      }
      const compactRevision = Number(response.compact_revision);
      if (compactRevision > 0) {
        this.watchers.delete(id);
        this.log?.warning(
          `etcd watch on ${watcher.prefix}: revision ${watcher.nextRevision} was compacted (compact revision ${compactRevision}); re-reading the prefix`,
        );
        watcher.handlers.onCompacted(compactRevision);
        return;
      }
      // Canceled for another reason (permissions, server side): retry the whole stream later.
      this.onBroken(new Error(`watch on ${watcher.prefix} canceled by etcd: ${response.cancel_reason || 'no reason given'}`));
      return;
    }

    if (id === -1 || (!watcher && response.events.length === 0)) {
      // A progress_request answer proves the stream alive. It does not move resume revisions:
      // etcd before 3.4.24/3.5.8 answers with the head revision even while a watcher is still
      // catching up, so events at or below it may still arrive (measured here on 3.4.23).
      for (const w of this.watchers.values()) if (w.active) w.handlers.onProgress(headerRevision);
      return;
    }
    if (!watcher) return; // events still in flight for a watcher we cancelled
    if (response.events.length === 0) {
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
