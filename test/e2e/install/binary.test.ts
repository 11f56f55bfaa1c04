// The one-file executable (scripts/build-bin.mjs, `npm run build:bin`) as an operator installs it: built into a temp
// dir (so the suite's dist/ is untouched), run from another directory with no Node on its mind: -version, the seed
// from the file backend and from a real etcd (which loads the embedded etcd client), and -watch stopped by SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SEED_EXPECTED, Workspace, cleanEnv, ensureBuilt } from '../harness/onetime-harness.js';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { until } from '../../helpers/wait.js';

const expected = readFileSync(SEED_EXPECTED, 'utf8');
let work = '';
let bin = '';
let etcd: EtcdServer | undefined;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBin(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: work, env: cleanEnv(env), timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

function seedWorkspace(): Workspace {
  const toml = (src: string, dest: string) =>
    `[template]\nprefix = "/docker"\nsrc = "${src}"\ndest = "${dest}"\nmode = "0644"\nkeys = ["/node", "/service"]\n`;
  const ws = new Workspace({ 'conf.d/nginx.toml': toml('nginx.tmpl', '@OUT@/myapp.conf'), 'conf.d/nginx-hbs.toml': toml('nginx.hbs', '@OUT@/myapp-hbs.conf') });
  cpSync(join(ROOT, 'templates'), join(ws.confdir, 'templates'), { recursive: true });
  return ws;
}

before(async () => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'tsconfd-binary-'));
  bin = join(work, 'tsconfd');
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-bin.mjs'), bin], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(build.status, 0, `build-bin failed:\n${build.stderr}`);
  etcd = await startEtcd();
  for (const [k, v] of Object.entries({
    '/docker/node/n01': '192.168.100.111',
    '/docker/node/n02': '192.168.100.112',
    '/docker/node/n03': '192.168.100.113',
    '/docker/service/s01': '1005',
    '/docker/service/s02': '1007',
  })) {
    await etcd.put(k, v);
  }
});

after(async () => {
  await etcd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('one executable file: -version, from a directory with no package.json or dist/', async () => {
  assert.ok(statSync(bin).mode & 0o100);
  const r = await runBin(['-version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^tsconfd \d+\.\d+\.\d+ \(Node v20\./);
  assert.equal(existsSync(join(work, 'dist')), false);
});

test('the seed from the file backend, byte for byte, with the bundle compiled from its embedded code cache', async () => {
  const ws = seedWorkspace();
  try {
    const r = await runBin(['-onetime', '-backend', 'file', '-file', join(ROOT, 'examples/seed-keys.yaml'), '-confdir', ws.confdir], {
      TSCONFD_BIN_CACHE_REPORT: '1',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'myapp.conf'), 'utf8'), expected);
    assert.equal(readFileSync(join(ws.out, 'myapp-hbs.conf'), 'utf8'), expected);
    assert.match(r.stderr, /^tsconfd\.cjs code cache accepted$/m);
    assert.doesNotMatch(r.stderr, /etcd3\.cjs/, 'the file backend must not load etcd\'s client');
  } finally {
    ws.cleanup();
  }
});

test('the seed from a real etcd: -onetime reads it with the client inside the main bundle (etcd3 is for -watch)', async () => {
  const ws = seedWorkspace();
  try {
    const r = await runBin(['-onetime', '-backend', 'etcdv3', '-node', etcd!.endpoints[0]!, '-confdir', ws.confdir], { TSCONFD_BIN_CACHE_REPORT: '1' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'myapp.conf'), 'utf8'), expected);
    assert.match(r.stderr, /^tsconfd\.cjs code cache accepted$/m);
    assert.doesNotMatch(r.stderr, /etcd3\.cjs/);
  } finally {
    ws.cleanup();
  }
});

test('-watch follows etcd (the embedded etcd client loads from the binary) and SIGTERM ends it with exit 0', async () => {
  const ws = seedWorkspace();
  const child = spawn(bin, ['-watch', '-backend', 'etcdv3', '-node', etcd!.endpoints[0]!, '-confdir', ws.confdir], {
    cwd: work,
    env: { ...cleanEnv(), TSCONFD_BIN_CACHE_REPORT: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const dest = join(ws.out, 'myapp.conf');
  try {
    await until('the first render', () => existsSync(dest) && readFileSync(dest, 'utf8') === expected, 20_000, () => stderr);
    await etcd!.put('/docker/node/n04', '192.168.100.114');
    await until('the watch to render n04', () => readFileSync(dest, 'utf8').includes('192.168.100.114:1005'), 20_000, () => stderr);
    child.kill('SIGTERM');
    assert.equal(await closed, 0, stderr);
    // The embedded etcd bundle ran (the loader reports it); its cache is checked when the build made one
    // (the build warns and goes on without it when its training run is slowed past its bound on a busy machine).
    const cacheBuilt = existsSync(join(ROOT, 'dist', 'etcd3.cjs.cache'));
    assert.match(stderr, cacheBuilt ? /^etcd3\.cjs code cache accepted$/m : /^etcd3\.cjs code cache absent$/m);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await etcd!.etcdctl(['del', '/docker/node/n04']);
    ws.cleanup();
  }
});

test('installed where the systemd unit expects it, systemd-analyze verify passes on the unit as shipped', async (t) => {
  const analyze = spawnSync('systemd-analyze', ['--version']);
  if (analyze.error) return t.skip('systemd-analyze is not installed');
  // A root holding what `install` puts on a host (README: Installing; the unit's header), plus what verify looks up
  // there: /bin/kill for ExecReload and systemd's own units for the dependencies.
  const root = join(work, 'root');
  for (const dir of ['usr/local/bin', 'etc/systemd/system', 'bin', 'usr/lib/systemd']) mkdirSync(join(root, dir), { recursive: true });
  linkSync(bin, join(root, 'usr/local/bin/tsconfd'));
  copyFileSync('/bin/kill', join(root, 'bin/kill'));
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  copyFileSync(join(ROOT, 'examples/systemd/tsconfd.service'), join(root, 'etc/systemd/system/tsconfd.service'));
  const verify = spawnSync('systemd-analyze', ['verify', `--root=${root}`, 'tsconfd.service'], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '');
  // The same unit without the binary in place fails, naming it: the check above is not vacuous.
  rmSync(join(root, 'usr/local/bin/tsconfd'));
  const without = spawnSync('systemd-analyze', ['verify', `--root=${root}`, 'tsconfd.service'], { encoding: 'utf8' });
  assert.notEqual(without.status, 0);
  assert.match(without.stderr, /\/usr\/local\/bin\/tsconfd is not executable/);
});
