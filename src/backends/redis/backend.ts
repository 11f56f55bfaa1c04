// redis in the registry; ioredis is a bundle of its own (dist/ioredis.cjs), loaded with index.ts.
import { defineBackend } from '../definition.js';

export const redisBackend = defineBackend({
  names: ['redis'],
  defaultNode: '127.0.0.1:6379',
  stripsKeyWildcards: true,
  changeFeed: 'prefix-changed',
  async create(opts, { nodes, log }) {
    return (await import('./index.js')).createRedisBackend({
      nodes,
      password: opts.password,
      clientKey: opts.clientKey,
      username: opts.username,
      separator: opts.separator,
      intervalSeconds: opts.interval,
      log,
    });
  },
});
