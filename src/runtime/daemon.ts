// The long-running process (-watch, or -interval alone), in one place: which loop runs, the -http endpoint
// (/healthz, /readyz, /metrics), the metrics, the signals (SIGTERM/SIGINT: finish the write in progress, start no
// new command, exit 0 within the grace; SIGHUP: reload the resources), live resources (conf.d and templates are
// watched; a changed set is loaded and rendered without a restart, a broken file keeps its last good version and
// is reported in the log, in tsconfd_failures_total{reason="load"} and on /readyz), and the reloads
// (reloads.ts: once per pass per distinct command, min_reload_interval, per-resource command_timeout).
//
// Exit codes: 0 after a clean shutdown; 1 when it cannot start (bad resources, backend, -http address) or the
// shutdown did not finish within the grace.
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import type { Backend } from '../backends/types.js';
import { instrumented } from './backend-metrics.js';
import type { Logger } from '../log.js';
import { loadResourcesOrFatal, ResourceLoadError, type LoadOptions } from '../resource/load.js';
import type { TemplateResource } from '../resource/model.js';
import { watchConfdir, loadLiveResources, type BrokenResource, type ConfdirWatcher } from './confdir-watcher.js';
import { evaluateReadiness, startHealthServer, type HealthServer, type Readiness } from './health.js';
import { IntervalLoop } from './interval.js';
import { removeStaleStageFiles } from '../resource/stage-cleanup.js';
import type { Metrics } from './metrics.js';
import { NO_METRICS, type FailureReason, type MetricsSink } from './metrics-sink.js';
import type { PassOptions, PassResult, ResourceOutcome } from './pass.js';
import { ReloadScheduler, resourceName } from './reloads.js';
import { SignalCoordinator, type SignalTarget } from './signals.js';
import type { WaitWindow } from './duration.js';
import { WatchRuntime } from './watch.js';
import { Lifecycle, type LifecycleOptions } from './lifecycle.js';
import type { SystemdNotifier } from './sd-notify.js';
import { IntervalPass } from './interval-pass.js';
import { defaultScheduler, type Timer, type TimerSource } from './scheduler.js';

export interface DaemonOptions extends Omit<PassOptions, 'commands' | 'onPass'> {
  mode: 'watch' | 'interval';
  confdir: string;
  prefix: string;
  /** Keys lose every "/*" (redis, zookeeper: resource/load.ts). */
  stripKeyWildcards?: boolean;
  /** -interval in ms: the period of -interval mode; with -watch, the full reconciliation period. */
  intervalMs: number;
  wait: WaitWindow;
  /** -stale-after in ms; 0: never stale. */
  staleAfterMs: number;
  /** -http address; '' serves nothing. */
  http: string;
  /** -strict-readiness: /readyz fails on a stale or unreachable backend too. */
  strictReadiness?: boolean;
  version: string;
  backendName: string;
  /** Opens the backend; `timers`: the runtime's scheduler, for the backend's reconnects and retries. */
  openBackend: (timers: TimerSource) => Promise<Backend>;
  /** Bound of the whole shutdown (SignalCoordinator's default when unset). */
  graceMs?: number;
  /** Quiet time before a burst of conf.d/templates events reloads the resources. */
  debounceMs?: number;
  /** Tests: where the signals come from (default the process). */
  signalTarget?: SignalTarget;
  /** Tests: told the endpoint's URL once it listens. */
  onListening?: (url: string) => void;
  /** -exec: the child to supervise (lifecycle.ts). */
  exec?: LifecycleOptions['exec'];
  /** systemd Type=notify (NOTIFY_SOCKET was set). */
  notifier?: SystemdNotifier;
  notifyReadyEarly?: boolean;
}

const FAILURE_REASON: Record<NonNullable<ResourceOutcome['stage']>, FailureReason> = {
  mode: 'stage',
  template: 'template',
  render: 'template',
  write: 'write',
  check: 'check',
  reload: 'reload',
  fetch: 'fetch',
  min_keys: 'min_keys',
};

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { log } = opts;
  const resources = loadResourcesOrFatal(opts, initialResources);
  if (!resources) return 1;
  if (!opts.noop && !opts.keepStageFile) removeStaleStageFiles(resources, performance.timeOrigin, log);
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  // -exec without -exec-restart: a child that exits ends tsconfd with the child's code.
  let childExitCode: number | undefined;
  const signals = new SignalCoordinator({ graceMs: opts.graceMs, exit: (code) => resolveExit(childExitCode ?? code), log, target: opts.signalTarget });
  // Only -http can serve metrics: without it, prom-client is never loaded (memory, and its collectors' timers).
  const served = opts.http === '' ? undefined : new (await import('./metrics.js')).Metrics({ version: opts.version, backend: opts.backendName });
  const metrics: MetricsSink = served ?? NO_METRICS;
  const scheduler = new ReloadScheduler({ log, metrics, defaultTimeoutMs: opts.commandTimeoutMs, signal: signals.stopping, timers: defaultScheduler });
  const badSettings = scheduler.prepare(resources);
  if (badSettings.length > 0) {
    for (const b of badSettings) log.fatal(b.error);
    return 1;
  }
  let backend: Backend;
  try {
    backend = instrumented(await opts.openBackend(defaultScheduler), metrics);
  } catch (e) {
    log.fatal((e as Error).message);
    return 1;
  }
  const daemon = new Daemon(opts, backend, metrics, served, scheduler, signals, resources, (code) => {
    childExitCode = code;
    void signals.shutdown();
  });
  try {
    daemon.prepare();
    await daemon.serve();
  } catch (e) {
    log.fatal((e as Error).message);
    await backend.close().catch(() => undefined);
    return 1;
  }
  signals.install();
  daemon.start();
  return exited;
}

