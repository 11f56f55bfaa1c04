// -interval alone (confd's default mode): one pass reads every resource's keys in one snapshot, renders the ones
// the never-blank guard allows, retries failed writes by asking for an early pass, and knows what /readyz says
// between passes (the last poll's outcome). The daemon times the passes (interval.ts) and wires this in.
import type { Backend } from '../backends/types.js';
import type { Logger } from '../log.js';
import type { TemplateResource } from '../resource/model.js';
import { SnapshotStores } from './views.js';
import { NeverBlankGuard } from './guard.js';
import type { Readiness } from './health.js';
import type { MetricsSink } from './metrics-sink.js';
import { fetchSnapshot, processResources, type PassOptions } from './pass.js';
import { resourceName } from './reloads.js';
import type { TimerSource } from './scheduler.js';
import { WriteRetries } from './write-retry.js';

export interface IntervalPassOptions {
  backend: Backend;
  log: Logger;
  metrics: MetricsSink;
  /** Aborted at shutdown: a read in progress is abandoned and nothing more is rendered. */
  stopping: AbortSignal;
  /** The pass options of this moment (the daemon's reload hooks and outcome recorder). */
  passOptions: () => PassOptions;
  /** After the renders: the pass's reloads start (not awaited). */
  afterRender: () => void;
  /** A failed write is due for a retry: ask for a pass now. */
  retrySoon: () => void;
  staleAfterMs: number;
  timers?: TimerSource;
}

/** `work`'s result, or undefined as soon as `signal` aborts (the work is abandoned; its outcome is ignored). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class IntervalPass {
  // What the last poll told.
  private reachable = false;
  private syncedAt: number | undefined;
  private readonly guard: NeverBlankGuard;
  /** Failed writes, retried by an early pass (-watch retries in its runtime). */
  readonly retries: WriteRetries;

  constructor(private readonly opts: IntervalPassOptions) {
    this.guard = new NeverBlankGuard(opts.log);
    this.retries = new WriteRetries({
      log: opts.log,
      timers: opts.timers,
      retry: () => opts.retrySoon(),
      onFailing: (r, failing) => opts.metrics.writeFailing(resourceName(r), failing),
    });
  }

  async run(resources: readonly TemplateResource[]): Promise<void> {
    const { stopping, metrics } = this.opts;
    if (resources.length === 0 || stopping.aborted) return;
    let snapshot;
    try {
      snapshot = await untilAborted(fetchSnapshot(this.opts.backend, resources), stopping);
      // Shutting down during the read (a stalled etcd answers only at its deadline): nothing was written, stop now.
      if (snapshot === undefined) return;
      this.reachable = true;
      this.syncedAt = Date.now();
      metrics.mirrorSynced(this.syncedAt);
    } catch (e) {
      this.reachable = false;
      this.opts.log.error((e as Error).message);
      for (const r of resources) metrics.failure(resourceName(r), 'fetch');
      return;
    }
    if (stopping.aborted) return;
    const stores = new SnapshotStores(snapshot.kvs);
    const allowed = this.guard.filter(resources, (r) => stores.storeFor(r.prefix, r.keys).size);
    for (const r of resources) if (!allowed.includes(r)) metrics.failure(resourceName(r), 'min_keys');
    for (const r of allowed) this.retries.rendering(r);
    const result = await processResources(allowed, snapshot, this.opts.passOptions(), stores);
    for (const r of allowed) this.retries.settled(r, result.outcomes.filter((o) => o.resource === r));
    this.opts.afterRender();
  }

  /** /readyz between passes; `rendered`: the files of the resources rendered at least once. */
  readiness(resources: readonly TemplateResource[], rendered: ReadonlySet<string>): Readiness {
    return {
      backendReachable: this.reachable,
      mirrorInSync: this.reachable,
      mirrorAgeMs: this.syncedAt === undefined ? null : Date.now() - this.syncedAt,
      staleAfterMs: this.opts.staleAfterMs,
      resourcesNeverRendered: resources.filter((r) => !rendered.has(r.file)).map((r) => r.file),
      destinationsGuarded: [...this.guard.guarded],
      writesFailing: this.retries.describe(),
    };
  }
}
