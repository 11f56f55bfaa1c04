// Start-up of the single executable (scripts/build-bin.mjs) in its variants, against `node dist/cli.js`, interleaved
// in one run so a loaded machine slows them alike. Writes nothing but temp files; prints a table (median ms).
//   npm run build --silent && node bench/binary-startup.mjs [RUNS]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, cpSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBinary } from '../scripts/build-bin.mjs';

const root = new URL('..', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 15);
const work = mkdtempSync(join(tmpdir(), 'tsconfd-bin-bench-'));
try {
  const variants = ['assets', 'assets-no-cache', 'main-code-cache', 'inline-etcd', 'snapshot'];
  const commands = { 'node dist/cli.js': [process.execPath, join(root, 'dist/cli.js')] };
  for (const v of variants) {
    buildBinary(join(work, `tsconfd-${v}`), v);
    commands[`binary ${v}`] = [join(work, `tsconfd-${v}`)];
  }
  const confdir = join(work, 'confdir');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  cpSync(join(root, 'templates'), join(confdir, 'templates'), { recursive: true });
  writeFileSync(
    join(confdir, 'conf.d/nginx.toml'),
    readFileSync(join(root, 'conf.d/nginx.toml'), 'utf8').replace('/tmp/myapp.conf', join(work, 'myapp.conf')).replace('owner = "nginx"\n', ''),
  );
  const closedPort = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const cases = {
    '-version': ['-version'],
    '-onetime file backend (seed)': ['-onetime', '-backend', 'file', '-file', join(root, 'examples/seed-keys.yaml'), '-confdir', confdir, '-log-level', 'error'],
    '-onetime etcd (unreachable: loads etcd3.cjs)': ['-onetime', '-backend', 'etcdv3', '-node', `http://127.0.0.1:${closedPort}`, '-confdir', confdir, '-log-level', 'fatal'],
  };
  const times = {};
  for (let i = 0; i < runs; i++) {
    for (const [c, args] of Object.entries(cases)) {
      for (const [name, cmd] of Object.entries(commands)) {
        const t0 = process.hrtime.bigint();
        spawnSync(cmd[0], [...cmd.slice(1), ...args], { stdio: 'ignore' });
        ((times[c] ??= {})[name] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const names = Object.keys(commands);
  console.log(`| case | ${names.join(' | ')} |`);
  console.log(`|---|${names.map(() => '---:').join('|')}|`);
  for (const [c, byName] of Object.entries(times)) console.log(`| ${c} | ${names.map((n) => median(byName[n]).toFixed(0)).join(' | ')} |`);
  console.log(`\n${runs} runs each, interleaved; median wall ms (spawn to exit). Node ${process.version}.`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
