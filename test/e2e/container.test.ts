// The container image for real, with podman (no Docker engine here): the Dockerfile builds offline on a local
// base image (scripts/container-base.sh), `tsconfd -version` runs in it, and the Kubernetes sidecar pattern is
// reproduced with two containers: tsconfd renders an nginx server block from etcd (on the host's loopback) into a
// volume shared with an nginx container, and reloads that nginx across the container boundary by signal, through
// a shared PID namespace (Kubernetes: shareProcessNamespace). Long-running modes are then stopped with
// `podman stop` and must exit 0 well before podman's SIGKILL.
//
// Skips, printing why, where podman (or root, or etcd) is missing. Needs ~1 GB of disk for images and a minute to
// build. Set TSCONFD_CONTAINER_IMAGE to test an image built elsewhere instead of building one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, hasEtcd, startEtcd, type EtcdServer } from '../helpers/etcd.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const BASE_IMAGE = 'localhost/tsconfd-base:local';
const IMAGE = process.env.TSCONFD_CONTAINER_IMAGE ?? 'localhost/tsconfd:e2e';
const CACHE = process.env.TSCONFD_CONTAINER_CACHE ?? '/var/tmp/tsconfd-container';
// The sandbox this was written in needs runc (crun fails) and cgroupfs, and refuses the default rlimits.
const PODMAN = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
// The image's user; nginx runs as the same uid so tsconfd may signal it without CAP_KILL.
const UID = 10001;

function whyNotRunnable(): string | undefined {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'podman is not installed (Debian: apt-get install podman runc)';
  }
  if (process.getuid?.() !== 0) return 'needs root for rootful podman with runc';
  if (!hasEtcd()) return 'etcd is not installed';
  if (!process.env.TSCONFD_CONTAINER_IMAGE) {
    const baseExists = spawnSync('podman', [...PODMAN, 'image', 'exists', BASE_IMAGE]).status === 0;
    const canBuildBase = spawnSync('debootstrap', ['--version']).error === undefined;
    if (!baseExists && !canBuildBase) return `no ${BASE_IMAGE} and no debootstrap to build it (apt-get install debootstrap)`;
  }
  return undefined;
}

const skipReason = whyNotRunnable();
if (skipReason) console.log(`# SKIP container e2e: ${skipReason}`);

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function podman(args: string[], timeoutMs?: number) {
  return run('podman', [...PODMAN, ...args], timeoutMs);
}

async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const result = await podman(args, timeoutMs);
  assert.equal(result.code, 0, `podman ${args.join(' ')} failed (${result.code}):\n${result.stderr.slice(-3000)}`);
  return result.stdout;
}

const suffix = `${process.pid}-${Date.now().toString(36)}`;
const containers: string[] = [];
let etcd: EtcdServer | undefined;
let work = '';

