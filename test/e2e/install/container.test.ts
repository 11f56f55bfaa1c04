// The container image for real, with podman (no Docker engine here): the Dockerfile builds offline on a local
// base image (scripts/container-base.sh), `tsconfd -version` runs in it, and the Kubernetes sidecar pattern is
// reproduced with two containers: tsconfd renders an nginx server block from etcd (on the host's loopback) into a
// volume shared with an nginx container, and reloads that nginx across the container boundary by signal, through
// a shared PID namespace (Kubernetes: shareProcessNamespace). -watch containers are then stopped with
// `podman stop` and must exit 0 well before podman's SIGKILL, and orphans of reload commands must be reaped by the
// image's tini.
//
// Skips, printing why, where podman (or root, or etcd, or a base image and debootstrap) is missing. Needs ~1 GB of disk for images and a minute to
// build. Set TSCONFD_CONTAINER_IMAGE to test an image built elsewhere instead of building one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, hasEtcd, startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
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

test('sidecar -watch: built-in signal reload across containers, /readyz and /metrics, SIGHUP, etcd outage, podman stop', { skip: skipReason }, async () => {
  assert.ok(etcd && sidecar, 'needs the sidecar set-up of the previous test');
  const { shared, nginxPort, nginx } = sidecar;
  // The Kubernetes example's way: no shell in the reload, the built-in action signals the pid in nginx's pid file.
  const confdir = join(work, 'confd-watch');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'), { recursive: true });
  writeFileSync(
    join(confdir, 'conf.d', 'app.toml'),
    readFileSync(join(sidecar.confdir, 'conf.d', 'app.toml'), 'utf8').replace(/^reload_cmd = .*$/m, 'reload = "signal:HUP:/shared/run/nginx.pid"'),
  );
  writeFileSync(join(confdir, 'templates', 'app.conf.tmpl'), readFileSync(join(sidecar.confdir, 'templates', 'app.conf.tmpl')));
  const httpPort = await freePort();
  const health = `http://127.0.0.1:${httpPort}`;
  const name = `tsconfd-watch-${suffix}`;
  await podmanOk([
    ...runArgs(name, '-d', '--network=host', `--pid=container:${nginx}`, '-v', `${shared}:/shared`, '-v', `${confdir}:/etc/confd:ro`),
    IMAGE, '-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0], '-confdir', '/etc/confd',
    '-http', `127.0.0.1:${httpPort}`, '-stale-after', '60s',
  ]);
  const logs = async () => `tsconfd log:\n${await containerLogs(name)}\nnginx log:\n${await containerLogs(nginx)}`;
  const readyz = async (query = '') => {
    const text = await fetchText(`${health}/readyz${query}`);
    return text === undefined ? undefined : { status: Number(text.slice(0, 3)), body: JSON.parse(text.slice(4)) };
  };
  await waitFor('/readyz 200', readyz, (r) => r?.status === 200, logs);
  const nginxHups = async () => ((await containerLogs(nginx)).match(/signal 1 \(SIGHUP\) received/g) ?? []).length;
  const hupsBefore = await nginxHups();

  await etcd.put('/app/message', 'hello v3');
  await waitFor('nginx serving v3', () => fetchText(`http://127.0.0.1:${nginxPort}/`), (x) => x === '200 hello v3\n', logs);
  assert.ok((await nginxHups()) > hupsBefore, 'the built-in action sent nginx a SIGHUP');

  const metricsText = await fetchText(`${health}/metrics`);
  assert.ok(metricsText && metricsText.startsWith('200 '), metricsText);
  const families = parsePrometheusText(metricsText.slice(4));
  assert.ok(sampleValue(families, 'tsconfd_writes_total', { resource: 'app.toml' }) >= 1);
  assert.ok(sampleValue(families, 'tsconfd_command_exits_total', { resource: 'app.toml', kind: 'reload', code: '0' }) >= 1);

  // SIGHUP re-reads the resources; the process stays up and ready.
  await podmanOk(['kill', '--signal', 'HUP', name]);
  await sleep(500);
  assert.equal((await podmanOk(['inspect', '--format', '{{.State.Status}}', name])).trim(), 'running', await logs());
  await waitFor('/readyz 200 after SIGHUP', readyz, (r) => r?.status === 200, logs);

  // etcd goes away: still ready by default (nginx's file is good) but stale; ?strict is not ready, with the reason;
  // back: fresh again, and changes flow again.
  await etcd.members[0].stop();
  const down = await waitFor('/readyz?strict 503 with etcd down', () => readyz('?strict'), (r) => r?.status === 503, logs, 30_000);
  assert.ok(down?.body.reasons.length > 0, JSON.stringify(down?.body));
  const lenient = await readyz();
  assert.equal(lenient?.status, 200, JSON.stringify(lenient?.body));
  assert.equal(lenient?.body.stale, true, JSON.stringify(lenient?.body));
  await etcd.members[0].start();
  await waitFor('/readyz?strict 200 with etcd back', () => readyz('?strict'), (r) => r?.status === 200, logs, 60_000);
  await etcd.put('/app/message', 'hello v3b');
  await waitFor('nginx serving v3b', () => fetchText(`http://127.0.0.1:${nginxPort}/`), (x) => x === '200 hello v3b\n', logs);

  await stopCleanly(name);
});

