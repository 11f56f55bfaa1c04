// Safe writes through the built CLI: failed checks, a kill -9 in the middle of a write, bind-mounted
// destinations (EBUSY), file owners from user/group names.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, Workspace, cleanEnv, ensureBuilt, runCli } from '../harness/onetime-harness.js';

const KEYS = 'app:\n  x: "1"\n  name: two\n';

function keysFile(ws: Workspace): string {
  const path = join(ws.root, 'keys.yaml');
  writeFileSync(path, KEYS);
  return path;
}

const resource = (extra = '', dest = '@OUT@/app.conf') =>
  `[template]\nsrc = "app.tmpl"\ndest = "${dest}"\nkeys = ["/app"]\n${extra}\n`;
const TEMPLATE = 'x={{getv "/app/x"}}\nname={{getv "/app/name"}}\n';

before(() => ensureBuilt());

test('a failing check_cmd leaves the old file, runs no reload, leaves no stage file, exits 1 naming the resource', async () => {
  const ws = new Workspace({
    'conf.d/app.toml': resource('check_cmd = "grep -q x=1 {{.src}} && echo checked {{.src}} && exit 3"\nreload_cmd = "touch @OUT@/reloaded"'),
    'templates/app.tmpl': TEMPLATE,
  });
  try {
    writeFileSync(join(ws.out, 'app.conf'), 'old\n');
    chmodSync(join(ws.out, 'app.conf'), 0o640);
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 1);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old\n');
    assert.equal(statSync(join(ws.out, 'app.conf')).mode & 0o777, 0o640);
    assert.deepEqual(ws.outFiles(), ['app.conf']);
    // The check saw the staged file, in the destination's directory, named as confd names it.
    assert.match(r.stderr, new RegExp(`ERROR "checked ${ws.out}/\\.app\\.conf\\d+\\\\n"`));
    assert.match(r.stderr, /ERROR Config check failed: exit status 3\n/);
    assert.match(r.stderr, /FATAL 1 of 1 template resource failed: .*app\.toml \(dest .*app\.conf\): Config check failed: exit status 3/);
  } finally {
    ws.cleanup();
  }
});

test('a passing check_cmd sees the stage file with its final mode; reload runs after the rename', async () => {
  const ws = new Workspace({
    'conf.d/app.toml': resource(
      'mode = "0600"\ncheck_cmd = "test $(stat -c %a {{.src}}) = 600 && test ! -e @OUT@/app.conf"\nreload_cmd = "cp @OUT@/app.conf @OUT@/reloaded"',
    ),
    'templates/app.tmpl': TEMPLATE,
  });
  try {
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'reloaded'), 'utf8'), 'x=1\nname=two\n');
    assert.equal(statSync(join(ws.out, 'app.conf')).mode & 0o777, 0o600);
    assert.deepEqual(ws.outFiles(), ['app.conf', 'reloaded']);
  } finally {
    ws.cleanup();
  }
});

