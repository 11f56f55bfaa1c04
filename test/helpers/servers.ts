// Real redis-server and ZooKeeper processes for tests, on free loopback ports with temp dirs.
// Each can be stopped and started again on the same port and data (a server restart), and every
// process started here is killed and every directory removed when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './etcd.js';

export const ZK_SERVER = '/usr/share/zookeeper/bin/zkServer.sh';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why redis tests cannot run here (no redis-server), or undefined. CI installs it (.ci/run). */
export function redisMissing(): string | undefined {
  return onPath('redis-server') ? undefined : 'redis-server is not installed (Debian: apt-get install redis-server)';
}

/** Why ZooKeeper tests cannot run here, or undefined. CI installs it (.ci/run). */
export function zookeeperMissing(): string | undefined {
  if (!existsSync(ZK_SERVER)) return `${ZK_SERVER} is missing (Debian: apt-get install zookeeper)`;
  if (!onPath('java') && !existsSync('/usr/bin/java')) return 'java is missing (Debian: apt-get install zookeeper brings it)';
  return undefined;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const child of live) {
    try {
      // ZooKeeper runs in its own process group (java under the script).
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      try {
        child.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function scratch(prefix: string): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, prefix));
  dirs.add(dir);
  return dir;
}

/** Resolves once `probe` succeeds; rejects with the process's output after timeoutMs or if it exits. */
async function waitReady(proc: ChildProcess, probe: () => Promise<boolean>, what: string, output: () => string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${what} exited before it was ready:\n${output().slice(-3000)}`);
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${output().slice(-3000)}`);
}

/** Sends `text` to a TCP port and resolves to what came back before the server closed (or '' on error). */
function ask(port: number, text: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on('data', (b) => (got += b));
    socket.on('close', () => resolve(got));
    socket.on('error', () => resolve(''));
  });
}

function stopProcess(proc: ChildProcess | undefined, group: boolean, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = (s: NodeJS.Signals) => {
      try {
        if (group) process.kill(-proc.pid!, s);
        else proc.kill(s);
      } catch {
        // gone
      }
    };
    const timer = setTimeout(() => kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(timer);
      live.delete(proc);
      resolve();
    });
    kill(signal);
  });
}

export interface RedisOptions {
  /** requirepass. */
  password?: string;
  /** notify-keyspace-events ('' = off, the server's default); 'KA' unless given. */
  notify?: string;
  /** Also listen on a unix socket (its path in `socket`). */
  unixSocket?: boolean;
  /** More redis-server arguments, e.g. ['--rename-command', 'CONFIG', '']. */
  extraArgs?: string[];
}

export interface RedisServer {
  readonly port: number;
  readonly node: string;
  readonly socket: string | undefined;
  /** Runs one command over RESP (redis-cli is not needed): the reply as redis-cli prints it, roughly. */
  command(...args: string[]): Promise<string>;
  /** Stops (SIGKILL: a crash when asked) and starts again on the same port; data is kept (a dump on SIGTERM). */
  restart(opts?: { crash?: boolean; downMs?: number }): Promise<void>;
  /** Starts it again after stop() (same port, same data). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = scratch('tsconfd-redis-');
  const socket = opts.unixSocket ? join(dir, 'redis.sock') : undefined;
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', 'yes',
    '--appendfsync', 'no',
    '--notify-keyspace-events', opts.notify ?? 'KA',
    ...(opts.password ? ['--requirepass', opts.password] : []),
    ...(socket ? ['--unixsocket', socket, '--unixsocketperm', '700'] : []),
    ...(opts.extraArgs ?? []),
  ];
  let proc: ChildProcess | undefined;
  let output = '';
  const auth = opts.password ? [['AUTH', opts.password]] : [];
  const launch = async () => {
    output = '';
    const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    live.add(p);
    p.stdout!.on('data', (b) => (output = (output + b).slice(-16_000)));
    p.stderr!.on('data', (b) => (output = (output + b).slice(-16_000)));
    p.once('exit', () => live.delete(p));
    await waitReady(p, async () => (await resp(port, [...auth, ['PING']])).includes('PONG'), 'redis-server', () => output, 20_000);
  };
  await launch();
  return {
    port,
    node: `127.0.0.1:${port}`,
    socket,
    command: (...cmd: string[]) => resp(port, [...auth, cmd]).then((r) => r),
    async restart(o = {}) {
      await stopProcess(proc, false, o.crash ? 'SIGKILL' : 'SIGTERM');
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      await launch();
    },
    start: () => launch(),
    async stop() {
      await stopProcess(proc, false);
    },
  };
}

/** Sends commands over RESP on one connection and returns the raw replies (as text). */
function resp(port: number, commands: string[][]): Promise<string> {
  const encode = (cmd: string[]) => `*${cmd.length}\r\n` + cmd.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
  return new Promise((resolve) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(commands.map(encode).join('') + encode(['QUIT'])));
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('data', (b) => (got += b));
    socket.on('close', () => resolve(got));
    socket.on('error', () => resolve(''));
  });
}

