// -exec with a real nginx as the child (nginx in the foreground, `daemon off;`), its config following a real etcd:
// nginx starts only once its config has rendered (it does not exist before), is reloaded by signal when etcd
// changes (seen through nginx serving the new upstream), gets SIGUSR1 forwarded, and stops with tsconfd on SIGTERM;
// a child that dies ends tsconfd with its code by default and is restarted with -exec-restart; a child that
// ignores SIGTERM is killed with its process group at -exec-kill-timeout. /readyz and /metrics show the child.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasEtcd, startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';
import { alive } from '../../helpers/proc.js';
import { until } from '../../helpers/wait.js';
import { writeFileWithDirs } from '../../helpers/files.js';
import { Agent } from '../harness/agent.js';
import { CLI, ensureBuilt } from '../harness/onetime-harness.js';
import { ensureNginx, httpGet, nginxFlags, nginxPreamble, startBackend } from '../harness/operations-harness.js';
import { freePort } from '../../helpers/etcd.js';

const nginx = ensureNginx();
const skip = 'skip' in nginx ? nginx.skip : !hasEtcd() ? 'etcd is not installed' : false;
if (skip) console.log(`# exec-supervises-nginx: skipped: ${skip}`);

interface ExecReadiness {
  ready: boolean;
  reasons: string[];
  exec?: { started: boolean; running: boolean; pid: number | null; restarts: number; lastExitCode: number | null };
}

