// `-watch`: resources render from in-memory mirrors of their key prefixes (see mirror.ts), and
// only the resources whose keys changed render again. Bursts are coalesced per resource by a
// quiescence window (consul-template's wait = "min:max": render once no change came for `min`,
// or at the latest `max` after the first change), so the last value is always written. A
// render from fewer keys than `min_keys` (default 1 when the resource had keys at start-up) never
// replaces a destination unless `allow_empty = true`. With -interval, every interval re-reads
// all prefixes and re-processes every resource (reconciliation).
import { hasChangeFeed, isStatic, isWatchable, type Backend, type ChangeFeedBackend, type WatchableBackend } from '../backends/types.js';
import { staticFeed } from './static-feed.js';
import type { Logger } from '../log.js';
import type { Readiness } from './health.js';
import { ResourceLoadError } from '../resource/load.js';
import type { TemplateResource } from '../resource/model.js';
import { covers } from '../keys/index.js';
import { KeyMirrors, type MirrorChange, type MirrorStatus } from './mirror.js';
import { mayShareDest, processResources, type PassOptions } from './pass.js';
import { WriteRetries } from './write-retry.js';
import { groupKeys } from '../resource/group.js';
import { parseWait, type WaitWindow } from './duration.js';
import { NeverBlankGuard } from './guard.js';
import { defaultScheduler, type Timer, type TimerSource } from './scheduler.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Writes (check_cmd, stage, rename) of single resources going on at once, beside the renders. */
const MAX_COMMITS = 8;

/** How long a render waits for etcd to confirm that all of a resource's prefixes reached one revision. */
const CONSISTENCY_TIMEOUT_MS = 1_000;

/**
 * A failed write (ENOSPC, EMFILE, EACCES...) is retried after 1 s, then 2, 4, ... at most 60 s apart, for as
 * long as it fails: each attempt logs one line, so the log grows by at most one line a minute.
 */
export const WRITE_RETRY_MIN_MS = 1_000;
export const WRITE_RETRY_MAX_MS = 60_000;

export interface WatchStatus {
  /** Every mirror has read its prefix and is not re-reading. */
  readonly inSync: boolean;
  /** The mirrors are older than -stale-after. */
  readonly stale: boolean;
  /** Age of the stalest mirror, in ms. */
  readonly ageMs: number;
  /** Destinations kept because a render had fewer keys than allowed (min_keys / allow_empty). */
  readonly guarded: readonly string[];
  readonly renders: number;
  readonly mirrors: readonly MirrorStatus[];
}

export interface WatchRuntimeOptions extends PassOptions {
  wait: WaitWindow;
  /** Full re-read and re-process every this many ms; 0: never. */
  reconcileMs: number;
  /** The daemon's scheduler: quiescence, reconciliation, staleness checks, write retries. */
  timers?: TimerSource;
  /** Mark the agent stale (log, health) when the mirrors are older than this; 0: never. */
  staleAfterMs: number;
  onStatus?: (status: WatchStatus) => void;
  /** Runs after each batch of renders (runtime/reloads.ts: a shared reload runs once per batch). */
  afterRender?: () => Promise<void>;
  /** Told when a resource's writes start failing (true) and when one succeeds again (false): a metric. */
  onWriteFailing?: (resource: TemplateResource, failing: boolean) => void;
  /** Tests: the first and the largest delay between retries of a failed write. */
  writeRetry?: { minMs: number; maxMs: number };
}

interface Dirty {
  firstAt: number;
  lastAt: number;
}

export class WatchRuntime {
  private readonly mirrors: KeyMirrors;
  private readonly waits = new Map<TemplateResource, WaitWindow>();
  private readonly dirty = new Map<TemplateResource, Dirty>();
  /** Resources a render skipped because a mirror behind them was re-reading (after a compaction). */
  private readonly awaitingSync = new Set<TemplateResource>();
  /** Never blank a config: a render from fewer keys than min_keys does not happen. */
  private readonly guard: NeverBlankGuard;
  private timer: Timer | undefined;
  /**
   * A change that finds the runtime idle renders from here, not from a 0 ms timer (Node makes that
   * 1 ms: a third of an update's latency at T=10). Changes that came during a render or a write (a
   * burst) still wait for that timer, which lets more of the burst join one render.
   */
  private immediate: Timer | undefined;
  /** `timer` is the 0 ms one of a burst. */
  private timerBatches = false;
  /** The resources whose keys a change of each mirror's prefix may touch (onChange), built on first use. */
  private readonly byMirror = new Map<string, readonly TemplateResource[]>();
  private reconcileTimer: Timer | undefined;
  private staleTimer: Timer | undefined;
  private readonly timers: TimerSource;
  private running: Promise<void> | undefined;
  /**
   * Single resources whose render, check_cmd and write go on while the next resources render (each
   * holds its own views): a slow or hung check of one resource holds back no other. A resource here
   * renders again only once its commit has ended.
   */
  private readonly committing = new Map<TemplateResource, Promise<void>>();
  private started = false;
  private stopped = false;
  private stale = false;
  private renders = 0;
  /** Resources rendered (written or found unchanged) at least once. */
  private readonly rendered = new Set<TemplateResource>();
  /** Resources whose last write failed, retried with backoff (health reports them until a write succeeds). */
  private readonly retries: WriteRetries;
  private readonly log: Logger;
  private readonly backend: WatchableBackend | ChangeFeedBackend;