/**
 * The resources at start: as -onetime loads them (any broken file stops the start), except that ConfigMap
 * internals (`..data/`, `..<timestamp>/`) are skipped, as the live reloads skip them.
 */
function initialResources(opts: LoadOptions): TemplateResource[] {
  const { confdir, prefix, log } = opts;
  // A missing confdir: -onetime warns and writes nothing (confd's behaviour); a daemon would sit idle for ever, so
  // it stops at once instead (confd's daemon modes exit too).
  if (!existsSync(confdir)) {
    throw new ResourceLoadError(`Cannot load template resources: confdir '${confdir}' does not exist (-confdir); -watch and -interval need it at start`);
  }
  const live = loadLiveResources({ confdir, prefix, log, stripKeyWildcards: opts.stripKeyWildcards }, []);
  if (live.broken.length > 0) {
    for (const b of live.broken.slice(0, -1)) log.debug(b.error);
    throw new ResourceLoadError(live.broken.at(-1)!.error);
  }
  if (live.resources.length === 0) log.warning('Found no templates');
  return live.resources;
}

class Daemon {
  private readonly log: Logger;
  private server: HealthServer | undefined;
  private watcher: ConfdirWatcher | undefined;
  private runtime: WatchRuntime | undefined;
  private loop: IntervalLoop | undefined;
  private broken: BrokenResource[] = [];
  private metricsTimer: Timer | undefined;
  private readonly rendered = new Set<string>();
  /** When the backend last confirmed the keys of the runtime a reload replaced (see carriedOver). */
  private lastConfirmedAt: number | undefined;
  private readonly lifecycle: Lifecycle | undefined;
  /** -interval's pass and its readiness (-watch has its own in the runtime). */
  private readonly interval: IntervalPass;

  constructor(
    private readonly opts: DaemonOptions,
    private readonly backend: Backend,
    private readonly metrics: MetricsSink,
    /** The registry -http serves; undefined without -http. */
    private readonly served: Metrics | undefined,
    private readonly scheduler: ReloadScheduler,
    private readonly signals: SignalCoordinator,
    private resources: TemplateResource[],
    exitWithChild: (code: number) => void,
  ) {
    this.log = opts.log;
    if (opts.exec || opts.notifier) {
      this.lifecycle = new Lifecycle({
        log: opts.log,
        metrics,
        exec: opts.exec,
        notifier: opts.notifier,
        notifyReadyEarly: opts.notifyReadyEarly ?? false,
        exit: exitWithChild,
        signalTarget: opts.signalTarget,
        readiness: () => this.readiness(),
      });
    }
    this.interval = new IntervalPass({
      backend,
      log: opts.log,
      metrics,
      stopping: signals.stopping,
      passOptions: () => this.passOptions,
      afterRender: () => this.startReloads(),
      retrySoon: () => void this.loop?.trigger(),
      staleAfterMs: opts.staleAfterMs,
      timers: defaultScheduler,
    });
  }

  private get passOptions(): PassOptions {
    return { ...this.opts, commands: this.scheduler.hooks(), onPass: (result) => this.record(result) };
  }

  /** Binds -http (before anything else runs, so a bad address fails the start). */
  async serve(): Promise<void> {
    if (this.opts.http === '') return;
    this.server = await startHealthServer({
      listen: this.opts.http,
      readiness: () => this.readiness(),
      metrics: this.served!,
      strict: this.opts.strictReadiness,
    });
    this.log.info(`Serving /healthz, /readyz and /metrics on ${this.server.url}`);
    this.opts.onListening?.(this.server.url);
  }

