// The seed example end to end through the built CLI: from the file backend, from a real etcd,
// and through Handlebars, each byte for byte against what the real confd wrote.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, SEED_EXPECTED, Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';

const expected = readFileSync(SEED_EXPECTED);

const seedToml = (src: string, dest: string) =>
  `[template]\nprefix = "/docker"\nsrc = "${src}"\ndest = "${dest}"\nowner = "nginx"\nmode = "0644"\nkeys = ["/node", "/service"]\n`;

function seedWorkspace(): Workspace {
  const ws = new Workspace({
    'conf.d/nginx.toml': seedToml('nginx.tmpl', '@OUT@/myapp.conf'),
    'conf.d/nginx-hbs.toml': seedToml('nginx.hbs', '@OUT@/myapp-hbs.conf'),
  });
  cpSync(join(ROOT, 'templates/nginx.tmpl'), join(ws.confdir, 'templates/nginx.tmpl'));
  cpSync(join(ROOT, 'templates/nginx.hbs'), join(ws.confdir, 'templates/nginx.hbs'));
  return ws;
}

let etcd: EtcdServer | undefined;

before(async () => {
  ensureBuilt();
  etcd = await startEtcd();
  // The seed's keys, as etcdctl put them in the document (foo has no leading slash).
  const keys: Record<string, string> = {
    foo: 'bar',
    '/docker/node/n01': '192.168.100.111',
    '/docker/node/n02': '192.168.100.112',
    '/docker/node/n03': '192.168.100.113',
    '/docker/service/s01': '1005',
    '/docker/service/s02': '1007',
  };
  for (const [k, v] of Object.entries(keys)) await etcd.put(k, v);
});

after(async () => {
  await etcd?.stop();
});

test('seed from the file backend (YAML copy of the seed keys): Go and Handlebars, byte for byte, mode 0644', async () => {
  const ws = seedWorkspace();
  try {
    const r = await runCli(['-onetime', '-backend', 'file', '-file', join(ROOT, 'examples/seed-keys.yaml'), '-confdir', ws.confdir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(ws.out, 'myapp.conf')), expected);
    assert.deepEqual(readFileSync(join(ws.out, 'myapp-hbs.conf')), expected);
    assert.equal(statSync(join(ws.out, 'myapp.conf')).mode & 0o777, 0o644);
    assert.deepEqual(ws.outFiles(), ['myapp-hbs.conf', 'myapp.conf']);
    assert.match(r.stderr, / INFO Target config .*\/myapp\.conf has been updated\n/);
  } finally {
    ws.cleanup();
  }
});

test('seed from etcd v3 with the issue\'s command line, then a second run changes nothing', async () => {
  const ws = seedWorkspace();
  try {
    const args = ['-onetime', '-backend', 'etcdv3', '-node', etcd!.endpoints[0]!, '-confdir', ws.confdir];
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(ws.out, 'myapp.conf')), expected);
    assert.deepEqual(readFileSync(join(ws.out, 'myapp-hbs.conf')), expected);
    const before = statSync(join(ws.out, 'myapp.conf'));
    const again = await runCli([...args, '-log-level', 'debug']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /DEBUG Target config .*\/myapp\.conf in sync/);
    assert.doesNotMatch(again.stderr, /out of sync/);
    assert.equal(statSync(join(ws.out, 'myapp.conf')).ino, before.ino, 'an unchanged file must not be replaced');
  } finally {
    ws.cleanup();
  }
});

test('the repository confdir works as shipped (npm run demo): -confdir . renders /tmp/myapp.conf', async () => {
  const r = await runCli(['-onetime', '-backend', 'file', '-file', 'examples/seed-keys.yaml', '-confdir', '.', '-log-level', 'warn'], { cwd: ROOT });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync('/tmp/myapp.conf'), expected);
  assert.deepEqual(readFileSync('/tmp/myapp-hbs.conf'), expected);
  assert.ok(CLI.endsWith('dist/cli.js'));
});
