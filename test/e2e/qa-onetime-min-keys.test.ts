// QA: a resource that says `min_keys = 1` must not have its destination replaced by a render
// from an empty key set. -onetime ignores the key (only the watch runtime reads it), so a
// prefix that is empty for a moment (a botched etcd migration, a wrong -prefix) blanks a
// working nginx upstream list in a cron/systemd-timer -onetime set-up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../e2e/onetime-harness.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';

let etcd: EtcdServer;
before(async () => {
  ensureBuilt();
  etcd = await startEtcd();
});
after(async () => etcd?.stop());

const GOOD = 'upstream app {\n  server 10.0.0.1:80;\n}\n';

test('-onetime: min_keys = 1 keeps the destination when the prefix is empty', async () => {
  const ws = new Workspace({
    'conf.d/up.toml': '[template]\nsrc = "up.tmpl"\ndest = "@OUT@/up.conf"\nkeys = ["/upstreams"]\nmin_keys = 1\n',
    'templates/up.tmpl': 'upstream app {\n{{range gets "/upstreams/*"}}  server {{.Value}};\n{{end}}}\n',
  });
  try {
    await etcd.put('/upstreams/a', '10.0.0.1:80');
    const first = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(join(ws.out, 'up.conf'), 'utf8'), GOOD);

    await etcd.etcdctl(['del', '/upstreams', '--prefix']);
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(readFileSync(join(ws.out, 'up.conf'), 'utf8'), GOOD, 'min_keys = 1 was ignored: the upstream list was blanked');
    assert.match(r.stderr, /min_keys/);
    assert.deepEqual(ws.outFiles(), ['up.conf']);
  } finally {
    ws.cleanup();
  }
});

test('-onetime: allow_empty = true still renders the empty list (control)', async () => {
  const ws = new Workspace({
    'conf.d/up.toml': '[template]\nsrc = "up.tmpl"\ndest = "@OUT@/up.conf"\nkeys = ["/upstreams2"]\nallow_empty = true\n',
    'templates/up.tmpl': 'upstream app {\n{{range gets "/upstreams2/*"}}  server {{.Value}};\n{{end}}}\n',
  });
  try {
    writeFileSync(join(ws.out, 'up.conf'), GOOD);
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'up.conf'), 'utf8'), 'upstream app {\n}\n');
  } finally {
    ws.cleanup();
  }
});

test('-onetime fan-out: a mistyped -prefix with min_keys = 1 does not delete every site file', async () => {
  const ws = new Workspace({
    'conf.d/sites.toml':
      '[template]\nsrc = "site.tmpl"\nrange = "/sites/*"\ndest = "@OUT@/{{base .Key}}.conf"\nkeys = ["/sites"]\nmin_keys = 1\n',
    'templates/site.tmpl': 'server_name {{.Value}};\n',
  });
  try {
    await etcd.put('/sites/alpha', 'a.example');
    await etcd.put('/sites/beta', 'b.example');
    const base = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];
    const first = await runCli(base, { timeoutMs: 20_000 });
    assert.equal(first.code, 0, first.stderr);
    assert.ok(ws.outFiles().includes('alpha.conf') && ws.outFiles().includes('beta.conf'), ws.outFiles().join(' '));
    const r = await runCli([...base, '-prefix', '/typo'], { timeoutMs: 20_000 });
    assert.ok(ws.outFiles().includes('alpha.conf') && ws.outFiles().includes('beta.conf'), `site files removed:\n${r.stderr}`);
    assert.equal(readFileSync(join(ws.out, 'alpha.conf'), 'utf8'), 'server_name a.example;\n');
  } finally {
    ws.cleanup();
  }
});
