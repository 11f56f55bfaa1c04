// The backends tsconfd implements, one line each. A backend is one folder that declares itself in
// <name>/backend.ts (names, default node, change-feed kind, lazy factory); adding one is that
// folder plus its line here.
import type { BackendDefinition } from './definition.js';
import { envBackend } from './env/backend.js';
import { etcdv3Backend } from './etcdv3/backend.js';
import { fileBackend } from './file/backend.js';
import { redisBackend } from './redis/backend.js';
import { zookeeperBackend } from './zookeeper/backend.js';

export const BACKENDS: readonly BackendDefinition[] = [etcdv3Backend, fileBackend, envBackend, redisBackend, zookeeperBackend];

/** The backend a -backend value chooses, or undefined. */
export function findBackend(name: string): BackendDefinition | undefined {
  return BACKENDS.find((b) => b.names.includes(name));
}
