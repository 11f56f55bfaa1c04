// Against real etcd: a tsconfd killed with SIGKILL while its check_cmd runs leaves its stage file
// (`.<dest name><digits>` beside the destination). The next run removes it at start-up, with a log
// line, and removes nothing else: not a name of another shape, not another file's stage-like name,
// not a directory or a symlink, not a file written after it started; -noop and -keep-stage-file
// remove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { until } from '../../helpers/wait.js';

let etcd: EtcdServer;
etcdPerFile((started) => {
  etcd = started;
});

const stageFiles = (dir: string) => readdirSync(dir).filter((f) => /^\.app\.conf\d+$/.test(f));

test('a stage file left by kill -9 is removed at the next start; nothing else is', { timeout: 60_000 }, async (t) => {
  const ws = new Workspace({
    'conf.d/app.toml': '[template]\nprefix = "/st"\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\ncheck_cmd = "sleep 30"\n',
    'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
    'conf.d/a-sites.toml': '[template]\nprefix = "/st"\nsrc = "site.tmpl"\ndest = "@OUT@/sites/{{base .Key}}.conf"\nrange = "/sites/*"\n',
    'templates/site.tmpl': 'site {{base .Key}}={{.Value}}\n',
  });
  t.after(() => ws.cleanup());
  const sites = join(ws.out, 'sites');
  mkdirSync(sites);
  await etcd.put('/st/app/x', '1');
  await etcd.put('/st/sites/alpha', 'a');
  const args = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];

  // Killed while check_cmd runs: the stage file stays (its check never ended, nothing was renamed).
  const killed = spawnCli(args, { detached: true });
  t.after(() => killed.stop());
  await until('check_cmd running on the stage file', () => stageFiles(ws.out).length === 1, 15_000, () => killed.stderr());
  process.kill(-killed.child.pid!, 'SIGKILL');
  await killed.closed;
  const [leftover] = stageFiles(ws.out);
  assert.ok(!existsSync(join(ws.out, 'app.conf')), 'nothing was installed');
  assert.ok(existsSync(join(sites, 'alpha.conf')), 'the fan-out was written');

  // Decoys around it, all to be kept.
  const past = new Date(Date.now() - 3_600_000);
  const keep = ['.app.conf', '.app.confx12', '.app.conf.12', 'app.conf12', '.other.conf12', '.app.conf12345678901', '.app.conf77', '.app.conf99'];
  for (const name of keep.slice(0, 6)) writeFileSync(join(ws.out, name), 'not a stage file of ours\n');
  mkdirSync(join(ws.out, '.app.conf77'));
  symlinkSync('app.conf12', join(ws.out, '.app.conf99'));
  for (const name of keep.slice(0, 7)) utimesSync(join(ws.out, name), past, past);
  // A fan-out file's stale stage file, and its manifest's.
  writeFileSync(join(sites, '.alpha.conf4242'), 'stale\n');
  writeFileSync(join(sites, '..tsconfd-manifest-a-sites.json31337'), '{}\n');
  writeFileSync(join(sites, '.beta.conf4242'), 'no such fan-out file: kept\n');
  // Written "after" the next run starts (a concurrent writer's file): kept.
  const future = new Date(Date.now() + 3_600_000);
  writeFileSync(join(ws.out, '.app.conf5150'), 'in flight\n');
  utimesSync(join(ws.out, '.app.conf5150'), future, future);

  // -noop and -keep-stage-file leave everything.
  ws.write({ 'conf.d/app.toml': '[template]\nprefix = "/st"\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n' });
  for (const flag of ['-noop', '-keep-stage-file']) {
    const r = await runCli([...args, flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(ws.out, leftover!)), `${flag} removed the stage file`);
    assert.doesNotMatch(r.stderr, /stage file left by an earlier run/);
  }

  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'x=1\n');
  assert.ok(!existsSync(join(ws.out, leftover!)), 'the stage file left by kill -9 is still there');
  assert.match(r.stderr, new RegExp(`WARNING removed ${join(ws.out, leftover!).replace(/[.]/g, '\\.')}: a stage file left by an earlier run`));
  assert.ok(!existsSync(join(sites, '.alpha.conf4242')));
  assert.ok(!existsSync(join(sites, '..tsconfd-manifest-a-sites.json31337')));
  for (const name of [...keep, '.app.conf5150']) assert.ok(existsSync(join(ws.out, name)), `${name} was removed`);
  assert.ok(existsSync(join(sites, '.beta.conf4242')));
  assert.equal(r.stderr.match(/stage file left by an earlier run/g)?.length, 3, r.stderr);
});

test("a commit group's staging tree left by kill -9 is removed at the next start; a live agent's and another group's are not", { timeout: 60_000 }, async (t) => {
  const member = (name: string) =>
    `[template]\nprefix = "/sg"\nsrc = "m.tmpl"\ndest = "@OUT@/${name}.conf"\nkeys = ["/app"]\ncommit_group = "web"\ngroup_check_cmd = "sleep 30"\n`;
  const ws = new Workspace({ 'conf.d/a.toml': member('a'), 'conf.d/b.toml': member('b'), 'templates/m.tmpl': 'x={{getv "/app/x"}}\n' });
  t.after(() => ws.cleanup());
  const tmp = join(ws.root, 'tmp');
  mkdirSync(tmp);
  const env = { TMPDIR: tmp };
  await etcd.put('/sg/app/x', '1');
  const args = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];
  const trees = () => readdirSync(tmp).filter((f) => f.startsWith('tsconfd-group-'));

  const killed = spawnCli(args, { detached: true, env });
  t.after(() => killed.stop());
  await until('group_check_cmd running on the staging tree', () => trees().length === 1, 15_000, () => killed.stderr());
  process.kill(-killed.child.pid!, 'SIGKILL');
  await killed.closed;
  const [leftover] = trees();
  assert.match(leftover!, new RegExp(`^tsconfd-group-web-${killed.child.pid}-[A-Za-z0-9]{6}$`));

  // Kept: a tree of a process that is alive (this one), another group's, and one written after the next run starts.
  const past = new Date(Date.now() - 3_600_000);
  const alive = `tsconfd-group-web-${process.pid}-AAAAAA`;
  const other = `tsconfd-group-api-${killed.child.pid}-BBBBBB`;
  for (const name of [alive, other]) {
    mkdirSync(join(tmp, name));
    utimesSync(join(tmp, name), past, past);
  }

  ws.write({ 'conf.d/a.toml': member('a').replace('sleep 30', 'true'), 'conf.d/b.toml': member('b').replace('sleep 30', 'true') });
  const r = await runCli(args, { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(ws.out, 'a.conf'), 'utf8'), 'x=1\n');
  assert.ok(!existsSync(join(tmp, leftover!)), 'the staging tree left by kill -9 is still there');
  assert.match(r.stderr, /WARNING removed .*tsconfd-group-web-\d+-\w{6}: a commit group's staging tree left by an earlier run/);
  for (const name of [alive, other]) assert.ok(existsSync(join(tmp, name)), `${name} was removed`);
});
