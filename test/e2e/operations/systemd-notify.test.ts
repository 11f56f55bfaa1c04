// systemd Type=notify. With a running systemd (PID 1 is systemd) tsconfd runs as a transient Type=notify service
// with WatchdogSec; otherwise (as in CI containers) the protocol is checked against a test NOTIFY_SOCKET: an
// AF_UNIX datagram socket with SO_PASSCRED that a small python3 listener reads, recording each message with the
// sender's PID, as systemd would see it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../helpers/wait.js';
import { writeFileWithDirs } from '../../helpers/files.js';
import { CLI, cleanEnv, ensureBuilt } from '../harness/onetime-harness.js';

const LISTENER = `
import socket, os, sys, struct, array, json
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
print(json.dumps({"listening": True}), flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64) + socket.CMSG_SPACE(12))
    pid = None
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack('iII', data[:12])[0]
        elif level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array('i'); fds.frombytes(data[:len(data) - len(data) % 4])
            for fd in fds: os.close(fd)   # BARRIER=1: closing the fd answers the barrier
    print(json.dumps({"pid": pid, "msg": msg.decode()}), flush=True)
`;

interface Message {
  pid: number;
  fields: Record<string, string>;
}

const python = spawnSync('python3', ['-c', 'import socket; socket.SO_PASSCRED'], { stdio: 'ignore' }).status === 0;
const notify = spawnSync('systemd-notify', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !python ? 'python3 (the test socket listener) is not installed' : !notify ? 'systemd-notify is not installed' : false;
if (skip) console.log(`# systemd-notify-protocol: skipped: ${skip}`);

describe('systemd notify protocol against a test NOTIFY_SOCKET', { skip }, () => {
  let root: string;
  let listener: ChildProcess;
  const messages: Message[] = [];
  let socketPath: string;
  before(async () => {
    ensureBuilt();
    root = mkdtempSync(join(tmpdir(), 'tsconfd-notify-'));
    socketPath = join(root, 'notify.sock');
    listener = spawn('python3', ['-c', LISTENER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let partial = '';
    let listening = false;
    listener.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const m = JSON.parse(line) as { listening?: boolean; pid?: number; msg?: string };
        if (m.listening) listening = true;
        else messages.push({ pid: m.pid!, fields: Object.fromEntries(m.msg!.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])) });
      }
    });
    await until('the test socket listening', () => listening, 10_000);
  });
  after(() => {
    listener?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  function confdir(name: string): { confdir: string; out: string; keys: string } {
    const dir = join(root, name);
    writeFileWithDirs(join(dir, 'keys.yaml'), 'app:\n  name: shop\n');
    writeFileWithDirs(join(dir, 'confdir/conf.d/app.toml'), `[template]\nsrc = "app.tmpl"\ndest = "${dir}/app.conf"\nkeys = ["/app"]\n`);
    writeFileWithDirs(join(dir, 'confdir/templates/app.tmpl'), 'name={{getv "/app/name"}}\n');
    return { confdir: join(dir, 'confdir'), out: join(dir, 'app.conf'), keys: join(dir, 'keys.yaml') };
  }

  function run(args: string[], env: Record<string, string>): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr += b));
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { child, stderr: () => stderr, exit };
  }

  const has = (pid: number, key: string, value?: string) => messages.some((m) => m.pid === pid && m.fields[key] !== undefined && (value === undefined || m.fields[key] === value));

  test('READY=1 after the first render, WATCHDOG=1 at half WATCHDOG_USEC, STATUS=, RELOADING=1/READY=1 on SIGHUP, STOPPING=1', { timeout: 60_000 }, async () => {
    const c = confdir('full');
    const marker = join(root, 'child-env');
    const agent = run(
      ['-watch', '-backend', 'file', '-file', c.keys, '-confdir', c.confdir, '-exec', `sh -c 'echo "NOTIFY_SOCKET=\${NOTIFY_SOCKET:-unset}" > ${marker}; exec sleep 60'`, '-exec-reload-signal', 'none'],
      { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000' },
    );
    const pid = agent.child.pid!;
    try {
    // Running as root, systemd-notify sends with tsconfd's PID (as another user, with its own: NotifyAccess=all).
    const sender = process.getuid?.() === 0 ? pid : undefined;
    const mine = () => messages.filter((m) => (sender === undefined ? m.fields.BARRIER === undefined : m.pid === sender));
    await until('READY=1', () => mine().some((m) => m.fields.READY === '1'), 20_000, agent.stderr);
    // READY=1 came once the file was there, and with a STATUS line saying so.
    assert.equal(readFileSync(c.out, 'utf8'), 'name=shop\n');
    const ready = mine().find((m) => m.fields.READY === '1')!;
    assert.match(ready.fields.STATUS!, /^ready/);
    // The first status said it waits for the render.
    assert.match(mine().find((m) => m.fields.STATUS !== undefined)!.fields.STATUS!, /waiting for every resource to render/);
    // WATCHDOG=1 every 200 ms: several within a couple of seconds.
    await until('three WATCHDOG=1', () => mine().filter((m) => m.fields.WATCHDOG === '1').length >= 3, 10_000, agent.stderr);
    // The -exec child does not see NOTIFY_SOCKET.
    await until('the child started', () => existsSync(marker), 10_000, agent.stderr);
    assert.equal(readFileSync(marker, 'utf8'), 'NOTIFY_SOCKET=unset\n');

    const before = mine().length;
    agent.child.kill('SIGHUP');
    await until('RELOADING=1 then READY=1', () => {
      const after = mine().slice(before);
      const reloading = after.findIndex((m) => m.fields.RELOADING === '1');
      return reloading >= 0 && after.slice(reloading + 1).some((m) => m.fields.READY === '1');
    }, 15_000, agent.stderr);
    const reloading = mine().slice(before).find((m) => m.fields.RELOADING === '1')!;
    assert.match(reloading.fields.MONOTONIC_USEC!, /^\d+$/);

    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0, agent.stderr());
    assert.ok(mine().some((m) => m.fields.STOPPING === '1'), JSON.stringify(mine()));
    const watchdogs = mine().filter((m) => m.fields.WATCHDOG === '1').length;
    assert.ok(has(sender ?? mine()[0]!.pid, 'STOPPING', '1'));
    // After STOPPING=1 no watchdog: the count does not grow.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(mine().filter((m) => m.fields.WATCHDOG === '1').length, watchdogs);
    } finally {
      agent.child.kill('SIGKILL');
    }
  });

  test('-notify-ready-early: READY=1 at start, before any render (the backend is down)', { timeout: 30_000 }, async () => {
    const c = confdir('early');
    const agent = run(['-watch', '-backend', 'etcdv3', '-node', 'http://127.0.0.1:9', '-confdir', c.confdir, '-notify-ready-early'], { NOTIFY_SOCKET: socketPath });
    const pid = agent.child.pid!;
    const sender = process.getuid?.() === 0 ? pid : undefined;
    try {
      await until('READY=1', () => messages.some((m) => (sender === undefined || m.pid === sender) && m.fields.READY === '1' && /notify-ready-early/.test(m.fields.STATUS ?? '')), 15_000, agent.stderr);
      assert.equal(existsSync(c.out), false);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
  });

  test('without NOTIFY_SOCKET nothing is sent and nothing is spawned', { timeout: 30_000 }, async () => {
    const c = confdir('none');
    const count = messages.length;
    const agent = run(['-watch', '-backend', 'file', '-file', c.keys, '-confdir', c.confdir, '-log-level', 'debug'], {});
    await until('the render', () => existsSync(c.out), 15_000, agent.stderr);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0);
    assert.equal(messages.length, count);
    assert.doesNotMatch(agent.stderr(), /systemd notify/);
  });
});

