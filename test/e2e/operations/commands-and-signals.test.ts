// Commands and signals of a running tsconfd -watch against real etcd: SIGTERM during a slow check_cmd, a hanging
// reload killed at its command_timeout with its children, one reload for resources sharing a reload_cmd,
// min_reload_interval deferring (not dropping) the trailing reload, and the built-in signal reload action.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';
import { Agent } from '../harness/agent.js';
import { httpGet } from '../harness/operations-harness.js';
import { sleep, until } from '../../helpers/wait.js';
import { fileLines as lines, writeFileWithDirs } from '../../helpers/files.js';
import { alive } from '../../helpers/proc.js';

let etcd: EtcdServer;
etcdPerFile((started) => {
  etcd = started;
});

function scratch(t: { after: (fn: () => void) => void }) {
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-cmds-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, 'out');
  mkdirSync(out);
  const text = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
  return { root, confdir: join(root, 'confdir'), out, text };
}


const watch = (confdir: string, ...extra: string[]) => new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', confdir, ...extra]);

test('SIGTERM during a slow check_cmd: exits 0 promptly, the check is killed, dest and directory intact', { timeout: 60_000 }, async (t) => {
  const { root, confdir, out, text } = scratch(t);
  const started = join(root, 'check-started');
  const slow = join(root, 'slow');
  await etcd.put('/sig/svc/a', '1');
  writeFileWithDirs(join(confdir, 'conf.d/app.toml'), `[template]\nprefix = "/sig"\nsrc = "app.tmpl"\ndest = "${join(out, 'app.conf')}"\nkeys = ["/svc"]\n` +
    `check_cmd = "test ! -e ${slow} || { echo $$ > ${started}; sleep 30; }"\n`);
  writeFileWithDirs(join(confdir, 'templates/app.tmpl'), 'a={{getv "/svc/a"}}\n');
  const agent = watch(confdir);
  t.after(() => agent.stop());
  await agent.waitFor('first render', () => text(join(out, 'app.conf')) === 'a=1\n');
  writeFileSync(slow, '');
  await etcd.put('/sig/svc/a', '2');
  await agent.waitFor('the slow check running', () => existsSync(started) && text(started)!.trim() !== '');
  const checkShell = Number(text(started));
  const t0 = Date.now();
  agent.signal('SIGTERM');
  const code = await agent.exit;
  const took = Date.now() - t0;
  assert.equal(code, 0, agent.tail());
  assert.ok(took < 3_000, `exited after ${took} ms`);
  assert.equal(text(join(out, 'app.conf')), 'a=1\n', 'dest untouched');
  assert.deepEqual(readdirSync(out), ['app.conf'], 'no stage file left behind');
  await until('the check shell gone', () => !alive(checkShell), 2_000);
  assert.ok(agent.count(/received SIGTERM/) === 1 && agent.count(/shutdown complete/) === 1, agent.tail());
});

test('a hanging reload_cmd is killed at the resource command_timeout with its children; the agent goes on', { timeout: 60_000 }, async (t) => {
  const { root, confdir, out, text } = scratch(t);
  const childPid = join(root, 'child.pid');
  await etcd.put('/hang/svc/a', '1');
  writeFileWithDirs(join(confdir, 'conf.d/app.toml'), `[template]\nprefix = "/hang"\nsrc = "app.tmpl"\ndest = "${join(out, 'app.conf')}"\nkeys = ["/svc"]\n` +
    `command_timeout = "800ms"\nreload_cmd = "sleep 60 & echo $! > ${childPid}; wait"\n`);
  writeFileWithDirs(join(confdir, 'templates/app.tmpl'), 'a={{getv "/svc/a"}}\n');
  const agent = watch(confdir, '-http', '127.0.0.1:0', '-command-timeout', '60');
  t.after(() => agent.stop());
  await agent.waitFor('first render', () => text(join(out, 'app.conf')) === 'a=1\n' && existsSync(childPid));
  const t0 = Date.now();
  await agent.waitFor('the timeout', () => agent.count(/command timed out after 0.8s and was killed/) === 1);
  assert.ok(Date.now() - t0 < 3_000);
  const child = Number(text(childPid));
  await until('the reload’s child killed', () => !alive(child), 3_000);
  await etcd.put('/hang/svc/a', '2');
  await agent.waitFor('next change still rendered', () => text(join(out, 'app.conf')) === 'a=2\n');
  await agent.waitFor('second timeout', () => agent.count(/command timed out after 0.8s/) === 2);
  const metrics = parsePrometheusText((await httpGet(`${agent.url}/metrics`)).body);
  assert.equal(sampleValue(metrics, 'tsconfd_command_exits_total', { resource: 'app.toml', kind: 'reload', code: 'timeout' }), 2);
  assert.equal(sampleValue(metrics, 'tsconfd_failures_total', { resource: 'app.toml', reason: 'reload' }), 2);
  assert.equal(await agent.stop(), 0);
});