// A -watch tsconfd in its own container (no shared PID namespace) with one resource rendering /app/message into the
// shared volume; `reloadCmd` runs after each write.
async function startWatchContainer(name: string, options: { reloadCmd?: string; plainNode?: boolean }) {
  assert.ok(etcd && sidecar, 'needs the sidecar set-up');
  const confdir = join(work, `confd-${name}`);
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'), { recursive: true });
  const dest = `/shared/conf/${name}.txt`;
  writeFileSync(
    join(confdir, 'conf.d', 'probe.toml'),
    `[template]\nprefix = "/app"\nsrc = "probe.tmpl"\ndest = "${dest}"\nkeys = ["/message"]\n` +
      (options.reloadCmd ? `reload_cmd = ${JSON.stringify(options.reloadCmd)}\n` : ''),
  );
  writeFileSync(join(confdir, 'templates', 'probe.tmpl'), '{{getv "/message"}}\n');
  const entrypoint = options.plainNode ? ['--entrypoint', 'node'] : [];
  const program = options.plainNode ? ['/opt/tsconfd/dist/cli.js'] : [];
  await podmanOk([
    ...runArgs(name, '-d', '--network=host', ...entrypoint, '-v', `${sidecar.shared}:/shared`, '-v', `${confdir}:/etc/confd:ro`),
    IMAGE, ...program, '-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0], '-confdir', '/etc/confd',
  ]);
  return join(sidecar.shared, 'conf', `${name}.txt`);
}

async function waitForFile(path: string, text: string, name: string) {
  await waitFor(
    `${path} to hold ${JSON.stringify(text)}`,
    async () => (existsSync(path) ? readFileSync(path, 'utf8') : undefined),
    (content) => content === text,
    () => containerLogs(name),
  );
}

async function stopCleanly(name: string) {
  const stopAt = Date.now();
  await podmanOk(['stop', '--time', '10', name], 30_000);
  const stopMs = Date.now() - stopAt;
  const exit = (await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name])).trim();
  console.log(`# podman stop ${name} took ${stopMs}ms, exit code ${exit}`);
  assert.equal(exit, '0', `exit code after SIGTERM; logs:\n${await containerLogs(name)}`);
  assert.ok(stopMs < 8_000, `stopped in ${stopMs}ms, i.e. by SIGTERM, not by podman's SIGKILL at 10 s`);
}

