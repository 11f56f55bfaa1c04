// QA: a resource that says `min_keys = 1` must not have its destination replaced by a render
// from an empty key set, in -onetime too: a prefix that is empty for a moment (a botched etcd
// migration, a wrong -prefix) must not blank a working nginx upstream list in a
// cron/systemd-timer -onetime set-up, nor delete every file of a fan-out. The run exits 1 and
// says why (the files were not brought up to date).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import type { EtcdServer } from '../../helpers/etcd.js';

let etcd: EtcdServer;
etcdPerFile((server) => (etcd = server));

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
    assert.match(r.stderr, /up\.conf: not rendered: its keys \(\/upstreams\) give 0 key\(s\), fewer than min_keys 1/);
    assert.equal(r.code, 1, 'a kept destination is not up to date: the run says so by its exit code');
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
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /fewer than min_keys 1/);
  } finally {
    ws.cleanup();
  }
});

test('-onetime fan-out without min_keys: a range that matches no key keeps the files its manifest lists; allow_empty removes them', async () => {
  const ws = new Workspace({
    'conf.d/sites.toml': '[template]\nsrc = "site.tmpl"\nrange = "/fsites/*"\ndest = "@OUT@/{{base .Key}}.conf"\nkeys = ["/fsites"]\n',
    'templates/site.tmpl': 'server_name {{.Value}};\n',
  });
  try {
    await etcd.put('/fsites/alpha', 'a.example');
    await etcd.put('/fsites/beta', 'b.example');
    const base = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];
    const first = await runCli(base, { timeoutMs: 20_000 });
    assert.equal(first.code, 0, first.stderr);
    const sites = () => ws.outFiles().filter((f) => f.endsWith('.conf'));
    assert.deepEqual(sites(), ['alpha.conf', 'beta.conf']);

    // A typo in -prefix: the manifest shows the range had keys, so nothing is removed.
    const typo = await runCli([...base, '-prefix', '/typo'], { timeoutMs: 20_000 });
    assert.equal(typo.code, 1, typo.stderr);
    assert.deepEqual(sites(), ['alpha.conf', 'beta.conf'], typo.stderr);
    assert.match(typo.stderr, /range \/fsites\/\* matches no key; keeping the 2 file\(s\) it wrote/);

    // One site removed for real still goes (the guard is only about an empty range).
    await etcd.etcdctl(['del', '/fsites/beta']);
    const one = await runCli(base, { timeoutMs: 20_000 });
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(sites(), ['alpha.conf']);

    // The last site removed on purpose: the resource has to allow an empty range.
    await etcd.etcdctl(['del', '/fsites', '--prefix']);
    const kept = await runCli(base, { timeoutMs: 20_000 });
    assert.equal(kept.code, 1, kept.stderr);
    assert.deepEqual(sites(), ['alpha.conf']);
    ws.write({ 'conf.d/sites.toml': readFileSync(join(ws.confdir, 'conf.d/sites.toml'), 'utf8') + 'allow_empty = true\n' });
    const allowed = await runCli(base, { timeoutMs: 20_000 });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.deepEqual(sites(), [], allowed.stderr);
  } finally {
    ws.cleanup();
  }
});

test('-onetime commit group: one member below its min_keys keeps every member of the group as it was', async () => {
  const member = (name: string, extra: string) =>
    `[template]\nsrc = "${name}.tmpl"\ndest = "@OUT@/${name}.conf"\nkeys = ["/g${name}"]\ncommit_group = "web"\n${extra}`;
  const ws = new Workspace({
    'conf.d/a.toml': member('a', 'min_keys = 1\n'),
    'conf.d/b.toml': member('b', ''),
    'templates/a.tmpl': '{{range gets "/ga/*"}}a {{.Value}}\n{{end}}',
    'templates/b.tmpl': '{{range gets "/gb/*"}}b {{.Value}}\n{{end}}',
  });
  try {
    writeFileSync(join(ws.out, 'a.conf'), 'a old\n');
    writeFileSync(join(ws.out, 'b.conf'), 'b old\n');
    await etcd.put('/gb/x', 'new');
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /commit group "web" not committed: .*a\.conf: not rendered: .*fewer than min_keys 1/);
    assert.equal(readFileSync(join(ws.out, 'a.conf'), 'utf8'), 'a old\n');
    assert.equal(readFileSync(join(ws.out, 'b.conf'), 'utf8'), 'b old\n', 'the group was committed in part');

    await etcd.put('/ga/x', 'new');
    const ok = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readFileSync(join(ws.out, 'a.conf'), 'utf8'), 'a new\n');
    assert.equal(readFileSync(join(ws.out, 'b.conf'), 'utf8'), 'b new\n');
  } finally {
    ws.cleanup();
  }
});