  start(): void {
    const { signals } = this;
    // Run last-registered first: stop the loop (waits for the render in progress), then the reloads, the
    // conf.d watcher, the endpoint, the backend.
    signals.onShutdown(() => this.backend.close());
    signals.onShutdown(async () => {
      this.metricsTimer?.cancel();
      await this.server?.close();
    });
    signals.onShutdown(() => this.watcher?.close());
    signals.onShutdown(() => this.scheduler.close());
    signals.onShutdown(async () => {
      this.interval.retries.close();
      await this.runtime?.stop();
      await this.loop?.stop();
    });
    signals.onReload(() => this.reload());
    // -exec and systemd notify: the child is stopped (and STOPPING=1 sent) as soon as shutdown begins, and this
    // step, registered last so it runs first, waits for it.
    if (this.lifecycle) {
      const lifecycle = this.lifecycle;
      signals.onShutdown(() => lifecycle.finishShutdown());
      signals.stopping.addEventListener('abort', () => lifecycle.beginShutdown(), { once: true });
      lifecycle.start();
    }
    this.metrics.resourcesLoaded(this.resources.length);
    if (this.served) {
      this.metricsTimer = defaultScheduler.every(1000, () => this.refreshMetrics()).unref();
    }
    this.watcher = watchConfdir({
      confdir: this.opts.confdir,
      debounceMs: this.opts.debounceMs,
      log: this.log,
      onChange: (paths) => {
        this.log.info(`changed: ${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ', …' : ''}: reloading resources`);
        void signals.reload();
      },
    });
    // A conf.d or template change made before chokidar's first scan ends would go unseen, so the
    // first render waits for that scan (bounded, in case a watched directory never settles).
    const scanned = Promise.race([this.watcher.ready, defaultScheduler.sleep(2000, { unref: true })]);
    void scanned.then(() => {
      if (signals.shuttingDown) return;
      // No resource at all: nothing to wait for before the -exec child and READY=1.
      if (this.resources.length === 0) this.lifecycle?.afterPass({ outcomes: [], failed: [], revision: 0 }, true);
      if (this.runtime) void this.startRuntime(this.runtime);
      else void this.loop!.start();
    });
  }

  /** Builds the loop; throws when it cannot run (a backend that cannot watch, a bad resource `wait`). */
  prepare(): void {
    if (this.opts.mode === 'watch') {
      this.runtime = this.newRuntime(this.resources);
    } else {
      this.loop = new IntervalLoop({
        intervalMs: this.opts.intervalMs,
        timers: defaultScheduler,
        pass: () => this.interval.run(this.resources),
        onError: (e) => this.log.error(`pass failed: ${e.message}`),
      });
    }
  }

  private newRuntime(resources: TemplateResource[]): WatchRuntime {
    return new WatchRuntime(resources, this.backend, {
      ...this.passOptions,
      wait: this.opts.wait,
      reconcileMs: this.opts.intervalMs,
      timers: defaultScheduler,
      staleAfterMs: this.opts.staleAfterMs,
      afterRender: async () => this.startReloads(),
      onWriteFailing: (r, failing) => this.metrics.writeFailing(resourceName(r), failing),
    });
  }

  /** Resolves once the runtime's first render ended (or it failed to start, which is logged). */
  private startRuntime(runtime: WatchRuntime): Promise<void> {
    return runtime.start().catch((e) => this.log.error(`watch: ${(e as Error).message}`));
  }

  /**
   * The pass's reloads start, and the next pass does not wait for them: a slow or hung reload of one resource
   * must not hold back the others' renders (it ends at its command_timeout; shutdown waits for it).
   */
  private startReloads(): void {
    void this.scheduler.flush();
  }

  /** Metrics and -interval readiness from one pass's outcomes. */
  private record(result: PassResult): void {
    if (result.revision > 0) {
      // With -watch, the newest revision any mirror has seen is how far etcd is ahead of this render.
      const head = this.runtime?.status().mirrors.reduce((max, m) => Math.max(max, m.revision), 0);
      this.metrics.watchRevision(result.revision, head === undefined ? undefined : Math.max(head, result.revision));
    }
    for (const o of result.outcomes) {
      const name = resourceName(o.resource);
      if (o.status === 'failed') {
        this.metrics.failure(name, FAILURE_REASON[o.stage ?? 'render']);
        continue;
      }
      this.rendered.add(o.resource.file);
      this.metrics.render(name);
      if (o.status === 'updated') this.metrics.write(name);
      else if (o.status === 'unchanged') this.metrics.skippedUnchanged(name);
    }
    this.lifecycle?.afterPass(result, this.resources.every((r) => this.rendered.has(r.file)));
  }

  private refreshMetrics(): void {
    if (!this.runtime) return;
    const state = this.runtime.readiness();
    if (state.mirrorAgeMs !== null && state.mirrorInSync) this.metrics.mirrorSynced(Date.now() - state.mirrorAgeMs);
  }