test('podman stop: tsconfd under the image\'s tini, and node itself as PID 1, both exit 0 at once', { skip: skipReason }, async () => {
  assert.ok(etcd);
  const underTini = `tsconfd-tini-${suffix}`;
  const asPid1 = `tsconfd-pid1-${suffix}`;
  const tiniFile = await startWatchContainer(underTini, {});
  // The kernel gives PID 1 no default action for SIGTERM: only tsconfd's own handler makes it stop.
  const pid1File = await startWatchContainer(asPid1, { plainNode: true });
  await etcd.put('/app/message', 'hello v4');
  await waitForFile(tiniFile, 'hello v4\n', underTini);
  await waitForFile(pid1File, 'hello v4\n', asPid1);
  assert.match(await podmanOk(['top', underTini, 'pid', 'comm']), /^\s*1\s+tini\s*$/m, 'tini is PID 1 in the image');
  assert.match(await podmanOk(['top', asPid1, 'pid', 'comm']), /^\s*1\s+node\s*$/m, 'node is PID 1 with --entrypoint node');
  await stopCleanly(underTini);
  await stopCleanly(asPid1);
});

test('zombies: the image reaps what a reload command leaves behind; node as PID 1 cannot', { skip: skipReason }, async () => {
  assert.ok(etcd);
  // `sleep &` outlives the shell that reload_cmd runs in, so it is re-parented to PID 1 and must be reaped there.
  const reloadCmd = 'sleep 0.3 & exit 0';
  const withTini = `tsconfd-reap-${suffix}`;
  const plainNode = `tsconfd-noreap-${suffix}`;
  const files = [await startWatchContainer(withTini, { reloadCmd }), await startWatchContainer(plainNode, { reloadCmd, plainNode: true })];
  await etcd.put('/app/message', 'hello v5');
  await waitForFile(files[0], 'hello v5\n', withTini);
  await waitForFile(files[1], 'hello v5\n', plainNode);
  await sleep(1_500); // the orphaned sleeps have exited by now
  const zombies = async (name: string) =>
    Number((await podmanOk(['exec', name, 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z " || true'])).trim());
  assert.equal(await zombies(withTini), 0, 'tini reaped the orphan');
  assert.equal(await zombies(plainNode), 1, 'Node reaps only its own children: the orphan stays a zombie');
  await stopCleanly(withTini);
  await stopCleanly(plainNode);
});

test('-exec in the image: the child starts after the render, gets SIGHUP on a change, and podman stop stops both', { skip: skipReason }, async () => {
  assert.ok(etcd && sidecar, 'needs the sidecar set-up');
  const name = `tsconfd-exec-${suffix}`;
  const confdir = join(work, `confd-${name}`);
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'), { recursive: true });
  writeFileSync(join(confdir, 'conf.d', 'probe.toml'), `[template]\nprefix = "/app"\nsrc = "probe.tmpl"\ndest = "/shared/conf/${name}.txt"\nkeys = ["/message"]\n`);
  writeFileSync(join(confdir, 'templates', 'probe.tmpl'), '{{getv "/message"}}\n');
  // The child records what it sees in the shared volume: the rendered file at its start, each SIGHUP, its SIGTERM.
  const journal = `/shared/conf/${name}.child`;
  const child =
    `sh -c 'echo "start $(cat /shared/conf/${name}.txt)" >> ${journal}; ` +
    `trap "echo hup \\$(cat /shared/conf/${name}.txt) >> ${journal}" HUP; trap "echo term >> ${journal}; exit 0" TERM; ` +
    `while :; do sleep 0.1; done'`;
  await etcd.put('/app/message', 'exec v1');
  await podmanOk([
    ...runArgs(name, '-d', '--network=host', '-v', `${sidecar.shared}:/shared`, '-v', `${confdir}:/etc/confd:ro`),
    IMAGE, '-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0], '-confdir', '/etc/confd', '-exec', child,
  ]);
  const journalOnHost = join(sidecar.shared, 'conf', `${name}.child`);
  const lines = async () => (existsSync(journalOnHost) ? readFileSync(journalOnHost, 'utf8') : undefined);
  await waitFor('the child started on the rendered file', lines, (t) => t === 'start exec v1\n', () => containerLogs(name));
  await etcd.put('/app/message', 'exec v2');
  await waitFor('the child reloaded on the new file', lines, (t) => t?.includes('hup exec v2\n') === true, () => containerLogs(name));
  await stopCleanly(name);
  assert.match((await lines()) ?? '', /term\n$/);
});