test('resources sharing a reload_cmd give one reload per change; min_reload_interval defers the trailing one', { timeout: 60_000 }, async (t) => {
  const { root, confdir, out, text } = scratch(t);
  const shared = join(root, 'shared-reloads');
  const spaced = join(root, 'spaced-reloads');
  await etcd.put('/share/svc/a', '0');
  for (const name of ['one', 'two', 'three']) {
    writeFileWithDirs(join(confdir, `conf.d/${name}.toml`), `[template]\nprefix = "/share"\nsrc = "app.tmpl"\ndest = "${join(out, name)}"\nkeys = ["/svc"]\n` +
      `reload_cmd = "echo reload >> ${shared}"\n`);
  }
  // Records what dest held when it reloaded: the trailing reload must see the last value.
  writeFileWithDirs(join(confdir, 'conf.d/spaced.toml'), `[template]\nprefix = "/share"\nsrc = "app.tmpl"\ndest = "${join(out, 'spaced')}"\nkeys = ["/svc"]\n` +
    `min_reload_interval = "1s"\nreload_cmd = "cat ${join(out, 'spaced')} >> ${spaced}"\n`);
  writeFileWithDirs(join(confdir, 'templates/app.tmpl'), '{{getv "/svc/a"}}\n');
  const agent = watch(confdir);
  t.after(() => agent.stop());
  await agent.waitFor('first render', () => ['one', 'two', 'three', 'spaced'].every((n) => text(join(out, n)) === '0\n') && lines(shared).length >= 1 && lines(spaced).length === 1);
  await sleep(200);
  assert.equal(lines(shared).length, 1, 'one reload for three resources');

  await etcd.put('/share/svc/a', '1');
  await agent.waitFor('second render', () => text(join(out, 'three')) === '1\n' && lines(shared).length >= 2);
  await sleep(200);
  assert.equal(lines(shared).length, 2);

  // A burst inside spaced.toml's min_reload_interval: every value is written, the reloads are spaced and the
  // last one sees the last value.
  for (let i = 2; i <= 6; i++) {
    await etcd.put('/share/svc/a', String(i));
    await sleep(120);
  }
  await agent.waitFor('the trailing reload', () => lines(spaced).at(-1) === '6', 5_000);
  await sleep(1_300);
  const seen = lines(spaced);
  assert.equal(seen.at(-1), '6');
  assert.ok(seen.length <= 3, `spaced reloads: ${seen.join(',')}`);
  assert.ok(agent.count(/deferred \d+ ms \(min_reload_interval 1000 ms/) >= 1);
  assert.equal(await agent.stop(), 0);
});

test('reload = "signal:HUP:<pidfile>" signals the process without a shell', { timeout: 60_000 }, async (t) => {
  const { root, confdir, out, text } = scratch(t);
  const hups = join(root, 'hups');
  const pidfile = join(root, 'server.pid');
  // A stand-in server that counts SIGHUPs.
  const server = spawn('/bin/sh', ['-c', `echo $$ > ${pidfile}; trap 'echo hup >> ${hups}' HUP; while :; do sleep 0.05; done`], { stdio: 'ignore' });
  t.after(() => server.kill('SIGKILL'));
  await until('pidfile', () => existsSync(pidfile) && text(pidfile)!.trim() !== '');
  await etcd.put('/act/svc/a', '1');
  writeFileWithDirs(join(confdir, 'conf.d/app.toml'), `[template]\nprefix = "/act"\nsrc = "app.tmpl"\ndest = "${join(out, 'app.conf')}"\nkeys = ["/svc"]\nreload = "signal:HUP:${pidfile}"\n`);
  writeFileWithDirs(join(confdir, 'templates/app.tmpl'), 'a={{getv "/svc/a"}}\n');
  const agent = watch(confdir);
  t.after(() => agent.stop());
  await agent.waitFor('first HUP', () => lines(hups).length === 1);
  await etcd.put('/act/svc/a', '2');
  await agent.waitFor('second HUP', () => lines(hups).length === 2 && text(join(out, 'app.conf')) === 'a=2\n');
  assert.ok(agent.count(/reload signal:HUP:.*: sent SIGHUP to pid \d+/) === 2, agent.tail());
  assert.equal(await agent.stop(), 0);
});
