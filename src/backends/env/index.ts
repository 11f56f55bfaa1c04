// The env backend, mapped as confd maps it: key /foo/bar is looked up as FOO_BAR and every
// variable whose name starts with that text is returned under /lower/case/with/slashes.
// A process's environment never changes: it is a static backend (no change feed), which -watch
// reads once and then waits on, as confd's env WatchPrefix does (it blocks until stopped).
import type { Snapshot, StaticBackend } from '../types.js';
import { selectCovered } from '../../keys/index.js';

export function keyToEnvName(key: string): string {
  return key.replace(/^\//, '').replace(/\//g, '_').toUpperCase();
}

export function envNameToKey(name: string): string {
  return ('/' + name).toLowerCase().replace(/_/g, '/');
}

export function createEnvBackend(env: NodeJS.ProcessEnv = process.env): StaticBackend {
  return {
    name: 'env',
    changeFeed: 'none',
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
    async close(): Promise<void> {},
  };
}
