import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEnvBackend, envNameToKey, keyToEnvName } from '../../../src/backends/env/index.js';

test('keys map to variables as confd maps them', () => {
  assert.equal(keyToEnvName('/foo/bar'), 'FOO_BAR');
  assert.equal(keyToEnvName('/app/db-url'), 'APP_DB-URL');
  assert.equal(envNameToKey('FOO_BAR'), '/foo/bar');
});

test('getValues returns every variable under each key, lower-cased with slashes, sorted', async () => {
  const env = { APP_PORT: '80', APP_DB_HOST: 'db', APPLE: 'no', OTHER: 'x', DOCKER_NODE_N01: '10.0.0.1' };
  const backend = createEnvBackend(env);
  assert.deepEqual((await backend.getValues(['/app', '/docker/node'])).kvs, [
    { key: '/app/db/host', value: 'db' },
    { key: '/app/port', value: '80' },
    { key: '/docker/node/n01', value: '10.0.0.1' },
  ]);
  assert.deepEqual((await backend.getValues(['/nothing'])).kvs, []);
});
