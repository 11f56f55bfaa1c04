// -watch (and -interval) against real etcd: a destination write that fails (a full filesystem, a destination directory
// that is gone) is retried with backoff while the failure lasts, /readyz names the resource meanwhile, and
// the file is written once the cause is removed, without any new change in etcd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { parsePrometheusText } from '../../helpers/prometheus-text.js';
import { Agent } from '../harness/agent.js';
import { httpGet } from '../harness/operations-harness.js';
import { writeFileWithDirs } from '../../helpers/files.js';

let etcd: EtcdServer;
etcdPerFile((started) => {
  etcd = started;
});

interface ReadyBody {
  ready: boolean;
  reasons: string[];
  warnings?: string[];
  writesFailing: string[];
}

const readyz = async (agent: Agent) => {
  const res = await httpGet(`${agent.url}/readyz`);
  return { status: res.status, body: JSON.parse(res.body) as ReadyBody };
};

const writeFailingGauge = async (agent: Agent) => {
  const families = parsePrometheusText((await httpGet(`${agent.url}/metrics`)).body);
  return families.get('tsconfd_write_failing')?.samples.find((s) => s.labels.resource === 'app.toml')?.value;
};

/** A confdir whose one resource writes `<destDir>/app.conf` from the keys under `<prefix>/svc`. */
function workspace(t: { after: (fn: () => void) => void }, prefix: string, destDir: (root: string) => string) {
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-retry-'));
  const dir = destDir(root);
  const mounts: string[] = [];
  t.after(() => {
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    rmSync(root, { recursive: true, force: true });
  });
  const confdir = join(root, 'confdir');
  const dest = join(dir, 'app.conf');
  writeFileWithDirs(join(confdir, 'conf.d/app.toml'), `[template]\nprefix = "${prefix}"\nsrc = "app.tmpl"\ndest = "${dest}"\nkeys = ["/svc"]\n`);
  writeFileWithDirs(join(confdir, 'templates/app.tmpl'), '{{range gets "/svc/*"}}{{base .Key}}={{.Value}}\n{{end}}');
  return { root, dir, confdir, dest, mounts, read: () => (existsSync(dest) ? readFileSync(dest, 'utf8') : undefined) };
}

const retryLines = (agent: Agent) => agent.count(/app\.conf: write failed \(\d+ in a row\); retrying in/);

