// `-onetime`: load every resource (any load error stops the run before anything is written),
// read all their keys once, process each resource, exit 1 if any failed.
import type { Backend } from '../backends/types.js';
import type { Logger } from '../log.js';
import { loadResources, ResourceLoadError, type TemplateResource } from '../resource/load.js';
import { ReloadScheduler } from './reloads.js';
import { describeFailures, fetchFailed, fetchSnapshot, prefixesOf, processResources, type PassOptions, type PassResult } from './pass.js';

export interface OnetimeOptions extends Omit<PassOptions, 'log'> {
  confdir: string;
  prefix: string;
  log: Logger;
  /** Creates the backend once the resources have loaded (so a bad resource costs no connection). */
  openBackend: () => Promise<Backend>;
}

/** Returns the process exit code: 0, or 1 when a resource failed to load or to process. */
export async function runOnetime(opts: OnetimeOptions): Promise<number> {
  const { log } = opts;
  let resources: TemplateResource[];
  try {
    resources = loadResources({ confdir: opts.confdir, prefix: opts.prefix, log });
  } catch (e) {
    if (e instanceof ResourceLoadError) {
      log.fatal(e.message);
      return 1;
    }
    throw e;
  }
  // Nothing to render: no reason to connect (or to load a backend's client).
  if (resources.length === 0) return 0;
  let backend: Backend;
  try {
    backend = await opts.openBackend();
  } catch (e) {
    log.fatal((e as Error).message);
    return 1;
  }
  let result: PassResult;
  try {
    let snapshot;
    try {
      const started = performance.now();
      snapshot = await fetchSnapshot(backend, resources);
      log.debug(
        `Read ${snapshot.kvs.length} keys under ${prefixesOf(resources).length} prefixes at revision ${snapshot.revision} ` +
          `in ${Math.round(performance.now() - started)} ms`,
      );
    } catch (e) {
      const msg = (e as Error).message;
      log.error(msg);
      result = fetchFailed(resources, msg);
      snapshot = undefined;
    }
    if (snapshot) {
      const started = performance.now();
      // tsconfd's command keys (reload, command_timeout, min_reload_interval) need the reload scheduler; a
      // confd resource has none of them and keeps confd's inline commands and log order.
      const scheduler = usesCommandKeys(resources)
        ? new ReloadScheduler({ log, defaultTimeoutMs: opts.commandTimeoutMs, signal: new AbortController().signal })
        : undefined;
      const bad = scheduler?.prepare(resources) ?? [];
      if (bad.length > 0) {
        for (const b of bad) log.fatal(b.error);
        return 1;
      }
      result = await processResources(resources, snapshot, scheduler ? { ...opts, commands: scheduler.hooks() } : opts);
      if (scheduler) {
        await scheduler.flush();
        const failed = new Set(scheduler.failures.flatMap((f) => f.resources));
        if (failed.size > 0) {
          const error = scheduler.failures.map((f) => f.error).join('; ');
          result = { ...result, failed: [...result.failed, ...[...failed].map((resource) => ({ resource, status: 'failed' as const, error, stage: 'reload' as const }))] };
        }
      }
      log.debug(`Processed ${resources.length} template resources in ${Math.round(performance.now() - started)} ms`);
    }
  } finally {
    await backend.close().catch((e) => log.debug(`closing the backend: ${(e as Error).message}`));
  }
  if (result!.failed.length > 0) {
    log.fatal(describeFailures(result!));
    return 1;
  }
  return 0;
}

function usesCommandKeys(resources: readonly TemplateResource[]): boolean {
  return resources.some((r) => r.reloadAction !== '' || r.commandTimeout !== '' || r.minReloadInterval !== '');
}
