// The backend registry: every backend folder declares itself once, and what -h, -backend and the
// option table read comes from those declarations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, findBackend } from '../../src/backends/registry.js';
import { BACKEND_NAMES, backendDefaults, backendNodes, backendOptionSpecs, createBackend, stripsKeyWildcards, type BackendOptions } from '../../src/backends/index.js';
import { optionDefault } from '../../src/backends/options.js';
import { OPTION_SPECS, defaultOptions } from '../../src/cli/options.js';

const backendsDir = new URL('../../src/backends/', import.meta.url).pathname;

test('every backend folder has its declaration in the registry, and every name chooses one backend', () => {
  const folders = readdirSync(backendsDir).filter((n) => statSync(join(backendsDir, n)).isDirectory());
  assert.deepEqual(BACKENDS.map((b) => b.names[0]).sort(), folders.sort());
  assert.deepEqual(BACKEND_NAMES, ['etcdv3', 'etcd', 'file', 'env', 'redis', 'zookeeper']);
  assert.equal(new Set(BACKEND_NAMES).size, BACKEND_NAMES.length, 'a name chooses two backends');
  assert.equal(findBackend('etcd'), findBackend('etcdv3'));
  assert.equal(findBackend('consul'), undefined);
  assert.deepEqual(
    BACKENDS.map((b) => [b.names[0], b.changeFeed]),
    [
      ['etcdv3', 'revisioned'],
      ['file', 'prefix-changed'],
      ['env', 'none'],
      ['redis', 'prefix-changed'],
      ['zookeeper', 'prefix-changed'],
    ],
  );
  assert.deepEqual(backendNodes({ backend: 'zookeeper', nodes: [] }), ['127.0.0.1:2181']);
  assert.deepEqual(backendNodes({ backend: 'file', nodes: [] }), []);
  assert.deepEqual(BACKEND_NAMES.filter(stripsKeyWildcards), ['redis', 'zookeeper']);
});

test("the option table holds each backend's options once, as the backend declared them", () => {
  const declared = backendOptionSpecs();
  assert.deepEqual(
    declared.map((o) => o.flag),
    ['node', 'client-cert', 'client-key', 'client-ca-keys', 'client-insecure', 'basic-auth', 'username', 'password', 'file', 'filter', 'separator'],
  );
  for (const o of declared) {
    const inTable = OPTION_SPECS.filter((s) => s.flag === o.flag);
    assert.equal(inTable.length, 1, `-${o.flag} in the table ${inTable.length} times`);
    assert.equal(inTable[0]!.key, o.key);
    assert.equal(inTable[0]!.describe, o.describe);
  }
  assert.deepEqual(OPTION_SPECS.find((s) => s.flag === 'node')!.envVars, ['CONFD_NODE', 'CONFD_NODES']);
  assert.deepEqual(OPTION_SPECS.find((s) => s.flag === 'separator')!.fileKeys, ['separator', 'separator']);
});

test("the run's defaults take each backend setting from its declaration, the type's zero value when it declares none", () => {
  const defaults = defaultOptions();
  for (const o of backendOptionSpecs()) assert.deepEqual(defaults[o.key], optionDefault(o), `-${o.flag}`);
  assert.equal(defaults.filter, '*');
  assert.deepEqual([defaults.nodes, defaults.files, defaults.clientInsecure, defaults.separator], [[], [], false, '']);
  // Each run gets lists of its own.
  defaults.nodes.push('http://x:2379');
  assert.deepEqual(defaultOptions().nodes, []);
  assert.deepEqual(backendDefaults().nodes, []);
});

test('createBackend makes the backend its folder declares, with the declared change feed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-registry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'keys.yaml'), 'app:\n  a: one\n');
  const base: BackendOptions = { ...backendDefaults(), backend: 'file', files: [join(dir, 'keys.yaml')], interval: 600 };
  const file = await createBackend(base);
  assert.equal(file.changeFeed, 'prefix-changed');
  assert.deepEqual(await file.getValues(['/app']), { kvs: [{ key: '/app/a', value: 'one' }], revision: 0 });
  await file.close();
  const env = await createBackend({ ...base, backend: 'env' });
  assert.equal(env.changeFeed, 'none');
  await env.close();
  await assert.rejects(createBackend({ ...base, backend: 'consul' }), /backend "consul" is not supported by tsconfd \(supported: etcdv3, etcd, file, env, redis, zookeeper\)/);
  await assert.rejects(createBackend({ ...base, backend: 'nope' }), /Invalid backend: nope/);
});