test('kill -9 during a slow check leaves the old destination intact', async () => {
  const ws = new Workspace({
    'conf.d/app.toml': resource('check_cmd = "echo $$ > @OUT@/checking.tmp && mv @OUT@/checking.tmp @OUT@/checking && exec sleep 30"'),
    'templates/app.tmpl': TEMPLATE,
  });
  try {
    writeFileSync(join(ws.out, 'app.conf'), 'old content\n');
    const child = spawn(process.execPath, [CLI, '-onetime', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir], {
      env: cleanEnv(),
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
    for (let i = 0; i < 200 && !existsSync(join(ws.out, 'checking')); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(existsSync(join(ws.out, 'checking')), 'check_cmd never started');
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old content\n');
    // The stage file may remain (nobody was left to remove it), but it is never the destination.
    for (const f of ws.outFiles()) assert.ok(['app.conf', 'checking'].includes(f) || /^\.app\.conf\d+$/.test(f), f);
    // The check command (exec'd into sleep) outlived the killed run; stop it by its pid.
    const sleepPid = Number(readFileSync(join(ws.out, 'checking'), 'utf8'));
    assert.ok(sleepPid > 1);
    process.kill(sleepPid, 'SIGKILL');
  } finally {
    ws.cleanup();
  }
});

test('a render error leaves an existing destination untouched and creates no new one', async () => {
  const ws = new Workspace({
    'conf.d/a.toml': resource('', '@OUT@/a.conf'),
    'conf.d/b.toml': '[template]\nsrc = "bad.tmpl"\ndest = "@OUT@/b.conf"\nkeys = ["/app"]\n',
    'templates/app.tmpl': TEMPLATE,
    'templates/bad.tmpl': 'before {{getv "/app/missing"}} after\n',
  });
  try {
    writeFileSync(join(ws.out, 'a.conf'), 'old a\n');
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 1);
    assert.equal(readFileSync(join(ws.out, 'a.conf'), 'utf8'), 'x=1\nname=two\n');
    assert.deepEqual(ws.outFiles(), ['a.conf']);
    assert.match(r.stderr, /ERROR template: bad\.tmpl:1:9: executing "bad\.tmpl" at <getv "\/app\/missing">: error calling getv: key does not exist: \/app\/missing/);
  } finally {
    ws.cleanup();
  }
});

function canBindMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for mount --bind';
  const probe = spawnSync('mount', ['--version']);
  if (probe.error) return 'no mount command';
  return undefined;
}

test('a bind-mounted destination (rename gives EBUSY) is written in place and verified; in_place = false refuses', async (t) => {
  const reason = canBindMount();
  if (reason) return t.skip(reason);
  const ws = new Workspace({
    'conf.d/a.toml': resource('reload_cmd = "touch @OUT@/reloaded"', '@OUT@/app.conf'),
    'conf.d/b.toml': resource('in_place = false', '@OUT@/strict.conf'),
    'templates/app.tmpl': TEMPLATE,
  });
  const source = join(ws.root, 'source.conf');
  const strictSource = join(ws.root, 'strict-source.conf');
  writeFileSync(source, 'old bind content, longer than the new one\n');
  writeFileSync(strictSource, 'strict old\n');
  writeFileSync(join(ws.out, 'app.conf'), '');
  writeFileSync(join(ws.out, 'strict.conf'), '');
  const mounts: string[] = [];
  try {
    for (const [src, dst] of [
      [source, join(ws.out, 'app.conf')],
      [strictSource, join(ws.out, 'strict.conf')],
    ] as const) {
      const m = spawnSync('mount', ['--bind', src, dst], { encoding: 'utf8' });
      if (m.status !== 0) return t.skip(`mount --bind refused: ${m.stderr.trim()}`);
      mounts.push(dst);
    }
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 1, r.stderr);
    // In place: the bind source itself now holds exactly the new content (tail cut), reload ran.
    assert.equal(readFileSync(source, 'utf8'), 'x=1\nname=two\n');
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'x=1\nname=two\n');
    assert.ok(existsSync(join(ws.out, 'reloaded')));
    assert.match(r.stderr, /WARNING rename .*: device or resource busy: .*app\.conf is likely a mount point; wrote it in place/);
    // in_place = false: refused, old content kept.
    assert.equal(readFileSync(strictSource, 'utf8'), 'strict old\n');
    assert.match(r.stderr, /ERROR rename .*strict\.conf\d+ .*strict\.conf: device or resource busy; in_place = false forbids/);
    assert.deepEqual(ws.outFiles(), ['app.conf', 'reloaded', 'strict.conf']);
  } finally {
    for (const m of mounts) spawnSync('umount', [m]);
    ws.cleanup();
  }
});

test('owner and group names are honoured (a user and group created for the test)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to create a user and chown');
  const name = `tsconfd${process.pid}`;
  const g = spawnSync('groupadd', [name], { encoding: 'utf8' });
  if (g.status !== 0) return t.skip(`groupadd refused: ${g.stderr.trim()}`);
  const u = spawnSync('useradd', ['--no-create-home', '--no-user-group', '--gid', name, name], { encoding: 'utf8' });
  const ws = new Workspace({
    'conf.d/app.toml': resource(`owner = "${name}"\ngroup = "${name}"\nmode = "0640"`),
    'templates/app.tmpl': TEMPLATE,
  });
  try {
    assert.equal(u.status, 0, u.stderr);
    const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout);
    const gid = Number(spawnSync('getent', ['group', name], { encoding: 'utf8' }).stdout.split(':')[2]);
    const args = ['-onetime', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir];
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    const st = statSync(join(ws.out, 'app.conf'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [uid, gid, 0o640]);
    // Owner alone differing is a change: chown back to root and run again.
    spawnSync('chown', ['0:0', join(ws.out, 'app.conf')]);
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`INFO .*app\\.conf has UID 0 should be ${uid}`));
    assert.equal(statSync(join(ws.out, 'app.conf')).uid, uid);
  } finally {
    ws.cleanup();
    spawnSync('userdel', [name]);
    spawnSync('groupdel', [name]);
  }
});