test('-watch: a write failing with ENOSPC is retried until space is freed; /readyz and /metrics name it meanwhile', { timeout: 60_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a small tmpfs');
  const ws = workspace(t, '/wr1', (root) => join(root, 'small'));
  mkdirSync(ws.dir);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', ws.dir], { encoding: 'utf8' });
  if (mount.status !== 0) return t.skip(`mount tmpfs refused: ${mount.stderr.trim()}`);
  ws.mounts.push(ws.dir);

  await etcd.put('/wr1/svc/a', '1');
  const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-http', '127.0.0.1:0']);
  t.after(() => agent.stop());
  await agent.waitFor('first render', () => ws.read() === 'a=1\n' && agent.url !== '');
  await agent.waitFor('ready', async () => (await readyz(agent)).status === 200);

  // Fill the filesystem: the next stage file cannot be written.
  const filler = join(ws.dir, 'filler');
  const chunk = Buffer.alloc(4096, 0x78);
  try {
    for (;;) writeFileSync(filler, chunk, { flag: 'a' });
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  await etcd.put('/wr1/svc/a', '2');
  await agent.waitFor('two retries logged', () => retryLines(agent) >= 2, 20_000);
  assert.ok(agent.count(/no space left on device/) >= 2, agent.tail());
  assert.equal(ws.read(), 'a=1\n', 'the old file stays while writes fail');

  const failing = await readyz(agent);
  // It rendered before: its last good file serves, so readiness holds, but the body says what fails.
  assert.equal(failing.status, 200, JSON.stringify(failing.body));
  assert.equal(failing.body.writesFailing.length, 1, JSON.stringify(failing.body));
  assert.match(failing.body.writesFailing[0]!, /app\.toml \(dest .*app\.conf\): .*no space left on device/);
  assert.match(failing.body.warnings?.[0] ?? '', /write failing.*app\.toml/);
  assert.equal(await writeFailingGauge(agent), 1);

  // Free the space; no change in etcd: the retry writes the file.
  rmSync(filler);
  await agent.waitFor('written by a retry', () => ws.read() === 'a=2\n', 30_000);
  await agent.waitFor('reported written', () => agent.count(/app\.conf: written after \d+ failed write\(s\)/) === 1);
  const healed = await readyz(agent);
  assert.equal(healed.status, 200);
  assert.deepEqual(healed.body.writesFailing, []);
  assert.equal(healed.body.warnings, undefined);
  assert.equal(await writeFailingGauge(agent), undefined, 'the gauge is gone once a write succeeded');
  // Retries stop once the write succeeded.
  const retries = retryLines(agent);
  await etcd.put('/wr1/svc/b', '3');
  await agent.waitFor('next change rendered', () => ws.read() === 'a=2\nb=3\n');
  assert.equal(retryLines(agent), retries);
  assert.equal(await agent.stop(), 0);
});

test('-watch: a destination directory that is not there at start-up: 503 (never rendered) with the failing write named, written once it appears', { timeout: 60_000 }, async (t) => {
  // Works as root and without mounts: the destination's directory is a plain file at first.
  const ws = workspace(t, '/wr2', (root) => join(root, 'out'));
  writeFileSync(ws.dir, 'not a directory\n');
  await etcd.put('/wr2/svc/a', '1');
  const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-http', '127.0.0.1:0']);
  t.after(() => agent.stop());
  await agent.waitFor('two retries logged', () => retryLines(agent) >= 2 && agent.url !== '', 20_000);
  const failing = await readyz(agent);
  assert.equal(failing.status, 503, JSON.stringify(failing.body));
  assert.ok(failing.body.reasons.some((r) => r.startsWith('never rendered') && r.includes('app.toml')), JSON.stringify(failing.body));
  assert.match(failing.body.writesFailing[0] ?? '', /app\.toml \(dest .*app\.conf\): .*not a directory/);
  // Backoff: the second retry waited longer than the first (1 s, then 2 s).
  const delays = agent.log.map((l) => /app\.conf: write failed \(\d+ in a row\); retrying in ([\d.]+)s/.exec(l)?.[1]).filter(Boolean).map(Number);
  assert.deepEqual(delays.slice(0, 2), [1, 2]);

  // The directory appears (moved into place, as a provisioning step would); no change in etcd.
  rmSync(ws.dir);
  const staging = join(ws.root, 'out.new');
  mkdirSync(staging);
  renameSync(staging, ws.dir);
  await agent.waitFor('written by a retry', () => ws.read() === 'a=1\n', 30_000);
  await agent.waitFor('ready', async () => (await readyz(agent)).status === 200);
  assert.deepEqual((await readyz(agent)).body.writesFailing, []);
  assert.equal(await agent.stop(), 0);
});

test('-interval 600: a failed write is retried by early passes, not 600 s later', { timeout: 60_000 }, async (t) => {
  const ws = workspace(t, '/wr3', (root) => join(root, 'out'));
  mkdirSync(ws.dir);
  await etcd.put('/wr3/svc/a', '1');
  const agent = new Agent(['-interval', '600', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-http', '127.0.0.1:0']);
  t.after(() => agent.stop());
  await agent.waitFor('first pass', () => ws.read() === 'a=1\n' && agent.url !== '');
  // The directory turns into a file (a broken provisioning step); a change is made; SIGHUP asks for a pass.
  rmSync(ws.dir, { recursive: true });
  writeFileSync(ws.dir, 'not a directory\n');
  await etcd.put('/wr3/svc/a', '2');
  agent.signal('SIGHUP');
  await agent.waitFor('two retries logged', () => retryLines(agent) >= 2, 20_000);
  const failing = await readyz(agent);
  assert.equal(failing.status, 200, JSON.stringify(failing.body));
  assert.match(failing.body.writesFailing[0] ?? '', /app\.toml \(dest .*app\.conf\)/);
  assert.equal(await writeFailingGauge(agent), 1);

  rmSync(ws.dir);
  mkdirSync(ws.dir);
  await agent.waitFor('written by a retry pass', () => ws.read() === 'a=2\n', 30_000);
  await agent.waitFor('no longer reported', async () => (await readyz(agent)).body.writesFailing.length === 0);
  assert.equal(await writeFailingGauge(agent), undefined);
  assert.equal(await agent.stop(), 0);
});
