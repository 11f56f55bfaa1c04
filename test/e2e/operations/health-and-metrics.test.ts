// The -http endpoint of a running tsconfd against real etcd. Once every resource rendered, etcd stopping or stalling
// leaves /readyz at 200 and says stale (the files on disk are good: a sidecar's pod stays in service), with the truth
// about reachability in the body; /readyz?strict and -strict-readiness turn 503 (-watch, and -interval alone,
// confd's default mode). /metrics parses as Prometheus text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';
import { Agent } from '../harness/agent.js';
import { httpGet } from '../harness/operations-harness.js';
import { writeFileWithDirs } from '../../helpers/files.js';

let etcd: EtcdServer;
etcdPerFile((started) => {
  etcd = started;
});

function workspace(t: { after: (fn: () => void) => void }, prefix: string) {
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-health-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const confdir = join(root, 'confdir');
  const dest = join(root, 'app.conf');
  mkdirSync(confdir);
  writeFileWithDirs(join(confdir, 'conf.d/app.toml'), `[template]\nprefix = "${prefix}"\nsrc = "app.tmpl"\ndest = "${dest}"\nkeys = ["/svc"]\n`);
  writeFileWithDirs(join(confdir, 'templates/app.tmpl'), '{{range gets "/svc/*"}}{{base .Key}}={{.Value}}\n{{end}}');
  return { confdir, read: () => (existsSync(dest) ? readFileSync(dest, 'utf8') : undefined) };
}

const readyz = async (agent: Agent, query = '') => {
  const res = await httpGet(`${agent.url}/readyz${query}`);
  return { status: res.status, body: JSON.parse(res.body) as { ready: boolean; reasons: string[]; stale: boolean; backendReachable: boolean } };
};

test('-watch: /readyz stays ready and says stale while etcd stalls or is gone; ?strict follows etcd; /metrics parses', { timeout: 90_000 }, async (t) => {
  const { confdir, read } = workspace(t, '/hw');
  await etcd.put('/hw/svc/a', '1');
  const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', confdir, '-http', '127.0.0.1:0', '-stale-after', '1s']);
  t.after(() => agent.stop());
  await agent.waitFor('rendered', () => read() === 'a=1\n' && agent.url !== '');
  assert.equal((await httpGet(`${agent.url}/healthz`)).status, 200);
  await agent.waitFor('ready', async () => (await readyz(agent)).status === 200);

  const metrics = parsePrometheusText((await httpGet(`${agent.url}/metrics`)).body);
  assert.equal(sampleValue(metrics, 'tsconfd_writes_total', { resource: 'app.toml' }), 1);
  assert.equal(sampleValue(metrics, 'tsconfd_renders_total', { resource: 'app.toml' }), 1);
  assert.equal(sampleValue(metrics, 'tsconfd_resources'), 1);
  assert.ok(sampleValue(metrics, 'tsconfd_watch_revision') > 0);
  assert.ok(metrics.has('process_resident_memory_bytes'), 'Node process metrics');
  await agent.waitFor('mirror age exported', async () => {
    const m = parsePrometheusText((await httpGet(`${agent.url}/metrics`)).body);
    return m.get('tsconfd_mirror_age_seconds')?.samples.length === 1;
  });

  // Stalled: the connection stays open, etcd answers nothing (a frozen VM). The body must not claim it reachable.
  const pid = etcd.members[0]!.pid!;
  process.kill(pid, 'SIGSTOP');
  try {
    await agent.waitFor('stale while stalled', async () => (await readyz(agent)).body.stale, 20_000);
    const stalled = await readyz(agent);
    assert.equal(stalled.status, 200, JSON.stringify(stalled.body));
    assert.equal(stalled.body.backendReachable, false, JSON.stringify(stalled.body));
    assert.ok(stalled.body.reasons.some((r) => r.startsWith('mirror is stale')), JSON.stringify(stalled.body));
    assert.equal((await readyz(agent, '?strict')).status, 503);
    const m = parsePrometheusText((await httpGet(`${agent.url}/metrics`)).body);
    assert.equal(sampleValue(m, 'tsconfd_stale'), 1);
    assert.equal(sampleValue(m, 'tsconfd_ready'), 1);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await agent.waitFor('fresh again', async () => (await readyz(agent, '?strict')).status === 200, 30_000);

  await etcd.members[0]!.stop();
  await agent.waitFor('not ready when strict', async () => (await readyz(agent, '?strict')).status === 503, 20_000);
  await agent.waitFor('unreachable in the body', async () => !(await readyz(agent)).body.backendReachable, 20_000);
  const down = await readyz(agent);
  assert.equal(down.status, 200, 'the rendered file is still good');
  assert.equal(down.body.stale, true);
  assert.ok(down.body.reasons.some((r) => /backend unreachable|mirror not in sync|stale/.test(r)), JSON.stringify(down.body));
  assert.equal((await httpGet(`${agent.url}/healthz`)).status, 200, 'alive all the same');
  assert.equal(read(), 'a=1\n', 'the file is kept');

  await etcd.members[0]!.start();
  await agent.waitFor('ready again', async () => (await readyz(agent, '?strict')).status === 200, 30_000);
  await etcd.put('/hw/svc/a', '2');
  await agent.waitFor('rendering resumed', () => read() === 'a=2\n');
  const after = parsePrometheusText((await httpGet(`${agent.url}/metrics`)).body);
  assert.ok(sampleValue(after, 'tsconfd_backend_requests_total', { op: 'range' }) >= 1);
  assert.ok(sampleValue(after, 'tsconfd_backend_errors_total', { op: 'watch' }) >= 1, 'the outage counted');
  assert.equal(await agent.stop(), 0);
});

test('-interval alone (confd\'s default mode) with -strict-readiness: polls, and /readyz follows etcd', { timeout: 60_000 }, async (t) => {
  const { confdir, read } = workspace(t, '/hi');
  await etcd.put('/hi/svc/a', '1');
  const agent = new Agent(['-interval', '1', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', confdir, '-http', '127.0.0.1:0', '-stale-after', '3s', '-strict-readiness']);
  t.after(() => agent.stop());
  await agent.waitFor('rendered', () => read() === 'a=1\n' && agent.url !== '');
  await agent.waitFor('ready', async () => (await readyz(agent)).status === 200);
  await etcd.put('/hi/svc/b', '2');
  await agent.waitFor('next poll', () => read() === 'a=1\nb=2\n', 5_000);

  await etcd.members[0]!.stop();
  await agent.waitFor('not ready', async () => (await readyz(agent)).status === 503, 20_000);
  assert.equal(read(), 'a=1\nb=2\n');
  await etcd.members[0]!.start();
  await agent.waitFor('ready again', async () => (await readyz(agent)).status === 200, 30_000);
  const metrics = parsePrometheusText((await httpGet(`${agent.url}/metrics`)).body);
  assert.ok(sampleValue(metrics, 'tsconfd_backend_errors_total', { op: 'range' }) >= 1);
  assert.ok(sampleValue(metrics, 'tsconfd_backend_requests_total', { op: 'range' }) >= 3);
  assert.equal(await agent.stop(), 0);
});