before(async () => {
  if (skipReason) return;
  work = mkdtempSync(join(tmpdir(), 'tsconfd-container-'));
  chmodSync(work, 0o755);
  if (!process.env.TSCONFD_CONTAINER_IMAGE) {
    const base = await run('bash', [join(repo, 'scripts/container-base.sh'), BASE_IMAGE], 900_000);
    assert.equal(base.code, 0, `scripts/container-base.sh failed:\n${base.stderr.slice(-3000)}`);
    const started = Date.now();
    await podmanOk(
      [
        'build', '--network=none', ...LIMITS,
        '-v', `${CACHE}/npm-cache:/root/.npm:O`, '-v', `${CACHE}/npmrc:/root/.npmrc:ro`,
        '--build-arg', `BASE=${BASE_IMAGE}`, '-t', IMAGE, repo,
      ],
      900_000,
    );
    console.log(`# built ${IMAGE} offline on ${BASE_IMAGE} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  etcd = await startEtcd();
});

after(async () => {
  // Last started first: podman refuses to remove a container whose PID namespace others joined.
  for (const name of [...containers].reverse()) {
    const removed = await podman(['rm', '--force', '--time', '0', name]);
    if (removed.code !== 0) console.log(`# could not remove container ${name}: ${removed.stderr.trim()}`);
  }
  await etcd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function runArgs(name: string, ...extra: string[]): string[] {
  containers.push(name);
  return ['run', '--name', name, ...LIMITS, ...extra];
}

test('the image runs node and tsconfd as a non-root user', { skip: skipReason }, async () => {
  const name = `tsconfd-version-${suffix}`;
  const out = await podmanOk([...runArgs(name, '--network=none'), IMAGE, '-version']);
  assert.match(out, /^tsconfd \d+\.\d+\.\d+\S* \(Node v20\.\d+\.\d+\)\n$/);
  const id = await podmanOk(['run', '--rm', '--network=none', ...LIMITS, '--entrypoint', 'id', IMAGE]);
  assert.match(id, /^uid=10001\b.*gid=10001\b/);
  const onPath = await podmanOk(['run', '--rm', '--network=none', ...LIMITS, '--entrypoint', 'tsconfd', IMAGE, '-version']);
  assert.equal(onPath, out, 'tsconfd on PATH is the same program');
});

interface Sidecar {
  shared: string;
  confdir: string;
  nginxPort: number;
  nginx: string;
}

let sidecar: Sidecar | undefined;

// nginx as the non-root image variants run it: unprivileged port, pid and temp files in writable places, and the
// server blocks included from the volume tsconfd writes.
function nginxConf(): string {
  return `daemon off;
worker_processes 1;
pid /shared/run/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  fastcgi_temp_path /tmp/nginx-fastcgi;
  uwsgi_temp_path /tmp/nginx-uwsgi;
  scgi_temp_path /tmp/nginx-scgi;
  include /shared/conf/*.conf;
}
`;
}

async function fetchText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return `${response.status} ${await response.text()}`;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  check: (value: T | undefined) => boolean,
  context: () => Promise<string> = async () => '',
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (check(last)) return last;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last)}\n${await context()}`);
}

async function containerLogs(name: string): Promise<string> {
  const logs = await podman(['logs', name]);
  return logs.stdout + logs.stderr;
}

test('sidecar: tsconfd renders from etcd into a shared volume and reloads nginx in another container', { skip: skipReason }, async () => {
  assert.ok(etcd);
  const shared = join(work, 'shared');
  const confdir = join(work, 'confd');
  for (const dir of [shared, join(shared, 'conf'), join(shared, 'run'), join(confdir, 'conf.d'), join(confdir, 'templates')]) {
    mkdirSync(dir, { recursive: true });
  }
  for (const dir of [shared, join(shared, 'conf'), join(shared, 'run')]) chownSync(dir, UID, UID);
  writeFileSync(join(shared, 'nginx.conf'), nginxConf());
  writeFileSync(
    join(confdir, 'conf.d', 'app.toml'),
    `[template]
prefix = "/app"
src = "app.conf.tmpl"
dest = "/shared/conf/app.conf"
mode = "0644"
keys = ["/message", "/port"]
# nginx is PID 1 of the pod's shared PID namespace; its pidfile is on the shared volume.
reload_cmd = "kill -HUP $(cat /shared/run/nginx.pid)"
`,
  );
  writeFileSync(
    join(confdir, 'templates', 'app.conf.tmpl'),
    `server {
    listen 127.0.0.1:{{getv "/port"}};
    location / { return 200 "{{getv "/message"}}\\n"; }
}
`,
  );
  const nginxPort = await freePort();
  await etcd.put('/app/port', String(nginxPort));
  await etcd.put('/app/message', 'hello v1');

  // nginx first, with no server block yet; the tsconfd containers join its PID namespace.
  const nginx = `nginx-${suffix}`;
  await podmanOk([
    ...runArgs(nginx, '-d', '--network=host', '--user', `${UID}:${UID}`, '-v', `${shared}:/shared`),
    '--entrypoint', 'nginx', IMAGE, '-c', '/shared/nginx.conf',
  ]);
  const nginxLog = async () => `nginx log:\n${await containerLogs(nginx)}`;
  await waitFor('nginx pidfile', async () => existsSync(join(shared, 'run', 'nginx.pid')), Boolean, nginxLog);
  assert.equal(await fetchText(`http://127.0.0.1:${nginxPort}/`), undefined, 'nothing listens before tsconfd rendered');

  sidecar = { shared, confdir, nginxPort, nginx };
  const node = etcd.endpoints[0];
  const once = async (name: string) => {
    const result = await podman([
      ...runArgs(name, '--network=host', `--pid=container:${nginx}`, '-v', `${shared}:/shared`, '-v', `${confdir}:/etc/confd:ro`),
      IMAGE, '-onetime', '-backend', 'etcdv3', '-node', node, '-confdir', '/etc/confd',
    ]);
    assert.equal(result.code, 0, `tsconfd -onetime failed:\n${result.stderr}`);
    return result.stderr;
  };
  const log1 = await once(`tsconfd-once1-${suffix}`);
  await waitFor('nginx serving v1', () => fetchText(`http://127.0.0.1:${nginxPort}/`), (t) => t === '200 hello v1\n', async () => `tsconfd log:\n${log1}\n${await nginxLog()}`);

  await etcd.put('/app/message', 'hello v2');
  const log2 = await once(`tsconfd-once2-${suffix}`);
  await waitFor('nginx serving v2 after its reload', () => fetchText(`http://127.0.0.1:${nginxPort}/`), (t) => t === '200 hello v2\n', async () => `tsconfd log:\n${log2}\n${await nginxLog()}`);
  const nginxLogs = await containerLogs(nginx);
  assert.match(nginxLogs, /signal 1 \(SIGHUP\) received/, 'nginx saw SIGHUP from the other container');
});

