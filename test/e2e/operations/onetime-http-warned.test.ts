// -onetime with -http and the other -watch-only settings (a confd.toml or CONFD_HTTP shared with a -watch sidecar): the run renders as
// usual and a warning says the endpoint is not served, rather than ignoring the flag silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Workspace, runCli } from '../harness/onetime-harness.js';

let etcd: EtcdServer;
etcdPerFile((started) => {
  etcd = started;
});

test('-onetime -http: rendered, exit 0, one warning that nothing is served', async (t) => {
  const ws = new Workspace({
    'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/oh"]\n',
    'templates/app.tmpl': 'x={{getv "/oh/x"}}\n',
  });
  t.after(() => ws.cleanup());
  await etcd.put('/oh/x', '1');
  const base = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];
  for (const [args, env] of [[['-http', '127.0.0.1:9100'], {}], [[], { CONFD_HTTP: '127.0.0.1:9100' }]] as const) {
    const r = await runCli([...base, ...args], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'x=1\n');
    const warnings = r.stderr.split('\n').filter((l) => /WARNING -http 127\.0\.0\.1:9100 is ignored with -onetime/.test(l));
    assert.equal(warnings.length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /Serving \/healthz/);
  }
  const quiet = await runCli(base);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /-http/);
});

test('-onetime with -wait, -stale-after, -strict-readiness or -notify-ready-early: rendered, exit 0, a warning per flag that it is ignored', async (t) => {
  const ws = new Workspace({
    'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/ow"]\n',
    'templates/app.tmpl': 'x={{getv "/ow/x"}}\n',
  });
  t.after(() => ws.cleanup());
  await etcd.put('/ow/x', '2');
  const base = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];
  const r = await runCli([...base, '-wait', '50ms:1s', '-stale-after', '30s', '-strict-readiness', '-notify-ready-early']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'x=2\n');
  for (const flag of ['-wait', '-stale-after', '-strict-readiness', '-notify-ready-early']) {
    assert.equal(r.stderr.split('\n').filter((l) => l.includes(`WARNING ${flag} is ignored with -onetime`)).length, 1, r.stderr);
  }
  const quiet = await runCli(base);
  assert.doesNotMatch(quiet.stderr, /is ignored with -onetime/);
});
