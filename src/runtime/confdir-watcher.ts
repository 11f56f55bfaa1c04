// Live resources: chokidar watches <confdir>/conf.d and <confdir>/templates and reports a debounced change, and
// loadLiveResources re-reads conf.d keeping, for a resource file that no longer loads, its last good version.
//
// chokidar 5 has no globs (since v4), so whole directories are watched. A Kubernetes ConfigMap volume swaps a
// `..data` symlink to a new `..<timestamp>` directory: the visible files (`conf.d/a.toml -> ..data/a.toml`) change
// once, plus noise under the `..` entries, which are ignored; the debounce turns what remains into one reload.
// `atomic: false` reports an unlink at once rather than 100 ms later (the debounce already merges the
// unlink-and-add of editors that save by rename).
import { join, resolve, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.js';
import { findResourceFiles, readResource, ResourceLoadError, type LoadOptions } from '../resource/load.js';
import type { TemplateResource } from '../resource/model.js';
import { linkGroups } from '../resource/extensions.js';

/** ConfigMap bookkeeping entries (`..data`, `..2026_11_25_...`) and anything under them. */
export function isConfigMapInternal(path: string): boolean {
  return path.split(sep).some((part) => part.startsWith('..') && part !== '..');
}

export interface ConfdirWatcherOptions {
  confdir: string;
  /** Quiet time before a burst of events is reported as one change. */
  debounceMs?: number;
  /** Called once per burst with the paths that changed (relative to confdir). */
  onChange: (paths: string[]) => void;
  log: Logger;
}

export interface ConfdirWatcher {
  /** Resolves once the initial scan is done (events before it are not reported). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_DEBOUNCE_MS = 150;

export function watchConfdir(opts: ConfdirWatcherOptions): ConfdirWatcher {
  const root = resolve(opts.confdir);
  const debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const watcher: FSWatcher = watch([resolve(root, 'conf.d'), resolve(root, 'templates')], {
    ignoreInitial: true,
    atomic: false,
    ignored: (path) => isConfigMapInternal(relative(root, path)),
  });
  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  watcher.on('all', (event, path) => {
    if (closed) return;
    const rel = relative(root, path);
    opts.log.debug(`confdir: ${event} ${rel}`);
    changed.add(rel);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const paths = [...changed].sort();
      changed = new Set();
      if (!closed) opts.onChange(paths);
    }, debounceMs);
  });
  watcher.on('error', (e) => opts.log.error(`watching ${root}: ${(e as Error).message}`));
  const ready = new Promise<void>((done) => watcher.once('ready', () => done()));
  return {
    ready,
    async close() {
      closed = true;
      clearTimeout(timer);
      await watcher.close();
    },
  };
}

/** A kept resource with a commit group of its own again, for linkGroups to join with the current members. */
function unlinked(r: TemplateResource): TemplateResource {
  const group = r.ext?.group;
  if (!group) return r;
  return { ...r, ext: { ...r.ext!, group: { name: group.name, checkCmd: group.checkCmd, members: [] } } };
}

export interface BrokenResource {
  /** The TOML file. */
  readonly file: string;
  readonly error: string;
  /** Its last good version is still in use. */
  readonly keptPrevious: boolean;
}

export interface LiveLoad {
  readonly resources: TemplateResource[];
  readonly broken: BrokenResource[];
}

/**
 * Re-reads conf.d for a running agent. A file that fails to load keeps its previous version from `previous` (if it
 * had one) and is reported in `broken`; ConfigMap internals (`..data/`, `..<timestamp>/`) are skipped, so a mounted
 * ConfigMap gives each resource once. Throws ResourceLoadError only when conf.d itself cannot be read or the set of
 * resources is inconsistent (commit groups); the caller then keeps the whole previous set.
 */
export function loadLiveResources(
  opts: LoadOptions,
  previous: readonly TemplateResource[],
): LiveLoad {
  // Joined as load.ts does, so a file keeps the same name (and identity) across reloads.
  const confD = join(opts.confdir, 'conf.d');
  const files = findResourceFiles(confD).filter((f) => !isConfigMapInternal(relative(confD, f)));
  const before = new Map(previous.map((r) => [resolve(r.file), r]));
  const resources: TemplateResource[] = [];
  const broken: BrokenResource[] = [];
  for (const file of files) {
    opts.log.debug(`Found template: ${file}`);
    try {
      resources.push(readResource(file, opts));
    } catch (e) {
      if (!(e instanceof ResourceLoadError)) throw e;
      const old = before.get(resolve(file));
      if (old) resources.push(unlinked(old));
      broken.push({ file, error: e.message, keptPrevious: old !== undefined });
    }
  }
  linkGroups(resources, (file, detail) => {
    throw new ResourceLoadError(`Cannot process template resource ${file} - ${detail}`);
  });
  return { resources, broken };
}