// A real systemd: tsconfd as a transient Type=notify service with a watchdog. Only where systemd is PID 1.
const systemdRunning = existsSync('/run/systemd/system') && spawnSync('systemctl', ['is-system-running'], { encoding: 'utf8' }).stdout?.trim() !== 'offline';
const realSkip = systemdRunning ? false : 'systemd is not running here (no /run/systemd/system): the protocol is checked against a test socket above';
if (realSkip) console.log(`# systemd-notify-protocol (real systemd): skipped: ${realSkip}`);

test('a transient Type=notify service with WatchdogSec=2 becomes active and stays so', { skip: realSkip, timeout: 60_000 }, async () => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-systemd-'));
  const unit = `tsconfd-test-${process.pid}`;
  try {
    writeFileWithDirs(join(dir, 'confdir/conf.d/app.toml'), `[template]\nsrc = "app.tmpl"\ndest = "${dir}/app.conf"\nkeys = ["/app"]\n`);
    writeFileWithDirs(join(dir, 'confdir/templates/app.tmpl'), 'name={{getv "/app/name"}}\n');
    writeFileSync(join(dir, 'keys.yaml'), 'app:\n  name: shop\n');
    // systemd-run waits for the start job, which for Type=notify ends at READY=1.
    const started = spawnSync('systemd-run', ['--unit', unit, '-p', 'Type=notify', '-p', 'NotifyAccess=all', '-p', 'WatchdogSec=2',
      process.execPath, CLI, '-watch', '-backend', 'file', '-file', join(dir, 'keys.yaml'), '-confdir', join(dir, 'confdir')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(started.status, 0, started.stderr);
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'name=shop\n');
    // Three watchdog periods later it is still active, never restarted, with a status line.
    await new Promise((r) => setTimeout(r, 6000));
    const show = spawnSync('systemctl', ['show', unit, '-p', 'ActiveState', '-p', 'StatusText', '-p', 'NRestarts'], { encoding: 'utf8' }).stdout;
    assert.match(show, /ActiveState=active/);
    assert.match(show, /StatusText=ready/);
  } finally {
    spawnSync('systemctl', ['stop', unit]);
    rmSync(dir, { recursive: true, force: true });
  }
});
