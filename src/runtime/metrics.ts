// Prometheus metrics of one tsconfd process. The runtime owns one Metrics and calls its small typed methods;
// nothing else in the program touches prom-client, so metric names and labels live in this file only.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CommandKind, CommandOutcome, FailureReason, MetricsSink } from './metrics-sink.js';

export interface MetricsOptions {
  /** Shown in tsconfd_build_info{version}. */
  version?: string;
  /** Backend name, shown in tsconfd_build_info{backend}. */
  backend?: string;
  /** Node's process_* and nodejs_* metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
  /** Clock for the mirror age, in milliseconds; tests pass a fake one. Default Date.now. */
  now?: () => number;
}

// Commands are shell scripts that mostly finish in milliseconds (nginx -t) but may take seconds; a hung one is
// killed at its timeout, so the top buckets matter for alerting.
const COMMAND_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BACKEND_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics implements MetricsSink {
  readonly registry = new Registry();

  private readonly now: () => number;
  private mirrorSyncedAtMs: number | undefined;

  private readonly renders: Counter<'resource'>;
  private readonly writes: Counter<'resource'>;
  private readonly skippedUnchangedTotal: Counter<'resource'>;
  private readonly failures: Counter<'resource' | 'reason'>;
  private readonly lastSuccess: Gauge<'resource'>;
  private readonly writeFailingGauge: Gauge<'resource'>;
  private readonly commandDuration: Histogram<'resource' | 'kind'>;
  private readonly commandExits: Counter<'resource' | 'kind' | 'code'>;
  private readonly reloadsDeferred: Counter<'resource'>;
  private readonly backendRequests: Counter<'op'>;
  private readonly backendErrors: Counter<'op'>;
  private readonly backendDuration: Histogram<'op'>;
  private readonly watchRevisionGauge: Gauge;
  private readonly watchLagRevisions: Gauge;
  private readonly watchLagSeconds: Gauge;
  private readonly resourcesGauge: Gauge;
  private readonly readyGauge: Gauge;
  private readonly staleGauge: Gauge;
  private readonly execRunning: Gauge;
  private readonly execRestarts: Counter;
  private readonly execReloads: Counter;
  private readonly execLastExitCode: Gauge;
  private execCounted = { restarts: 0, reloads: 0 };
  private execLastExit: number | null = null;
  private readonly multiLabelSeries = new Map<
    string,
    Map<string, { metric: Counter<string> | Histogram<string>; labels: Record<string, string> }>
  >();

  constructor(options: MetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    const registers = [this.registry];

    const buildInfo = new Gauge({
      name: 'tsconfd_build_info',
      help: 'Always 1; labels carry the tsconfd version and the backend in use.',
      labelNames: ['version', 'backend'],
      registers,
    });
    buildInfo.set({ version: options.version ?? 'unknown', backend: options.backend ?? 'unknown' }, 1);

    this.renders = new Counter({
      name: 'tsconfd_renders_total',
      help: 'Templates rendered successfully, per resource.',
      labelNames: ['resource'],
      registers,
    });
    this.writes = new Counter({
      name: 'tsconfd_writes_total',
      help: 'Destination files replaced with new content, per resource.',
      labelNames: ['resource'],
      registers,
    });
    this.skippedUnchangedTotal = new Counter({
      name: 'tsconfd_skipped_unchanged_total',
      help: 'Renders whose output equalled the destination (content, mode and owner), so nothing was written.',
      labelNames: ['resource'],
      registers,
    });
    this.failures = new Counter({
      name: 'tsconfd_failures_total',
      help: 'Failed resource passes, per resource and reason (load, fetch, template, stage, check, write, reload).',
      labelNames: ['resource', 'reason'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'tsconfd_last_success_timestamp_seconds',
      help: 'Unix time of the last pass that rendered the resource without error (written or unchanged).',
      labelNames: ['resource'],
      registers,
    });
    this.writeFailingGauge = new Gauge({
      name: 'tsconfd_write_failing',
      help: '1 while the last write of the resource failed and is being retried with backoff (-watch); absent otherwise.',
      labelNames: ['resource'],
      registers,
    });
    this.commandDuration = new Histogram({
      name: 'tsconfd_command_duration_seconds',
      help: 'Wall time of check and reload commands (shell commands and built-in reload actions).',
      labelNames: ['resource', 'kind'],
      buckets: COMMAND_BUCKETS_SECONDS,
      registers,
    });
    this.commandExits = new Counter({
      name: 'tsconfd_command_exits_total',
      help: 'Check and reload commands by how they ended: exit status, killing signal, "timeout" or "error" (could not start).',
      labelNames: ['resource', 'kind', 'code'],
      registers,
    });
    this.reloadsDeferred = new Counter({
      name: 'tsconfd_reloads_deferred_total',
      help: 'Reloads postponed because the minimum interval between reloads had not passed yet.',
      labelNames: ['resource'],
      registers,
    });
    this.backendRequests = new Counter({
      name: 'tsconfd_backend_requests_total',
      help: 'Requests made to the backend, per operation.',
      labelNames: ['op'],
      registers,
    });
    this.backendErrors = new Counter({
      name: 'tsconfd_backend_errors_total',
      help: 'Backend requests that failed, per operation.',
      labelNames: ['op'],
      registers,
    });
    this.backendDuration = new Histogram({
      name: 'tsconfd_backend_request_duration_seconds',
      help: 'Wall time of backend requests, per operation.',
      labelNames: ['op'],
      buckets: BACKEND_BUCKETS_SECONDS,
      registers,
    });
    this.watchRevisionGauge = new Gauge({
      name: 'tsconfd_watch_revision',
      help: 'Backend revision of the data last applied (etcd revision; 0 for backends without revisions).',
      registers,
    });
    this.watchLagRevisions = new Gauge({
      name: 'tsconfd_watch_lag_revisions',
      help: 'Revisions the backend is ahead of the data last applied.',
      registers,
    });
    this.watchLagSeconds = new Gauge({
      name: 'tsconfd_watch_lag_seconds',
      help: 'Time from the backend change being seen to the render pass that applied it finishing.',
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'tsconfd_mirror_age_seconds',
      help: 'Seconds since the local mirror of the keys was last known to match the backend; absent until the first sync.',
      registers,
      // Computed at scrape time, so the age keeps growing while the backend is gone.
      collect() {
        // Before the first sync there is no age: export no sample rather than a 0 that would read as fresh.
        if (metrics.mirrorSyncedAtMs === undefined) return this.remove();
        this.set(Math.max(0, metrics.now() - metrics.mirrorSyncedAtMs) / 1000);
      },
    });
    this.resourcesGauge = new Gauge({
      name: 'tsconfd_resources',
      help: 'Template resources currently loaded.',
      registers,
    });

    this.readyGauge = new Gauge({
      name: 'tsconfd_ready',
      help: '1 when /readyz answers 200 (its default rule, or -strict-readiness), else 0.',
      registers,
    });
    this.staleGauge = new Gauge({
      name: 'tsconfd_stale',
      help: '1 while the files rendered earlier are served but the backend is unreachable, out of sync, older than -stale-after, or below min_keys.',
      registers,
    });
    // -exec's child (runtime/supervisor.ts); absent without -exec.
    this.execRunning = new Gauge({ name: 'tsconfd_exec_running', help: '1 while the -exec child runs, else 0.', registers: [] });
    this.execRestarts = new Counter({ name: 'tsconfd_exec_restarts_total', help: 'Times the -exec child was restarted (-exec-restart).', registers: [] });
    this.execReloads = new Counter({ name: 'tsconfd_exec_reload_signals_total', help: 'Reload signals sent to the -exec child.', registers: [] });
    this.execLastExitCode = new Gauge({
      name: 'tsconfd_exec_last_exit_code',
      help: "The -exec child's last exit code (128+n when a signal ended it); absent before its first exit.",
      registers: [],
      collect() {
        if (metrics.execLastExit === null) return this.remove();
        this.set(metrics.execLastExit);
      },
    });

    // The event-loop-delay sampler is a timer: at prom-client's default 10 ms it was most of an idle agent's
    // CPU (2.7 ms/s with -http, 0.7 ms/s at 100 ms, measured side by side).
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
  }

  /** The Content-Type to serve the text of `text()` with. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** A template rendered without error (before comparing with dest). */
  render(resource: string): void {
    this.renders.inc({ resource });
  }

  /** dest was replaced with new content. */
  write(resource: string): void {
    this.writes.inc({ resource });
    this.lastSuccess.set({ resource }, this.now() / 1000);
  }

  /** The render equalled dest, so nothing was written and no command ran. */
  skippedUnchanged(resource: string): void {
    this.skippedUnchangedTotal.inc({ resource });
    this.lastSuccess.set({ resource }, this.now() / 1000);
  }

  failure(resource: string, reason: FailureReason): void {
    this.failures.inc({ resource, reason });
    this.remember(resource, 'failures', this.failures, { resource, reason });
  }

  /** The resource's writes started failing (retried with backoff), or one succeeded again. */
  writeFailing(resource: string, failing: boolean): void {
    if (failing) this.writeFailingGauge.set({ resource }, 1);
    else this.writeFailingGauge.remove({ resource });
  }

  /** One check_cmd or reload_cmd (or built-in reload action) finished. */
  command(resource: string, kind: CommandKind, durationMs: number, outcome: CommandOutcome): void {
    const code = String(outcome);
    this.commandDuration.observe({ resource, kind }, durationMs / 1000);
    this.commandExits.inc({ resource, kind, code });
    this.remember(resource, 'duration', this.commandDuration, { resource, kind });
    this.remember(resource, 'exits', this.commandExits, { resource, kind, code });
  }

  reloadDeferred(resource: string): void {
    this.reloadsDeferred.inc({ resource });
  }

  /** One backend request finished; `op` names it ("range", "get", "watch", "read-file"...). */
  backendRequest(op: string, durationMs: number, ok: boolean): void {
    this.backendRequests.inc({ op });
    this.backendDuration.observe({ op }, durationMs / 1000);
    if (!ok) this.backendErrors.inc({ op });
  }

  /**
   * The data of `applied` revision has been rendered. `head` is the newest revision the backend reported
   * (the watch response header), when known; `lagMs` is the time from seeing the change to finishing its pass.
   */
  watchRevision(applied: number, head?: number, lagMs?: number): void {
    this.watchRevisionGauge.set(applied);
    if (head !== undefined) this.watchLagRevisions.set(Math.max(0, head - applied));
    if (lagMs !== undefined) this.watchLagSeconds.set(lagMs / 1000);
  }

  /** The local mirror matches the backend as of `atMs` (default now). The mirror age is measured from here. */
  mirrorSynced(atMs: number = this.now()): void {
    this.mirrorSyncedAtMs = atMs;
  }

  /** The readiness verdict (runtime/health.ts), set before each scrape. */
  readiness(ready: boolean, stale: boolean): void {
    this.readyGauge.set(ready ? 1 : 0);
    this.staleGauge.set(stale ? 1 : 0);
  }

  /** The -exec child's state (registers its metrics on first use, so a run without -exec exports none). */
  exec(status: { running: boolean; restarts: number; reloads: number; lastExitCode: number | null }): void {
    if (!this.registry.getSingleMetric('tsconfd_exec_running')) {
      for (const m of [this.execRunning, this.execRestarts, this.execReloads, this.execLastExitCode]) this.registry.registerMetric(m);
    }
    this.execRunning.set(status.running ? 1 : 0);
    if (status.restarts > this.execCounted.restarts) this.execRestarts.inc(status.restarts - this.execCounted.restarts);
    if (status.reloads > this.execCounted.reloads) this.execReloads.inc(status.reloads - this.execCounted.reloads);
    this.execCounted = { restarts: status.restarts, reloads: status.reloads };
    this.execLastExit = status.lastExitCode;
  }

  resourcesLoaded(count: number): void {
    this.resourcesGauge.set(count);
  }

  /** Forget a removed resource, so its series stop being exported. */
  removeResource(resource: string): void {
    for (const metric of [this.renders, this.writes, this.skippedUnchangedTotal, this.lastSuccess, this.writeFailingGauge, this.reloadsDeferred]) {
      metric.remove({ resource });
    }
    // prom-client cannot remove by a partial label set, so the full sets recorded for the resource are kept here.
    for (const { metric, labels } of this.multiLabelSeries.get(resource)?.values() ?? []) metric.remove(labels);
    this.multiLabelSeries.delete(resource);
  }

  private remember(
    resource: string,
    metricName: string,
    metric: Counter<string> | Histogram<string>,
    labels: Record<string, string>,
  ): void {
    let series = this.multiLabelSeries.get(resource);
    if (!series) this.multiLabelSeries.set(resource, (series = new Map()));
    series.set(`${metricName}\0${JSON.stringify(labels)}`, { metric, labels });
  }
}
