// The env backend, mapped as confd maps it: key /foo/bar is looked up as FOO_BAR and every
// variable whose name starts with that text is returned under /lower/case/with/slashes.
// A process's environment never changes, so with -watch it renders once and then waits, as
// confd's env WatchPrefix does (it blocks until stopped): its watches send no events.
import type { PrefixWatchHandlers, Snapshot, WatchableBackend } from '../types.js';
import { selectCovered } from '../../keys/index.js';

export function keyToEnvName(key: string): string {
  return key.replace(/^\//, '').replace(/\//g, '_').toUpperCase();
}

export function envNameToKey(name: string): string {
  return ('/' + name).toLowerCase().replace(/_/g, '/');
}

export function createEnvBackend(env: NodeJS.ProcessEnv = process.env): WatchableBackend {
  const watches = new Set<PrefixWatchHandlers>();
  return {
    name: 'env',
    async getValues(prefixes: readonly string[]): Promise<Snapshot> {
      const all = new Map<string, string>();
      for (const prefix of prefixes) {
        const wanted = keyToEnvName(prefix);
        for (const [name, value] of Object.entries(env)) {
          if (value !== undefined && name.startsWith(wanted)) all.set(envNameToKey(name), value);
        }
      }
      return { kvs: selectCovered(all, prefixes), revision: 0 };
    },
    watchPrefix(_prefix: string, _fromRevision: number, handlers: PrefixWatchHandlers) {
      watches.add(handlers);
      return {
        async cancel() {
          watches.delete(handlers);
        },
      };
    },
    requestProgress(): void {
      // Always current: answer every watch, so -stale-after never fires for an environment.
      setImmediate(() => {
        for (const h of watches) h.onProgress(0);
      });
    },
    async close(): Promise<void> {
      watches.clear();
    },
  };
}
