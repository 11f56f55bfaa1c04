// The conf.d/templates watcher on a real file system (chokidar 5): debounced bursts, ConfigMap `..data` swaps as
// one change with no `..` noise, and live loading that keeps a broken file's last good version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConfigMapInternal, loadLiveResources, watchConfdir } from '../../src/runtime/confdir-watcher.js';
import { sleep, until } from '../helpers/wait.js';
import { quietLogger } from '../helpers/log.js';

function confdir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-confdir-'));
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'templates'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const toml = (name: string, extra = '') => `[template]\nsrc = "${name}.tmpl"\ndest = "/tmp/${name}.conf"\nkeys = ["/k"]\n${extra}`;

test('isConfigMapInternal spots ..data and ..<timestamp> entries only', () => {
  assert.equal(isConfigMapInternal('conf.d/..data/a.toml'), true);
  assert.equal(isConfigMapInternal('conf.d/..2026_11_25_19_00_00.123'), true);
  assert.equal(isConfigMapInternal('conf.d/a.toml'), false);
  assert.equal(isConfigMapInternal('conf.d/a..toml'), false);
  assert.equal(isConfigMapInternal('../x/conf.d/a.toml'), false);
});

test('a burst of edits in conf.d and templates is one change, listing the files', async (t) => {
  const dir = confdir(t);
  writeFileSync(join(dir, 'conf.d/a.toml'), toml('a'));
  const changes: string[][] = [];
  const w = watchConfdir({ confdir: dir, debounceMs: 100, log: quietLogger(), onChange: (p) => changes.push(p) });
  t.after(() => w.close());
  await w.ready;
  writeFileSync(join(dir, 'conf.d/a.toml'), toml('a', 'mode = "0600"'));
  writeFileSync(join(dir, 'conf.d/b.toml'), toml('b'));
  writeFileSync(join(dir, 'templates/b.tmpl'), 'x');
  await until('a change', () => changes.length > 0);
  await sleep(250);
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0], ['conf.d/a.toml', 'conf.d/b.toml', 'templates/b.tmpl']);
  unlinkSync(join(dir, 'conf.d/b.toml'));
  await until('removal', () => changes.length === 2, 2_000);
  assert.deepEqual(changes[1], ['conf.d/b.toml']);
});

test('a ConfigMap ..data symlink swap is one change and loads each resource once', async (t) => {
  const dir = confdir(t);
  const confD = join(dir, 'conf.d');
  // The kubelet's layout: ..<ts>/ holds the data, ..data -> ..<ts>, visible names -> ..data/<name>.
  mkdirSync(join(confD, '..v1'));
  writeFileSync(join(confD, '..v1/a.toml'), toml('a'));
  symlinkSync('..v1', join(confD, '..data'));
  symlinkSync('..data/a.toml', join(confD, 'a.toml'));
  const first = loadLiveResources({ confdir: dir, prefix: '', log: quietLogger() }, []);
  assert.deepEqual(first.resources.map((r) => r.file), [join(confD, 'a.toml')], 'the ..v1 copy is not loaded');

  const changes: string[][] = [];
  const w = watchConfdir({ confdir: dir, debounceMs: 100, log: quietLogger(), onChange: (p) => changes.push(p) });
  t.after(() => w.close());
  await w.ready;
  // The swap, as the kubelet does it: new dir, new symlink renamed over ..data, old dir removed.
  mkdirSync(join(confD, '..v2'));
  writeFileSync(join(confD, '..v2/a.toml'), toml('a', 'mode = "0600"'));
  symlinkSync('..v2', join(confD, '..data_tmp'));
  renameSync(join(confD, '..data_tmp'), join(confD, '..data'));
  rmSync(join(confD, '..v1'), { recursive: true });
  await until('a change', () => changes.length > 0);
  await sleep(300);
  assert.equal(changes.length, 1, JSON.stringify(changes));
  assert.ok(changes[0]!.every((p) => !isConfigMapInternal(p)), JSON.stringify(changes));
  const second = loadLiveResources({ confdir: dir, prefix: '', log: quietLogger() }, first.resources);
  assert.equal(second.resources.length, 1);
  assert.equal(second.resources[0]!.mode, 0o600);
});

test('loadLiveResources keeps the last good version of a file that breaks, and reports it', (t) => {
  const dir = confdir(t);
  writeFileSync(join(dir, 'conf.d/a.toml'), toml('a', 'mode = "0600"'));
  writeFileSync(join(dir, 'conf.d/b.toml'), toml('b'));
  const good = loadLiveResources({ confdir: dir, prefix: '', log: quietLogger() }, []);
  assert.equal(good.broken.length, 0);
  writeFileSync(join(dir, 'conf.d/a.toml'), '[template\nsrc = ');
  writeFileSync(join(dir, 'conf.d/c.toml'), 'keys = 3');
  const next = loadLiveResources({ confdir: dir, prefix: '', log: quietLogger() }, good.resources);
  assert.deepEqual(next.resources.map((r) => r.dest), ['/tmp/a.conf', '/tmp/b.conf']);
  assert.deepEqual(next.resources[0], good.resources[0], 'a.toml: the previous version is kept');
  assert.deepEqual(next.broken.map((b) => [b.file.endsWith('a.toml') ? 'a' : 'c', b.keptPrevious]), [['a', true], ['c', false]]);
  assert.match(next.broken[0]!.error, /Cannot process template resource .*a\.toml/);
});

test('a kept resource of a commit group is joined with the current members, once each', (t) => {
  const dir = confdir(t);
  writeFileSync(join(dir, 'conf.d/a.toml'), toml('a', 'commit_group = "web"'));
  writeFileSync(join(dir, 'conf.d/b.toml'), toml('b', 'commit_group = "web"'));
  const good = loadLiveResources({ confdir: dir, prefix: '', log: quietLogger() }, []);
  writeFileSync(join(dir, 'conf.d/a.toml'), toml('a', 'commit_group = 7'));
  const next = loadLiveResources({ confdir: dir, prefix: '', log: quietLogger() }, good.resources);
  assert.equal(next.broken.length, 1);
  const [a, b] = next.resources;
  assert.equal(a!.ext!.group, b!.ext!.group, 'one shared group');
  assert.deepEqual(a!.ext!.group!.members, [a, b]);
  assert.deepEqual(good.resources[0]!.ext!.group!.members.length, 2, 'the old set is left alone');
});