export interface ZookeeperServer {
  readonly port: number;
  readonly node: string;
  /**
   * Stops (SIGKILL when crash) and starts again on the same port and data dir; `wipe` empties the
   * data dir first (a rebuilt server: every session and znode gone).
   */
  restart(opts?: { crash?: boolean; downMs?: number; wipe?: boolean }): Promise<void>;
  stop(): Promise<void>;
  logTail(): string;
}

/** One ZooKeeper (standalone) via zkServer.sh start-foreground with a generated zoo.cfg. Java starts slowly: one per test file. */
export async function startZookeeper(): Promise<ZookeeperServer> {
  const port = await freePort();
  const dir = scratch('tsconfd-zk-');
  mkdirSync(join(dir, 'data'));
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [
      'tickTime=500',
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      'minSessionTimeout=1000',
      'maxSessionTimeout=60000',
      '4lw.commands.whitelist=ruok,srvr',
      'forceSync=no',
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | undefined;
  let output = '';
  const launch = async () => {
    output = '';
    const p = spawn(ZK_SERVER, ['start-foreground', cfg], {
      // Its own process group: zkServer.sh execs java, and a kill must reach it either way.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ZOOCFGDIR: dir, ZOO_LOG_DIR: dir, JMXDISABLE: 'true', SERVER_JVMFLAGS: '-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1' },
    });
    proc = p;
    live.add(p);
    p.stdout!.on('data', (b) => (output = (output + b).slice(-16_000)));
    p.stderr!.on('data', (b) => (output = (output + b).slice(-16_000)));
    p.once('exit', () => live.delete(p));
    await waitReady(p, async () => (await ask(port, 'srvr')).includes('Mode: standalone'), 'ZooKeeper', () => output, 60_000);
  };
  await launch();
  return {
    port,
    node: `127.0.0.1:${port}`,
    async restart(o = {}) {
      await stopProcess(proc, true, o.crash ? 'SIGKILL' : 'SIGTERM');
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      if (o.wipe) {
        rmSync(join(dir, 'data'), { recursive: true, force: true });
        mkdirSync(join(dir, 'data'));
      }
      await launch();
    },
    async stop() {
      await stopProcess(proc, true);
    },
    logTail: () => output.slice(-3000),
  };
}

/** A ZooKeeper client for tests to write with (node-zookeeper-client, the backend's own client). */
export interface ZkWriter {
  /** Creates the path (and its parents, which get no data) with data, or sets its data when it exists. */
  put(path: string, data: string): Promise<void>;
  /** Removes the path and everything below it; nothing when it is missing. */
  remove(path: string): Promise<void>;
  close(): void;
}

export async function zkWriter(node: string): Promise<ZkWriter> {
  const zk = (await import('node-zookeeper-client')).default;
  const client = zk.createClient(node, { sessionTimeout: 10_000, spinDelay: 100 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`test ZooKeeper client: no session with ${node}`)), 20_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  const call = (fn: (cb: (e: Error | null) => void) => void) =>
    new Promise<void>((resolve, reject) => fn((e) => (e ? reject(e) : resolve())));
  const c = client as unknown as {
    mkdirp(p: string, cb: (e: Error | null) => void): void;
    create(p: string, d: Buffer, cb: (e: Error | null) => void): void;
    setData(p: string, d: Buffer, v: number, cb: (e: Error | null) => void): void;
    removeRecursive(p: string, v: number, cb: (e: Error | null) => void): void;
  };
  const code = (e: unknown) => (e as { getCode?: () => number }).getCode?.();
  return {
    async put(path, data) {
      try {
        await call((cb) => c.setData(path, Buffer.from(data), -1, cb));
        return;
      } catch (e) {
        if (code(e) !== -101) throw e;
      }
      const parent = path.slice(0, path.lastIndexOf('/'));
      if (parent !== '') await call((cb) => c.mkdirp(parent, cb));
      await call((cb) => c.create(path, Buffer.from(data), cb));
    },
    async remove(path) {
      try {
        await call((cb) => c.removeRecursive(path, -1, cb));
      } catch (e) {
        if (code(e) !== -101) throw e;
      }
    },
    close: () => client.close(),
  };
}
