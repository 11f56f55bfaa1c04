// The backends tsconfd implements, one line each. A backend is one folder that declares itself in
// <name>/backend.ts (names, options, default node, change-feed kind, lazy factory); adding one is that
// folder plus its line here.
import type { RunSettings } from './definition.js';
import { optionDefault, type BackendOptionSpec, type SettingsOf } from './options.js';
import { envBackend } from './env/backend.js';
import { etcdv3Backend } from './etcdv3/backend.js';
import { fileBackend } from './file/backend.js';
import { redisBackend } from './redis/backend.js';
import { zookeeperBackend } from './zookeeper/backend.js';

export const BACKENDS = [etcdv3Backend, fileBackend, envBackend, redisBackend, zookeeperBackend] as const;

type RegisteredBackend = (typeof BACKENDS)[number];

/** Every backend's settings, one field per declared option: the backend part of cli's Options. */
export type BackendSettings = SettingsOf<RegisteredBackend['options']>;

/** The settings a backend is created from (the backend part of the command line, CONFD_* and confd.toml). */
export type BackendOptions = BackendSettings & RunSettings;

/** The backend a -backend value chooses, or undefined. */
export function findBackend(name: string): RegisteredBackend | undefined {
  return BACKENDS.find((b) => b.names.includes(name));
}

/** Every backend's options, each once (one read by several backends is declared once), in registry order. */
export function backendOptionSpecs(): BackendOptionSpec<keyof BackendSettings>[] {
  const byFlag = new Map<string, BackendOptionSpec<keyof BackendSettings>>();
  for (const b of BACKENDS) {
    for (const o of b.options as readonly BackendOptionSpec<keyof BackendSettings>[]) {
      const seen = byFlag.get(o.flag);
      if (seen !== undefined && seen !== o) throw new Error(`backend ${b.names[0]}: option -${o.flag} is declared twice; declare it once in backends/options.ts`);
      byFlag.set(o.flag, o);
    }
  }
  return [...byFlag.values()];
}

/** Every backend setting at its declared default: the backend part of cli's defaultOptions(). */
export function backendDefaults(): BackendSettings {
  return Object.fromEntries(backendOptionSpecs().map((o) => [o.key, optionDefault(o)])) as BackendSettings;
}
