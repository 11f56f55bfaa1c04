// The npm package as a user gets it: `npm pack` of a copy of this tree as a fresh clone has it (no dist/: prepack
// must build it; node_modules linked to this tree's), installed with
// `npm install -g --prefix TMP tarball` and no network (the package has no dependencies: the bundle carries
// them), then `tsconfd -version` and the seed demo, each run from a directory outside the package.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SEED_EXPECTED, cleanEnv } from '../harness/onetime-harness.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies?: object };
let work = '';
let prefix = '';
let elsewhere = '';
let tarball = '';
let packed: { files: { path: string }[] }[] = [];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsconfd-npm-package-'));
  prefix = join(work, 'prefix');
  elsewhere = mkdtempSync(join(work, 'elsewhere-'));
  // npm's own cache in the temp dir: nothing is fetched (no dependencies), and the user's cache stays untouched.
  const env = cleanEnv({ npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' });
  // The files git would give a fresh clone (tracked, plus new ones not ignored), so dist/ is absent.
  const clone = join(work, 'clone');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && f !== 'node_modules' && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(clone, f)), { recursive: true });
    cpSync(join(ROOT, f), join(clone, f));
  }
  assert.equal(existsSync(join(clone, 'dist')), false);
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], clone, env);
  assert.equal(pack.code, 0, `npm pack failed:\n${pack.stderr.slice(-3000)}`);
  packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  const install = await run(
    'npm',
    ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
    elsewhere,
    env,
  );
  assert.equal(install.code, 0, `npm install -g failed:\n${install.stderr.slice(-3000)}`);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the bundle, README, LICENSE, the seed confdir and examples, and no sources or tests', () => {
  const files = packed[0]!.files.map((f) => f.path).sort();
  for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/cli.js', 'dist/tsconfd.cjs', 'dist/etcd3.cjs', 'conf.d/nginx.toml', 'templates/nginx.tmpl', 'examples/seed-keys.yaml', 'examples/demo.sh']) {
    assert.ok(files.includes(f), `${f} missing from the tarball: ${files.join(' ')}`);
  }
  const stray = files.filter((f) => /^(src|test|tools|bench|scripts|\.ci)\//.test(f) || f.endsWith('.ts'));
  assert.deepEqual(stray, []);
  assert.equal(pkg.dependencies, undefined, 'the bundle carries every runtime dependency; the package must not install them again');
});

test('installed with npm install -g, tsconfd -version answers from any directory', async () => {
  const r = await run(join(prefix, 'bin/tsconfd'), ['-version'], elsewhere);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^tsconfd ${pkg.version.replace(/\./g, '\\.')} \\(Node v20\\.`));
  // Nothing but the package itself was installed.
  const installed = join(prefix, 'lib/node_modules/tsconfd');
  assert.equal(existsSync(join(installed, 'node_modules')), false);
});

test('the installed package renders the seed example byte for byte, from another directory', async () => {
  const installed = join(prefix, 'lib/node_modules/tsconfd');
  const expected = readFileSync(SEED_EXPECTED, 'utf8');
  const out = join(work, 'out');
  // The installed bin against a confdir and keys file of the package, with its destination moved to a temp dir.
  const confdir = join(work, 'confdir');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(out);
  cpSync(join(installed, 'templates'), join(confdir, 'templates'), { recursive: true });
  const toml = readFileSync(join(installed, 'conf.d/nginx.toml'), 'utf8').replace('/tmp/myapp.conf', join(out, 'myapp.conf'));
  writeFileSync(join(confdir, 'conf.d/nginx.toml'), toml);
  const bin = await run(
    join(prefix, 'bin/tsconfd'),
    ['-onetime', '-backend', 'file', '-file', join(installed, 'examples/seed-keys.yaml'), '-confdir', confdir],
    elsewhere,
  );
  assert.equal(bin.code, 0, bin.stderr);
  assert.equal(readFileSync(join(out, 'myapp.conf'), 'utf8'), expected);
  // `npm run demo` inside the installed package needs no build tools (no esbuild, no sources).
  const demo = await run('npm', ['--prefix', installed, 'run', '--silent', 'demo'], elsewhere, cleanEnv({ npm_config_cache: join(work, 'npm-cache') }));
  assert.equal(demo.code, 0, demo.stderr);
  assert.equal(demo.stdout, expected);
  assert.match(demo.stderr, /has no `;`, so `nginx -t` rejects this file/);
});