  readiness(): Readiness {
    let state: Readiness;
    if (this.runtime) {
      state = this.carriedOver(this.runtime.readiness());
    } else {
      state = this.interval.readiness(this.resources, this.rendered);
    }
    // A resource file that does not load is reported here until it is fixed (its last good version still runs).
    const broken = this.broken.map((b) => `${relative(this.opts.confdir, b.file)} (does not load: ${b.error})`);
    const exec = this.lifecycle?.supervisor?.status();
    return { ...state, resourcesNeverRendered: [...state.resourcesNeverRendered, ...broken], ...(exec && { exec }) };
  }

  /**
   * A reload's runtime starts with nothing read and nothing rendered, yet the files on disk are the good ones its
   * predecessor rendered: a resource this agent rendered before counts as rendered, and keys read before count as
   * read, out of sync until the new runtime reads them. Otherwise a conf.d edit during a backend outage took every
   * pod out of rotation ("keys never read", "never rendered") until the backend came back.
   */
  private carriedOver(state: Readiness): Readiness {
    const resourcesNeverRendered = state.resourcesNeverRendered.filter((file) => !this.rendered.has(file));
    if (state.mirrorAgeMs !== null || this.lastConfirmedAt === undefined) return { ...state, resourcesNeverRendered };
    return { ...state, resourcesNeverRendered, mirrorInSync: false, mirrorAgeMs: Date.now() - this.lastConfirmedAt };
  }

  /** Verdict for logs and tests. */
  ready(): boolean {
    return evaluateReadiness(this.readiness(), this.opts.strictReadiness).ready;
  }

  /** SIGHUP or a changed conf.d/templates: load the resources again and render them. */
  private async reload(): Promise<void> {
    const reason = 'reload';
    if (this.signals.shuttingDown) return;
    // The SIGHUPs this reload answers (lifecycle.ts: the -exec child's reload and READY=1 follow its render).
    const hangups = this.lifecycle?.hangups ?? 0;
    let live;
    try {
      live = loadLiveResources(
        { confdir: this.opts.confdir, prefix: this.opts.prefix, log: this.log, stripKeyWildcards: this.opts.stripKeyWildcards },
        this.resources,
      );
    } catch (e) {
      this.log.error(`${reason}: resources not reloaded, the ${this.resources.length} loaded ones keep running: ${(e as Error).message}`);
      this.metrics.failure('conf.d', 'load');
      return;
    }
    const broken = [...live.broken];
    let next = live.resources;
    // Invalid reload/min_reload_interval/command_timeout: the file counts as broken too.
    for (const bad of this.scheduler.prepare(next)) {
      const old = this.resources.find((r) => r.file === bad.resource.file);
      next = old ? next.map((r) => (r === bad.resource ? old : r)) : next.filter((r) => r !== bad.resource);
      broken.push({ file: bad.resource.file, error: bad.error, keptPrevious: old !== undefined });
    }
    for (const b of broken) {
      this.log.error(`${b.error}; ${b.keptPrevious ? 'its last good version keeps running' : 'not loaded'}`);
      this.metrics.failure(relative(this.opts.confdir, b.file).split('/').pop()!, 'load');
    }
    if (this.opts.mode === 'watch') {
      let runtime: WatchRuntime;
      try {
        runtime = this.newRuntime(next);
      } catch (e) {
        this.log.error(`${reason}: resources not reloaded, the ${this.resources.length} loaded ones keep running: ${(e as Error).message}`);
        return;
      }
      const old = this.runtime;
      // The new runtime has read nothing yet: readiness carries over when the old one was last confirmed by the backend.
      const before = old?.readiness();
      if (before && before.mirrorAgeMs !== null) this.lastConfirmedAt = Date.now() - before.mirrorAgeMs;
      // /readyz names the broken files from now on, not only once the old runtime has stopped.
      this.broken = broken;
      this.runtime = runtime;
      await old?.stop();
      if (this.signals.shuttingDown) return;
      // Not awaited: a render waiting on an unreachable backend must not hold up the shutdown.
      void this.startRuntime(runtime).then(() => this.lifecycle?.reloaded(hangups));
    }
    const nextFiles = new Set(next.map((r) => r.file));
    for (const r of this.resources) if (!next.includes(r)) this.interval.retries.forget(r);
    for (const r of this.resources) {
      if (!nextFiles.has(r.file)) {
        this.metrics.removeResource(resourceName(r));
        this.rendered.delete(r.file);
      }
    }
    const added = next.filter((r) => !this.resources.some((o) => o.file === r.file)).length;
    const removed = this.resources.filter((r) => !nextFiles.has(r.file)).length;
    this.resources = next;
    this.broken = broken;
    this.metrics.resourcesLoaded(next.length);
    this.log.info(`${reason}: ${next.length} resources loaded (${added} new, ${removed} removed, ${broken.length} broken); rendering`);
    if (this.loop) {
      await this.loop.trigger();
      this.lifecycle?.reloaded(hangups);
    }
  }
}