describe('-exec supervises nginx', { skip }, () => {
  let etcd: EtcdServer;
  const cleanups: Array<() => unknown> = [];
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await etcd?.stop();
  });

  /** A confdir rendering nginx.conf from /web/backends/*, and the flags that run nginx on it in the foreground. */
  async function setup(name: string) {
    const bin = (nginx as { bin: string }).bin;
    const root = mkdtempSync(join(tmpdir(), `tsconfd-exec-${name}-`));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const prefix = join(root, 'nginx');
    const confdir = join(root, 'confdir');
    const conf = join(prefix, 'nginx.conf');
    const port = await freePort();
    writeFileWithDirs(join(prefix, 'tmp/.keep'), '');
    writeFileWithDirs(join(confdir, 'conf.d/nginx.toml'), `[template]
prefix = "/${name}"
src = "nginx.conf.tmpl"
dest = "${conf}"
keys = ["/backends"]
check_cmd = "${bin} -t -q ${nginxFlags(prefix, '{{.src}}').join(' ')}"
`);
    writeFileWithDirs(join(confdir, 'templates/nginx.conf.tmpl'), `${nginxPreamble(prefix)}
  upstream app {
{{- range gets "/backends/*"}}
    server {{.Value}} max_fails=0;
{{- end}}
  }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://app; }
  }
}
`);
    const get = () => httpGet(`http://127.0.0.1:${port}/`, 1000);
    const serving = async (body: string) => (await get().then((a) => a.body, () => '')) === body;
    const errorLog = () => {
      try {
        return readFileSync(join(prefix, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    };
    return { bin, confdir, conf, prefix, port, get, serving, errorLog, exec: `${bin} ${nginxFlags(prefix, conf).join(' ')}` };
  }

  async function readyz(agent: Agent): Promise<ExecReadiness> {
    const r = await httpGet(`${agent.url}/readyz`);
    return JSON.parse(r.body) as ExecReadiness;
  }

  async function metric(agent: Agent, name: string): Promise<number> {
    const r = await httpGet(`${agent.url}/metrics`);
    return sampleValue(parsePrometheusText(r.body), name);
  }

  function startAgent(s: Awaited<ReturnType<typeof setup>>, extra: string[]): Agent {
    const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', s.confdir, '-http', '127.0.0.1:0', '-exec', s.exec, ...extra]);
    cleanups.push(async () => {
      await agent.stop();
    });
    return agent;
  }

  test('starts after the first render, follows etcd by reload signal, forwards SIGUSR1, SIGTERM stops both', { timeout: 90_000 }, async () => {
    const s = await setup('follow');
    const b1 = await startBackend('b1');
    const b2 = await startBackend('b2');
    cleanups.push(() => b1.server.close(), () => b2.server.close());
    await etcd.put('/follow/backends/b1', b1.address);
    const agent = startAgent(s, []);
    await agent.waitFor('nginx serving b1', () => s.serving('b1'), 20_000);
    // nginx.conf did not exist before tsconfd wrote it: nginx started after the render, or it would have failed.
    const started = agent.log.findIndex((l) => /exec: started the child/.test(l));
    const rendered = agent.log.findIndex((l) => /every resource rendered once/.test(l));
    assert.ok(rendered >= 0 && started > rendered, agent.tail());
    const state = await readyz(agent);
    assert.equal(state.ready, true, JSON.stringify(state));
    assert.equal(state.exec?.running, true);
    const pid = state.exec!.pid!;

    // Config follows etcd: b2 in, b1 out; nginx (same master) reloads on the signal and serves b2 only.
    await etcd.put('/follow/backends/b2', b2.address);
    await etcd.etcdctl(['del', '/follow/backends/b1']);
    await agent.waitFor('nginx serving b2 only', async () => {
      const bodies = new Set<string>();
      for (let i = 0; i < 4; i++) bodies.add(await s.get().then((a) => a.body, () => ''));
      return bodies.size === 1 && bodies.has('b2');
    }, 20_000);
    assert.ok(agent.count(/exec: SIGHUP to the child/) >= 1, agent.tail());
    assert.equal((await readyz(agent)).exec?.pid, pid, 'nginx was reloaded, not restarted');
    assert.ok(((await metric(agent, 'tsconfd_exec_reload_signals_total')) ?? 0) >= 1);
    assert.equal(await metric(agent, 'tsconfd_exec_running'), 1);

    // SIGUSR1 is forwarded: nginx reopens its log files.
    agent.signal('SIGUSR1');
    await until('nginx reopening its logs', () => /reopening logs/.test(s.errorLog()), 10_000, () => agent.tail());

    // SIGHUP: tsconfd reloads its resources first, then the child gets its reload signal.
    agent.signal('SIGHUP');
    await agent.waitFor('the reload signal after SIGHUP', () => agent.count(/SIGHUP to the child .*: SIGHUP: resources reloaded/) === 1);
    assert.ok(await s.serving('b2'));

    const code = await agent.stop();
    assert.equal(code, 0, agent.tail());
    assert.equal(alive(pid), false, 'nginx master still running');
    await assert.rejects(s.get(), 'nginx still answers');
  });

  test('a crashing child: tsconfd exits with its code (default) or restarts it (-exec-restart)', { timeout: 90_000 }, async () => {
    const s = await setup('crash');
    const b1 = await startBackend('b1');
    cleanups.push(() => b1.server.close());
    await etcd.put('/crash/backends/b1', b1.address);

    // Default: nginx's master killed → tsconfd shuts down and exits 137 (128 + SIGKILL), workers gone too.
    const exiting = startAgent(s, []);
    await exiting.waitFor('nginx serving b1', () => s.serving('b1'), 20_000);
    process.kill((await readyz(exiting)).exec!.pid!, 'SIGKILL');
    assert.equal(await exiting.exit, 137, exiting.tail());
    assert.match(exiting.tail(), /exec: the child killed by SIGKILL; exiting with code 137/);
    await until('the port closed', async () => s.get().then(() => false, () => true), 10_000);

    // -exec-restart: the same crash restarts nginx (after the backoff); it serves again, and the metrics say so.
    const restarting = startAgent(s, ['-exec-restart']);
    await restarting.waitFor('nginx serving b1', () => s.serving('b1'), 20_000);
    const first = (await readyz(restarting)).exec!.pid!;
    process.kill(first, 'SIGKILL');
    await restarting.waitFor('a new nginx master', async () => {
      const e = (await readyz(restarting)).exec;
      return e?.running === true && e.pid !== first;
    }, 20_000);
    await restarting.waitFor('nginx serving b1 again', () => s.serving('b1'), 20_000);
    assert.equal(await metric(restarting, 'tsconfd_exec_restarts_total'), 1);
    assert.equal(await metric(restarting, 'tsconfd_exec_last_exit_code'), 137);
    assert.equal((await readyz(restarting)).ready, true);
    assert.equal(await restarting.stop(), 0, restarting.tail());
  });

  test('a child that ignores SIGTERM is killed with its group at -exec-kill-timeout', { timeout: 60_000 }, async () => {
    const s = await setup('stubborn');
    await etcd.put('/stubborn/backends/b1', '127.0.0.1:1');
    // The marker file says the trap is set: a SIGTERM before that would simply end the shell.
    const trapped = join(s.prefix, 'trapped');
    const agent = new Agent([
      '-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', s.confdir, '-http', '127.0.0.1:0',
      '-exec', `sh -c 'trap "" TERM; : > ${trapped}; sleep 60 & wait'`, '-exec-kill-timeout', '1s',
    ]);
    cleanups.push(async () => {
      await agent.stop();
    });
    await agent.waitFor('the child running with its trap set', async () => existsSync(trapped) && agent.url !== '' && (await readyz(agent)).exec?.running === true);
    const pid = (await readyz(agent)).exec!.pid!;
    const startedStop = Date.now();
    agent.signal('SIGTERM');
    assert.equal(await agent.exit, 0, agent.tail());
    const tookMs = Date.now() - startedStop;
    assert.match(agent.tail(), /did not exit within 1000 ms: SIGKILL to its process group/);
    assert.equal(alive(pid), false);
    // Well inside the 8 s shutdown grace: the kill timeout, not the grace, bounded the stop.
    assert.ok(tookMs < 7000, `took ${tookMs} ms`);
  });
});

// Orphans of the -exec child's tree are re-parented to PID 1. Node can wait only for the children it started, so
// tsconfd as PID 1 cannot reap them (it says so at start); the image's `tini -s` does. Both measured in a PID
// namespace of their own (unshare --pid), where the process started is PID 1.
const unshareOk = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' }).status === 0;
const tini = ['/usr/bin/tini', '/sbin/tini', '/usr/local/bin/tini'].find((p) => existsSync(p));
const pid1Skip = !unshareOk ? 'unshare --pid is not permitted here' : !tini ? 'tini is not installed' : false;
if (pid1Skip) console.log(`# exec-supervises-nginx (PID 1): skipped: ${pid1Skip}`);

test('as PID 1: tsconfd warns that it cannot reap the child\'s orphans; under tini -s they are reaped', { skip: pid1Skip, timeout: 60_000 }, async () => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-pid1-'));
  try {
    writeFileWithDirs(join(dir, 'keys.yaml'), 'a: "1"\n');
    writeFileWithDirs(join(dir, 'confdir/conf.d/a.toml'), `[template]\nsrc = "a.tmpl"\ndest = "${dir}/a.conf"\nkeys = ["/a"]\n`);
    writeFileWithDirs(join(dir, 'confdir/templates/a.tmpl'), 'a={{getv "/a"}}\n');
    // The child leaves an orphan: `sleep 0.2` whose parent subshell has already exited.
    const args = [CLI, '-watch', '-backend', 'file', '-file', join(dir, 'keys.yaml'), '-confdir', join(dir, 'confdir'), '-exec', "sh -c '(sleep 0.2 &); exec sleep 30'"];
    const zombiesUnder = async (wrapper: string[]) => {
      const u = spawn('unshare', ['--pid', '--fork', '--mount-proc', ...wrapper, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      u.stderr!.on('data', (b) => (stderr += b));
      try {
        await until('the child started', () => /exec: started the child/.test(stderr), 15_000, () => stderr);
        const pid1 = childrenOf(u.pid!)[0]!;
        // The orphan has exited by now (0.2 s); it is a zombie unless PID 1 reaped it.
        await new Promise((r) => setTimeout(r, 1000));
        return { zombies: childrenOf(pid1, 'Z').length, stderr };
      } finally {
        // PID 1 first: the kernel then kills everything else in its namespace.
        for (const p of childrenOf(u.pid!)) process.kill(p, 'SIGKILL');
        u.kill('SIGKILL');
      }
    };
    const bare = await zombiesUnder([]);
    assert.match(bare.stderr, /running as PID 1: orphaned children .* cannot be reaped/);
    assert.equal(bare.zombies, 1, 'Node as PID 1 leaves the orphan a zombie');
    const underTini = await zombiesUnder([tini!, '-s', '--']);
    assert.equal(underTini.zombies, 0, underTini.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Host pids of the children of `parent` (in state `state` when given), read from /proc. */
function childrenOf(parent: number, state?: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent && (state === undefined || fields[0] === state)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
