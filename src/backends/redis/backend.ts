// redis in the registry; ioredis is a bundle of its own (dist/ioredis.cjs), loaded with index.ts.
import { defineBackend } from '../definition.js';
import { CLIENT_KEY_OPTION, NODE_OPTION, PASSWORD_OPTION, USERNAME_OPTION } from '../options.js';

export const redisBackend = defineBackend({
  names: ['redis'],
  // confd hands -client-key to redis as its password (used when no -password is given).
  options: [
    NODE_OPTION,
    CLIENT_KEY_OPTION,
    USERNAME_OPTION,
    PASSWORD_OPTION,
    { key: 'separator', flag: 'separator', type: 'string', describe: "the separator to replace '/' with when looking up keys in the backend (redis)" },
  ],
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
