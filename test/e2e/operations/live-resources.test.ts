// Live resources against real etcd (tsconfd -watch as a process): resources and templates added, edited and
// removed while watching, a broken one keeping its last good version, SIGHUP, and a Kubernetes ConfigMap-style
// `..data` symlink swap giving one reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Agent } from '../harness/agent.js';
import { httpGet } from '../harness/operations-harness.js';
import { writeFileWithDirs } from '../../helpers/files.js';

let etcd: EtcdServer;
etcdPerFile((started) => {
  etcd = started;
});

function scratch(t: { after: (fn: () => void) => void }) {
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-live-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, 'out');
  mkdirSync(out);
  const read = (name: string) => (existsSync(join(out, name)) ? readFileSync(join(out, name), 'utf8') : undefined);
  return { root, confdir: join(root, 'confdir'), out, read };
}

const resource = (out: string, name: string, tmpl: string, extra = '') =>
  `[template]\nprefix = "/live"\nsrc = "${tmpl}"\ndest = "${join(out, name)}"\nkeys = ["/svc"]\n${extra}`;

test('resources and templates added, edited, broken and removed while watching; SIGHUP', { timeout: 60_000 }, async (t) => {
  const { confdir, out, read } = scratch(t);
  await etcd.put('/live/svc/a', '1');
  writeFileWithDirs(join(confdir, 'conf.d/one.toml'), resource(out, 'one.conf', 'one.tmpl'));
  writeFileWithDirs(join(confdir, 'templates/one.tmpl'), 'one:{{getv "/svc/a"}}\n');
  const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', confdir, '-http', '127.0.0.1:0']);
  t.after(() => agent.stop());
  await agent.waitFor('one.conf', () => read('one.conf') === 'one:1\n');

  // Added: a resource and its template.
  writeFileWithDirs(join(confdir, 'templates/two.tmpl'), 'two:{{getv "/svc/a"}}\n');
  writeFileWithDirs(join(confdir, 'conf.d/two.toml'), resource(out, 'two.conf', 'two.tmpl'));
  await agent.waitFor('two.conf', () => read('two.conf') === 'two:1\n');

  // Edited: a template, then a resource's dest.
  writeFileWithDirs(join(confdir, 'templates/one.tmpl'), 'ONE:{{getv "/svc/a"}}\n');
  await agent.waitFor('edited template', () => read('one.conf') === 'ONE:1\n');
  writeFileWithDirs(join(confdir, 'conf.d/two.toml'), resource(out, 'two-b.conf', 'two.tmpl'));
  await agent.waitFor('edited dest', () => read('two-b.conf') === 'two:1\n');

  // Broken: the last good version of two.toml keeps following etcd; /readyz says what is wrong.
  writeFileWithDirs(join(confdir, 'conf.d/two.toml'), '[template]\nsrc = "two.tmpl"\nkeys = "not a list"\n');
  await agent.waitFor('broken reported', () => agent.count(/two\.toml.*keys must be an array of strings.*; its last good version keeps running/) > 0);
  const ready = await httpGet(`${agent.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(ready.body, /two\.toml \(does not load/);
  await etcd.put('/live/svc/a', '2');
  await agent.waitFor('last good version renders', () => read('two-b.conf') === 'two:2\n' && read('one.conf') === 'ONE:2\n');

  // Removed: two.toml goes; its file stays as it was, and it no longer follows etcd.
  unlinkSync(join(confdir, 'conf.d/two.toml'));
  await agent.waitFor('ready again', async () => (await httpGet(`${agent.url}/readyz`)).status === 200);
  await etcd.put('/live/svc/a', '3');
  await agent.waitFor('one follows', () => read('one.conf') === 'ONE:3\n');
  assert.equal(read('two-b.conf'), 'two:2\n');

  // SIGHUP: reloads on demand (the log says so) and renders what changed outside the watched directories' events.
  const reloadsBefore = agent.count(/reload: 1 resources loaded/);
  agent.signal('SIGHUP');
  await agent.waitFor('SIGHUP reload', () => agent.count(/received SIGHUP/) === 1 && agent.count(/reload: 1 resources loaded/) > reloadsBefore);
  assert.equal(await agent.stop(), 0);
});

test('a ConfigMap ..data symlink swap reloads once and renders the new version', { timeout: 60_000 }, async (t) => {
  const { confdir, out, read } = scratch(t);
  await etcd.put('/live/svc/a', 'x');
  // The kubelet's layout, for conf.d and templates mounted from one ConfigMap each.
  const version = (dir: string, v: string, files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) writeFileWithDirs(join(confdir, dir, `..${v}`, name), text);
  };
  const link = (dir: string, v: string, names: string[]) => {
    symlinkSync(`..${v}`, join(confdir, dir, '..data'));
    for (const n of names) symlinkSync(`..data/${n}`, join(confdir, dir, n));
  };
  const swap = (dir: string, from: string, to: string) => {
    symlinkSync(`..${to}`, join(confdir, dir, '..data_tmp'));
    renameSync(join(confdir, dir, '..data_tmp'), join(confdir, dir, '..data'));
    rmSync(join(confdir, dir, `..${from}`), { recursive: true });
  };
  version('conf.d', 'v1', { 'app.toml': resource(out, 'app.conf', 'app.tmpl', `reload_cmd = "echo r >> ${join(out, '..', 'reloads')}"`) });
  version('templates', 'v1', { 'app.tmpl': 'v1 {{getv "/svc/a"}}\n' });
  link('conf.d', 'v1', ['app.toml']);
  link('templates', 'v1', ['app.tmpl']);
  const reloads = () => (existsSync(join(out, '..', 'reloads')) ? readFileSync(join(out, '..', 'reloads'), 'utf8').split('\n').filter(Boolean).length : 0);

  const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', confdir]);
  t.after(() => agent.stop());
  await agent.waitFor('first render', () => read('app.conf') === 'v1 x\n' && reloads() === 1);

  version('templates', 'v2', { 'app.tmpl': 'v2 {{getv "/svc/a"}}\n' });
  swap('templates', 'v1', 'v2');
  await agent.waitFor('the new template', () => read('app.conf') === 'v2 x\n');
  await agent.waitFor('one reload for the swap', () => reloads() === 2);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(agent.count(/reload: \d+ resources loaded/), 1, 'one resource reload for the whole swap');
  assert.equal(reloads(), 2);
  assert.ok(!agent.log.some((l) => l.includes('Found template') && l.includes('/..')), 'the ..v2 copy is not loaded');
  assert.equal(await agent.stop(), 0);
});

test('a conf.d edit during an etcd outage keeps /readyz ready (stale): the files on disk are the good ones; ?strict says not ready', { timeout: 60_000 }, async (t) => {
  const own = await startEtcd();
  t.after(() => own.stop());
  const { confdir, out, read } = scratch(t);
  await own.put('/live/svc/a', '1');
  writeFileWithDirs(join(confdir, 'conf.d/one.toml'), resource(out, 'one.conf', 'one.tmpl'));
  writeFileWithDirs(join(confdir, 'templates/one.tmpl'), 'one:{{getv "/svc/a"}}\n');
  const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', own.endpoints[0]!, '-confdir', confdir, '-http', '127.0.0.1:0']);
  t.after(() => agent.stop());
  await agent.waitFor('one.conf', () => read('one.conf') === 'one:1\n' && agent.url !== '');
  await agent.waitFor('ready', async () => (await httpGet(`${agent.url}/readyz`)).status === 200);
  await own.stop();
  // The template edited while etcd is gone: the agent reloads its resources (a new runtime, nothing read yet).
  writeFileWithDirs(join(confdir, 'templates/one.tmpl'), 'one edited:{{getv "/svc/a"}}\n');
  await agent.waitFor('reloaded', () => agent.count(/reload: 1 resources loaded/) === 1);
  const ready = await httpGet(`${agent.url}/readyz`);
  assert.equal(ready.status, 200, ready.body);
  const body = JSON.parse(ready.body) as { stale: boolean; reasons: string[] };
  assert.equal(body.stale, true, ready.body);
  assert.ok(!body.reasons.some((r) => /never read|never rendered/.test(r)), ready.body);
  assert.equal((await httpGet(`${agent.url}/readyz?strict`)).status, 503);
  assert.equal(read('one.conf'), 'one:1\n');
});
