// `npm run bench` (BENCH_ONLY=backends): the redis and ZooKeeper backends against real servers
// started here on free loopback ports (test/helpers/servers.ts):
//   - -onetime of the seed example from each (median wall of 11 runs, peak RSS by /usr/bin/time),
//     with the file backend beside them for reference;
//   - -watch put -> file latency at medium size, etcd beside them measured the same way (an A/B
//     under the same machine load: the figures on a shared machine move from run to run) (100 services x 10 nodes, ../shared/perf's
//     dataset and confdir generator, T=1): K puts to random node keys, one every 50 ms (open
//     loop), each timed from the write's acknowledgement to the moment the destination holds the
//     new value (checked on every rename in the destination directory); p50/p99/max and missed.
// Targets (issue 12): watch p99 <= 20 ms redis, <= 50 ms ZooKeeper, 0 missed.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ioredis from 'ioredis';
import { redisMissing, startRedis, startZookeeper, zkWriter, zookeeperMissing } from '../test/helpers/servers.js';
import { startEtcd } from '../test/helpers/etcd.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const perf = resolve(root, '../shared/perf');
const CLI = join(root, 'dist/cli.js');
const K = Number(process.env.BENCH_BACKEND_K ?? 200);
const INTERVAL_MS = 50;
const MISSED_AFTER_MS = 5_000;

const ds = createRequire(import.meta.url)(join(perf, 'lib/dataset.js')) as {
  sizeParams(name: string): { services: number; nodes: number };
  entries(p: { services: number; nodes: number }): Iterable<[string, string]>;
  serviceName(i: number): string;
  nodeName(j: number): string;
};

const SEED: Record<string, string> = {
  '/docker/node/n01': '192.168.100.111',
  '/docker/node/n02': '192.168.100.112',
  '/docker/node/n03': '192.168.100.113',
  '/docker/service/s01': '1005',
  '/docker/service/s02': '1007',
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function seedConfdir(): { confdir: string; out: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-bench-seed-'));
  const confdir = join(dir, 'confdir');
  const out = join(dir, 'out');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'), { recursive: true });
  mkdirSync(out);
  cpSync(join(root, 'templates/nginx.tmpl'), join(confdir, 'templates/nginx.tmpl'));
  writeFileSync(
    join(confdir, 'conf.d/nginx.toml'),
    `[template]\nprefix = "/docker"\nsrc = "nginx.tmpl"\ndest = "${out}/myapp.conf"\nmode = "0644"\nkeys = ["/node", "/service"]\n`,
  );
  return { confdir, out, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Median wall (ms) and peak RSS (MB) of `runs` -onetime runs; every run must exit 0. */
function onetime(label: string, args: string[], runs = 11): void {
  const { confdir, cleanup } = seedConfdir();
  try {
    const walls: number[] = [];
    let rss = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, '-onetime', ...args, '-confdir', confdir, '-log-level', 'error'], {
        encoding: 'utf8',
      });
      walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0) throw new Error(`${label}: exit ${r.status}: ${r.stderr}`);
      rss = Math.max(rss, Number(r.stderr.trim().split('\n').pop()) / 1024);
    }
    console.log(`  seed -onetime ${label.padEnd(10)} ${median(walls).toFixed(0).padStart(5)} ms median (min ${Math.min(...walls).toFixed(0)}), peak RSS ${rss.toFixed(0)} MB`);
  } finally {
    cleanup();
  }
}

interface WatchSetup {
  name: string;
  args: string[];
  put(key: string, value: string): Promise<void>;
}

