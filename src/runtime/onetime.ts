// `-onetime`: load every resource (any load error stops the run before anything is written),
// read all their keys once, process each resource, exit 1 if any failed.
//
// SIGTERM/SIGINT (systemd stopping the unit, Ctrl-C): a running check_cmd or reload_cmd is killed
// with its process group, its stage file removed, no command or resource starts after it (a write
// already past its check finishes), and the process then ends by that same signal, as confd does
// when it dies of it: a shell sees 143/130 and a script stops at Ctrl-C, systemd sees a stop.
import type { Backend } from '../backends/types.js';
import type { Logger } from '../log.js';
import { loadResourcesOrFatal } from '../resource/load.js';
import type { TemplateResource } from '../resource/model.js';
import { removeStaleStageFiles } from '../resource/stage-cleanup.js';
import { DirSync } from '../resource/dir-sync.js';
import { ReloadScheduler } from './reloads.js';
import { defaultScheduler, type TimerSource } from './scheduler.js';
import { describeFailures, fetchFailed, fetchSnapshot, prefixesOf, processResources, type PassOptions, type PassResult } from './pass.js';

export interface OnetimeOptions extends Omit<PassOptions, 'log'> {
  confdir: string;
  prefix: string;
  log: Logger;
  /** Keys lose every "/*" (redis, zookeeper: resource/load.ts). */
  stripKeyWildcards?: boolean;
  /** Creates the backend once the resources have loaded (so a bad resource costs no connection). */
  openBackend: (timers: TimerSource) => Promise<Backend>;
}

/**
 * Returns the process exit code: 0, or 1 when a resource failed to load or to process; or the
 * signal (SIGTERM, SIGINT) that interrupted the run, for the caller to end the process by it.
 */
export async function runOnetime(opts: OnetimeOptions): Promise<number | NodeJS.Signals> {
  const stop = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) return;
    received = signal;
    opts.log.warning(`received ${signal}: stopping; commands in flight are killed, nothing new is written`);
    stop.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const code = await runOnce({ ...opts, stopping: stop.signal });
    if (!received) return code;
    opts.log.fatal(`interrupted by ${received}: the run did not finish`);
    return received;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

async function runOnce(opts: OnetimeOptions & { stopping: AbortSignal }): Promise<number> {
  const { log } = opts;
  const resources = loadResourcesOrFatal(opts);
  if (!resources) return 1;
  if (!opts.noop && !opts.keepStageFile) removeStaleStageFiles(resources, processStartMs(), log);
  // Nothing to render: no reason to connect (or to load a backend's client).
  if (resources.length === 0) return 0;
  let backend: Backend;
  try {
    backend = await untilStopped(opts.openBackend(defaultScheduler), opts.stopping);
  } catch (e) {
    if (opts.stopping.aborted) return 1;
    log.fatal((e as Error).message);
    return 1;
  }
  let result: PassResult;
  try {
    let snapshot;
    try {
      const started = Date.now();
      snapshot = await untilStopped(fetchSnapshot(backend, resources), opts.stopping);
      log.debug(
        `Read ${snapshot.kvs.length} keys under ${prefixesOf(resources).length} prefixes at revision ${snapshot.revision} ` +
          `in ${Date.now() - started} ms`,
      );
    } catch (e) {
      if (opts.stopping.aborted) return 1;
      const msg = (e as Error).message;
      log.error(msg);
      result = fetchFailed(resources, msg);
      snapshot = undefined;
    }
    if (snapshot) {
      const started = Date.now();
      // tsconfd's command keys (reload, command_timeout, min_reload_interval) need the reload scheduler; a
      // confd resource has none of them and keeps confd's inline commands and log order.
      const scheduler = usesCommandKeys(resources)
        ? new ReloadScheduler({ log, defaultTimeoutMs: opts.commandTimeoutMs, signal: opts.stopping })
        : undefined;
      const bad = scheduler?.prepare(resources) ?? [];
      if (bad.length > 0) {
        for (const b of bad) log.fatal(b.error);
        return 1;
      }
      // One fsync per destination directory for the whole pass, made before any reload and before the run ends.
      const dirSync = new DirSync();
      try {
        result = await processResources(resources, snapshot, { ...opts, dirSync, ...(scheduler ? { commands: scheduler.hooks() } : {}) });
      } finally {
        await dirSync.flush();
      }
      if (scheduler) {
        await scheduler.flush();
        const failed = new Set(scheduler.failures.flatMap((f) => f.resources));
        if (failed.size > 0) {
          const error = scheduler.failures.map((f) => f.error).join('; ');
          result = { ...result, failed: [...result.failed, ...[...failed].map((resource) => ({ resource, status: 'failed' as const, error, stage: 'reload' as const }))] };
        }
      }
      log.debug(`Processed ${resources.length} template resources in ${Date.now() - started} ms`);
    }
  } finally {
    const closing = backend.close().catch((e) => log.debug(`closing the backend: ${(e as Error).message}`));
    // Told to stop: a connection that will not close (an etcd that stopped answering) must not hold the exit.
    if (opts.stopping.aborted) await Promise.race([closing, defaultScheduler.sleep(1000, { unref: true })]);
    else await closing;
  }
  if (result!.failed.length > 0) {
    log.fatal(describeFailures(result!));
    return 1;
  }
  return 0;
}

/**
 * When this process started, in ms since the epoch, never later than it did (the clock is read before
 * the uptime): stage files older than that are a killed run's. performance.timeOrigin says the same but
 * loads perf_hooks, ~0.7 ms of every start (bench/onetime-profile.md).
 */
function processStartMs(): number {
  const now = Date.now();
  return now - process.uptime() * 1000;
}

function usesCommandKeys(resources: readonly TemplateResource[]): boolean {
  return resources.some((r) => r.reloadAction !== '' || r.commandTimeout !== '' || r.minReloadInterval !== '');
}

/** A read that cannot be cancelled is abandoned, not awaited, once the run is told to stop. */
function untilStopped<T>(work: Promise<T>, stopping: AbortSignal): Promise<T> {
  if (stopping.aborted) return Promise.reject(stopping.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopping.reason);
    stopping.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        stopping.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        stopping.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