  constructor(
    private readonly resources: readonly TemplateResource[],
    backend: Backend,
    private readonly opts: WatchRuntimeOptions,
  ) {
    this.log = opts.log;
    this.timers = opts.timers ?? defaultScheduler;
    this.backend = followed(backend, this.timers);
    this.guard = new NeverBlankGuard(opts.log);
    for (const r of resources) this.waits.set(r, r.wait ? parseWaitFor(r) : opts.wait);
    this.mirrors = new KeyMirrors(
      this.backend,
      resources.flatMap((r) => r.keys),
      opts.log,
      (change) => this.onChange(change),
      () => this.mirrorsAdvanced(),
    );
    this.retries = new WriteRetries({
      log: opts.log,
      timers: this.timers,
      ...opts.writeRetry,
      onFailing: opts.onWriteFailing,
      retry: (r) => {
        if (this.stopped || !this.started) return;
        if (!this.dirty.has(r)) this.dirty.set(r, { firstAt: Date.now(), lastAt: Date.now() - 1e9 });
        this.schedule();
      },
    });
  }

  /** Reads every prefix, renders every resource once, then keeps watching. */
  async start(): Promise<void> {
    await this.mirrors.start();
    if (this.stopped) return;
    for (const r of this.resources) this.guard.recordStartup(r, this.mirrors.snapshot(r.keys).kvs.length);
    this.started = true;
    this.dirty.clear();
    await this.render([...this.resources]);
    // Start-up ends once every resource has been written (or has failed), as before commits ran beside renders.
    await Promise.all(this.committing.values());
    // Start-up's garbage (module loading, the first read and renders) goes now, in one collection,
    // rather than keeping the heap it grew to: ~4 MB less RSS for an agent that then sits idle.
    releaseMemory(true);
    if (this.opts.reconcileMs > 0) {
      this.reconcileTimer = this.timers.every(this.opts.reconcileMs, () => void this.reconcile());
    }
    if (this.opts.staleAfterMs > 0) {
      // Ask for a confirmation once the last one is a third of -stale-after old, so a healthy watch
      // never looks stale; an idle agent asks no more often than that (each ask wakes etcd too).
      const every = Math.max(100, Math.min(1000, this.opts.staleAfterMs / 3));
      const askAfter = this.opts.staleAfterMs / 3;
      this.staleTimer = this.timers.every(every, () => {
        if (this.mirrors.ageMs() >= askAfter) this.backend.requestProgress(askAfter);
        this.checkStale();
      });
    }
    this.schedule();
  }

  status(): WatchStatus {
    const now = Date.now();
    const mirrors = this.mirrors.status(now);
    return {
      inSync: mirrors.every((m) => m.inSync),
      stale: this.stale,
      ageMs: this.mirrors.ageMs(now),
      guarded: [...this.guard.guarded],
      renders: this.renders,
      mirrors,
    };
  }