async function watchLatency(setup: WatchSetup): Promise<void> {
  const size = ds.sizeParams('medium');
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-bench-watch-'));
  const confdir = join(dir, 'confdir');
  const out = join(dir, 'out');
  mkdirSync(out);
  const gen = spawnSync(process.execPath, [join(perf, 'gen-confdir.js'), '--out', confdir, '--dest-dir', out, '--size', 'medium', '--templates', '1'], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gen-confdir: ${gen.stderr}`);
  const manifest = JSON.parse(readFileSync(join(confdir, 'manifest.json'), 'utf8')) as { resources: Array<{ dest: string; serverLines: number }> };
  const dest = manifest.resources[0]!.dest;
  const child = spawn(process.execPath, [CLI, '-watch', ...setup.args, '-confdir', confdir, '-log-level', process.env.BENCH_LOG ?? 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (process.env.BENCH_LOG) child.stderr!.on('data', (b) => process.stderr.write(b));
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += b));
  const read = () => (existsSync(dest) ? readFileSync(dest, 'utf8') : '');
  try {
    const started = Date.now();
    while ((read().match(/^\s*server /gm)?.length ?? 0) < manifest.resources[0]!.serverLines) {
      if (Date.now() - started > 60_000 || child.exitCode !== null) throw new Error(`${setup.name}: no first render: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const firstRenderMs = Date.now() - started;
    // Pending updates: value -> ack time (undefined until acknowledged).
    const pending = new Map<string, { key: string; k: number; ackAt?: number; seenAt?: number }>();
    const lastPutTo = new Map<string, number>();
    const latencies: number[] = [];
    const check = () => {
      if (pending.size === 0) return;
      const text = read();
      const now = performance.now();
      for (const [value, p] of pending) {
        if (!text.includes(value)) continue;
        if (p.ackAt === undefined) p.seenAt = now;
        else {
          latencies.push(now - p.ackAt);
          pending.delete(value);
        }
      }
    };
    const watcher = watch(dirname(dest), () => check());
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const puts: Array<Promise<void>> = [];
    for (let k = 0; k < K; k++) {
      const key = `/svc/${ds.serviceName(rand(size.services))}/nodes/${ds.nodeName(rand(size.nodes))}`;
      const value = `10.250.${k >> 8}.${k & 255}:${9000 + k}`;
      pending.set(value, { key, k });
      lastPutTo.set(key, k);
      puts.push(
        setup.put(key, value).then(() => {
          const p = pending.get(value);
          if (!p) return;
          if (p.seenAt !== undefined) {
            latencies.push(0);
            pending.delete(value);
          } else p.ackAt = performance.now();
        }),
      );
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
    }
    await Promise.all(puts);
    const deadline = Date.now() + MISSED_AFTER_MS;
    while (pending.size > 0 && Date.now() < deadline) {
      check();
      await new Promise((r) => setTimeout(r, 20));
    }
    watcher.close();
    // A value a later put to the same key replaced before it was rendered cannot show: superseded
    // (the later value is checked in its own right), not missed.
    let superseded = 0;
    for (const p of pending.values()) if (lastPutTo.get(p.key)! > p.k) superseded++;
    const missed = pending.size - superseded;
    console.log(
      `  ${setup.name.padEnd(10)} medium T=1: first render ${firstRenderMs} ms; put->file p50 ${pct(latencies, 50).toFixed(1)} ms, ` +
        `p99 ${pct(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length} updates; missed ${missed}` +
        (superseded > 0 ? ` (${superseded} superseded by a later put to the same key)` : ''),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run npm run build first');
  const size = ds.sizeParams('medium');
  onetime('file', ['-backend', 'file', '-file', join(root, 'examples/seed-keys.yaml')]);
  {
    const etcd = await startEtcd();
    try {
      const { Etcd3 } = await import('etcd3');
      const client = new Etcd3({ hosts: etcd.endpoints });
      const all = [...ds.entries(size)];
      for (let i = 0; i < all.length; i += 100) await Promise.all(all.slice(i, i + 100).map(([k, v]) => client.put(k).value(v)));
      await watchLatency({ name: 'etcd', args: ['-backend', 'etcdv3', '-node', etcd.endpoints[0]!], put: async (k, v) => void (await client.put(k).value(v)) });
      client.close();
    } finally {
      await etcd.stop();
    }
  }
  const redisSkip = redisMissing();
  if (redisSkip) console.log(`  redis: skipped (${redisSkip})`);
  else {
    const server = await startRedis();
    const client = new ioredis.Redis({ host: '127.0.0.1', port: server.port });
    try {
      for (const [k, v] of Object.entries(SEED)) await client.set(k, v);
      onetime('redis', ['-backend', 'redis', '-node', server.node]);
      const pipe = client.pipeline();
      for (const [k, v] of ds.entries(size)) pipe.set(k, v);
      await pipe.exec();
      await watchLatency({ name: 'redis', args: ['-backend', 'redis', '-node', server.node], put: async (k, v) => void (await client.set(k, v)) });
    } finally {
      client.disconnect();
      await server.stop();
    }
  }
  const zkSkip = zookeeperMissing();
  if (zkSkip) console.log(`  zookeeper: skipped (${zkSkip})`);
  else {
    const server = await startZookeeper();
    const zk = await zkWriter(server.node);
    try {
      for (const [k, v] of Object.entries(SEED)) await zk.put(k, v);
      onetime('zookeeper', ['-backend', 'zookeeper', '-node', server.node]);
      const all = [...ds.entries(size)];
      for (let i = 0; i < all.length; i += 100) await Promise.all(all.slice(i, i + 100).map(([k, v]) => zk.put(k, v)));
      await watchLatency({ name: 'zookeeper', args: ['-backend', 'zookeeper', '-node', server.node], put: (k, v) => zk.put(k, v) });
    } finally {
      zk.close();
      await server.stop();
    }
  }
  console.log('  targets: watch p99 <= 20 ms (redis), <= 50 ms (ZooKeeper), 0 missed');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