test('sidecar: a long-running tsconfd follows etcd and stops cleanly on podman stop', { skip: skipReason }, async () => {
  assert.ok(etcd && sidecar, 'needs the sidecar set-up of the previous test');
  const { shared, confdir, nginxPort, nginx } = sidecar;
  const name = `tsconfd-watch-${suffix}`;
  const started = await podman([
    ...runArgs(name, '-d', '--network=host', `--pid=container:${nginx}`, '-v', `${shared}:/shared`, '-v', `${confdir}:/etc/confd:ro`),
    IMAGE, '-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0], '-confdir', '/etc/confd',
  ]);
  assert.equal(started.code, 0, started.stderr);
  await sleep(1_000);
  const state = (await podmanOk(['inspect', '--format', '{{.State.Status}}', name])).trim();
  assert.equal(state, 'running', `tsconfd -watch is ${state}:\n${await containerLogs(name)}`);
  await etcd.put('/app/message', 'hello v3');
  await waitFor('nginx serving v3', () => fetchText(`http://127.0.0.1:${nginxPort}/`), (x) => x === '200 hello v3\n', async () => `tsconfd log:\n${await containerLogs(name)}\nnginx log:\n${await containerLogs(nginx)}`);

  const stopAt = Date.now();
  await podmanOk(['stop', '--time', '10', name], 30_000);
  const stopMs = Date.now() - stopAt;
  const exit = (await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name])).trim();
  console.log(`# podman stop took ${stopMs}ms, exit code ${exit}`);
  assert.equal(exit, '0', `exit code after SIGTERM; logs:\n${await containerLogs(name)}`);
  assert.ok(stopMs < 8_000, `stopped in ${stopMs}ms, i.e. by SIGTERM, not by podman's SIGKILL at 10 s`);
});

test('tsconfd as PID 1 of its container also stops on podman stop with exit 0', { skip: skipReason }, async () => {
  // The kernel gives PID 1 no default action for SIGTERM: only an installed handler makes it stop.
  assert.ok(etcd && sidecar, 'needs the sidecar set-up');
  const confdir = join(work, 'confd-pid1');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'), { recursive: true });
  writeFileSync(
    join(confdir, 'conf.d', 'probe.toml'),
    '[template]\nprefix = "/app"\nsrc = "probe.tmpl"\ndest = "/shared/conf/pid1-probe.txt"\nkeys = ["/message"]\n',
  );
  writeFileSync(join(confdir, 'templates', 'probe.tmpl'), '{{getv "/message"}}\n');
  const name = `tsconfd-pid1-${suffix}`;
  await podmanOk([
    ...runArgs(name, '-d', '--network=host', '-v', `${sidecar.shared}:/shared`, '-v', `${confdir}:/etc/confd:ro`),
    IMAGE, '-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0], '-confdir', '/etc/confd',
  ]);
  const probe = join(sidecar.shared, 'conf', 'pid1-probe.txt');
  await etcd.put('/app/message', 'hello v4');
  await waitFor(
    'the PID 1 tsconfd to render v4',
    async () => (existsSync(probe) ? readFileSync(probe, 'utf8') : undefined),
    (text) => text === 'hello v4\n',
    () => containerLogs(name),
  );
  const top = await podmanOk(['top', name, 'pid', 'comm']);
  assert.match(top, /^\s*1\s+node\s*$/m, `tsconfd is PID 1:\n${top}`);
  const stopAt = Date.now();
  await podmanOk(['stop', '--time', '10', name], 30_000);
  const stopMs = Date.now() - stopAt;
  const exit = (await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name])).trim();
  console.log(`# podman stop (PID 1) took ${stopMs}ms, exit code ${exit}`);
  assert.equal(exit, '0', `exit code after SIGTERM; logs:\n${await containerLogs(name)}`);
  assert.ok(stopMs < 8_000, `stopped in ${stopMs}ms`);
});

test('PID 1: node leaves orphaned grandchildren as zombies, and --init reaps them (why the docs ask for an init)', { skip: skipReason }, async () => {
  // A command that leaves a child behind, as `sh -c "daemon &"` does; the child is re-parented to PID 1.
  const script = `
    const { spawn } = require('node:child_process');
    const fs = require('node:fs');
    spawn('sh', ['-c', 'sleep 0.2 & exit 0'], { stdio: 'ignore' });
    setTimeout(() => {
      const zombies = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
        try { return /\\) Z /.test(fs.readFileSync('/proc/' + p + '/stat', 'utf8')); } catch { return false; }
      });
      console.log(JSON.stringify({ pid: process.pid, zombies: zombies.length }));
    }, 1500);`;
  const bare = JSON.parse(await podmanOk(['run', '--rm', '--network=none', ...LIMITS, '--entrypoint', 'node', IMAGE, '-e', script]));
  assert.deepEqual(bare, { pid: 1, zombies: 1 });
  const withInit = JSON.parse(await podmanOk(['run', '--rm', '--init', '--network=none', ...LIMITS, '--entrypoint', 'node', IMAGE, '-e', script]));
  assert.notEqual(withInit.pid, 1);
  assert.equal(withInit.zombies, 0);
});