  /** The health endpoint's view (src/runtime/health.ts), computed from state already kept. */
  readiness(): Readiness {
    const mirrors = this.mirrors.status();
    const everRead = mirrors.every((m) => m.ageMs !== Infinity);
    return {
      backendReachable: mirrors.every((m) => m.connected),
      mirrorInSync: mirrors.every((m) => m.inSync && m.connected),
      mirrorAgeMs: everRead ? this.mirrors.ageMs() : null,
      staleAfterMs: this.opts.staleAfterMs,
      resourcesNeverRendered: this.resources.filter((r) => !this.rendered.has(r)).map((r) => r.file),
      destinationsGuarded: [...this.guard.guarded],
      writesFailing: this.retries.describe(),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.immediate?.cancel();
    this.reconcileTimer?.cancel();
    this.staleTimer?.cancel();
    // A runtime that replaces this one (a reload) renders every resource at once and reports its own failures.
    this.retries.close();
    await this.running;
    await Promise.all(this.committing.values());
    await this.mirrors.close();
  }

  private onChange(change: MirrorChange): void {
    // The mirrors' views heard of it already (KeyMirrors): it builds the next view, and a render
    // holding one goes on with the revision it took.
    if (!this.started) return;
    const now = Date.now();
    for (const r of this.resourcesUnder(change.prefix)) {
      if (!r.keys.some((k) => change.keys.some((key) => covers(k, key)))) continue;
      const d = this.dirty.get(r);
      if (d) d.lastAt = now;
      else this.dirty.set(r, { firstAt: now, lastAt: now });
    }
    const at = change.revision > 0 ? ` at revision ${change.revision}` : '';
    this.log.debug(`${change.prefix}: ${change.keys.length} key(s) changed${at} (${change.cause})`);
    this.schedule(true);
  }

  /** The resources with a key inside `prefix` or covering it: the only ones a change of that mirror can touch. */
  private resourcesUnder(prefix: string): readonly TemplateResource[] {
    let rs = this.byMirror.get(prefix);
    if (!rs) {
      rs = this.resources.filter((r) => r.keys.some((k) => covers(prefix, k) || covers(k, prefix)));
      this.byMirror.set(prefix, rs);
    }
    return rs;
  }

  /** A mirror moved: resources skipped while one of theirs was re-reading render now if all are back in sync. */
  private mirrorsAdvanced(): void {
    if (this.awaitingSync.size === 0 || this.stopped) return;
    let any = false;
    for (const r of this.awaitingSync) {
      if (!this.mirrors.inSync(r.keys)) continue;
      this.awaitingSync.delete(r);
      // Its change already waited its wait time: due at once, as a write retry.
      if (!this.dirty.has(r)) this.dirty.set(r, { firstAt: Date.now(), lastAt: Date.now() - 1e9 });
      any = true;
    }
    if (any) this.schedule();
  }

  private due(r: TemplateResource, d: Dirty): number {
    const w = this.waits.get(r)!;
    return Math.min(d.lastAt + w.minMs, d.firstAt + w.maxMs);
  }

  /** `change`: called for a change (not for the end of a render or a write, a retry or a reconciliation). */
  private schedule(change = false): void {
    const batching = this.timer !== undefined && this.timerBatches;
    this.timer?.cancel();
    this.immediate?.cancel();
    this.timer = undefined;
    this.immediate = undefined;
    if (this.stopped || this.running || this.dirty.size === 0) return;
    let next = Infinity;
    for (const [r, d] of this.dirty) if (!this.committing.has(r)) next = Math.min(next, this.due(r, d));
    if (next === Infinity) return; // each one waits for its commit to end (which schedules again)
    const delay = next - Date.now();
    // Due now and idle: after this turn's I/O callbacks (events that came in the same read still join it).
    if (delay <= 0 && change && !batching) {
      this.immediate = this.timers.soon(() => this.flush());
      return;
    }
    this.timerBatches = delay <= 0;
    this.timer = this.timers.after(Math.max(0, delay), () => this.flush());
  }

  private flush(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const now = Date.now();
    const batch: TemplateResource[] = [];
    for (const [r, d] of this.dirty) {
      if (this.due(r, d) <= now && !this.committing.has(r)) batch.push(r);
    }
    for (const r of batch) this.dirty.delete(r);
    void this.render(batch);
  }

  private render(batch: TemplateResource[]): Promise<void> {
    const commits: Array<Promise<void>> = [];
    const run = (async () => {
      for (const r of batch) {
        if (this.stopped) return;
        // A mirror re-reading (after a compaction) has no trustworthy data: r waits for it. Its read
        // re-dirties r only where it changed a key, so r is remembered and rendered once every
        // mirror behind it is back in sync (a change to another prefix of r would be lost otherwise).
        if (!this.mirrors.inSync(r.keys)) {
          this.awaitingSync.add(r);
          this.log.debug(`${r.dest}: a prefix it reads is being re-read; rendering once it is back in sync`);
          continue;
        }
        // Writes to one dest stay in render order; and a bound on writes in flight.
        for (const [other, commit] of this.committing) if (mayShareDest(other.dest, r.dest)) await commit;
        if (this.committing.size >= MAX_COMMITS) await Promise.race(this.committing.values());
        if (this.stopped) return;
        // Last before the views are taken: from here to taking them nothing awaits, so they hold the revision checked.
        if (!(await this.mirrors.consistent(groupKeys(r), CONSISTENCY_TIMEOUT_MS))) {
          this.log.warning(`${r.dest}: the backend did not confirm one revision for all its prefixes within ${CONSISTENCY_TIMEOUT_MS} ms; rendering what the mirrors hold`);
        }
        if (this.stopped) return;
        // groupKeys: a commit group renders whole, from every member's keys (tsconfd extension).
        // A count and the revision are all the guard needs of the mirrors.
        const { size, revision } = this.mirrors.count(groupKeys(r));
        if (!this.guard.allows(r, size)) continue;
        // This render supersedes a pending retry of r (its outcome schedules the next one if it fails too).
        this.retries.rendering(r);
        this.renders++;
        // The views of the revision just checked, taken now (nothing awaited since the barrier) and
        // held by this render to its end: its template, -log-diff's and -noop's redaction, a fan-out's
        // files, a group's members all read this one revision.
        const views = this.mirrors.views.hold([r, ...(r.ext?.group?.members ?? [])].map((m) => ({ prefix: m.prefix, keys: m.keys })));
        const done = processResources([r], { revision }, this.opts, views)
          .then((result) => {
            if (result.failed.length === 0) this.rendered.add(r);
            this.retries.settled(r, result.outcomes);
          })
          .catch((e: Error) => {
            // processResources reports resource failures itself; anything else must not end the watch.
            this.log.error(`${r.dest}: ${e.message}`);
          })
          .finally(() => views.release());
        // Fan-outs, groups, -noop and -log-diff print or write several things in order: one at a time.
        const single = r.ext?.range === undefined && r.ext?.group === undefined && !this.opts.logDiff && !this.opts.noop;
        if (!single) {
          await done;
          continue;
        }
        // Its render, check_cmd and write go on while the next resources render.
        const commit = done.finally(() => {
          this.committing.delete(r);
          this.schedule();
        });
        this.committing.set(r, commit);
        commits.push(commit);
      }
    })().catch((e: Error) => this.log.error(`watch render: ${e.message}`));
    this.running = run.finally(() => {
      this.running = undefined;
      this.publish();
      this.schedule();
    });
    // A reload shared by resources of the batch runs once, after all their writes; a slow check_cmd
    // delays only its own batch's reloads, never another resource's render.
    void run
      .then(async () => {
        await Promise.all(commits);
        await this.opts.afterRender?.();
        releaseMemory();
        this.publish();
      })
      .catch((e: Error) => this.log.error(`watch reloads: ${e.message}`));
    return this.running;
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    this.log.debug('reconciliation: re-reading every prefix');
    await this.mirrors.reconcile();
    const now = Date.now();
    for (const r of this.resources) if (!this.dirty.has(r)) this.dirty.set(r, { firstAt: now, lastAt: now - 1e9 });
    this.schedule();
  }

  private checkStale(): void {
    const age = this.mirrors.ageMs();
    if (!this.stale && age > this.opts.staleAfterMs) {
      this.stale = true;
      const down = this.mirrors.status().filter((m) => !m.connected || !m.inSync).map((m) => m.prefix);
      this.log.error(
        `STALE: no confirmation from the backend for ${Math.round(age)} ms (-stale-after ${this.opts.staleAfterMs} ms)${down.length ? `; not connected: ${down.join(', ')}` : ''}; files may be out of date`,
      );
      this.publish();
    } else if (this.stale && age <= this.opts.staleAfterMs) {
      this.stale = false;
      this.log.info('backend confirmed the mirrors again; no longer stale');
      this.publish();
    }
  }

  private publish(): void {
    this.opts.onStatus?.(this.status());
  }
}

/** Resident memory above which a finished render batch may be followed by a full collection. */
const RSS_COLLECT_BYTES = 150 * 1024 * 1024;
/** ... once the heap and buffers grew this much beyond what the last one left live (it costs 20-40 ms at xlarge). */
const GARBAGE_BYTES = 12 * 1024 * 1024;
let fullGc: (() => void) | undefined;
let liveAfterGc = 0;

/**
 * A render of a large template leaves tens of MB of garbage (the output's string pieces, its
 * buffer, the destination read back), most of it promoted to the old generation while the render
 * runs; renders every few tens of ms let V8 grow the heap far beyond what is live (xlarge: 350 MB
 * peak, ~60 MB live). Collecting once a batch is written keeps the peak near the live size; it
 * only runs when memory is already high and garbage has piled up, so small set-ups and small
 * renders never pay for it.
 */
function releaseMemory(always = false): void {
  const m = process.memoryUsage();
  if (!always && (m.rss < RSS_COLLECT_BYTES || m.heapUsed + m.external < liveAfterGc + GARBAGE_BYTES)) return;
  if (!fullGc) {
    setFlagsFromString('--expose-gc');
    fullGc = runInNewContext('gc') as () => void;
  }
  fullGc();
  const after = process.memoryUsage();
  liveAfterGc = after.heapUsed + after.external;
}

function parseWaitFor(r: TemplateResource): WaitWindow {
  try {
    return parseWait(r.wait);
  } catch (e) {
    throw new ResourceLoadError(`${r.file}: template.wait: ${(e as Error).message}`);
  }
}

/** The backend as the mirrors follow it, by the kind of change feed it has (a static one is read once). */
function followed(backend: Backend, timers: TimerSource): WatchableBackend | ChangeFeedBackend {
  if (isWatchable(backend) || hasChangeFeed(backend)) return backend;
  if (isStatic(backend)) return staticFeed(backend, timers);
  throw new Error(`the ${backend.name} backend cannot watch; use -interval instead of -watch`);
}
