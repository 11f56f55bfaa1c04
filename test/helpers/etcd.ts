// A real etcd for tests: single members and the seed's three-member TLS cluster, on free
// loopback ports with temp data dirs. Every process started here is killed and every
// directory removed when the test process exits, even if a test forgets to stop it.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { generateCerts, type TestCerts } from './certs.js';

// etcd 3.4 with zap logs this once its client listener serves (after the member joined a quorum).
const READY_LINE = /serving client traffic|ready to serve client requests/;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The etcd binary: ETCD_BIN, else PATH. Throws with a hint when neither has one. */
export function etcdBinary(): string {
  const fromEnv = process.env.ETCD_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`ETCD_BIN=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = onPath('etcd');
  if (!found) throw new Error('etcd not found: put it on PATH or set ETCD_BIN (Debian: apt-get install etcd-server etcd-client)');
  return found;
}

/** etcdctl beside the etcd binary, else on PATH. */
export function etcdctlBinary(): string {
  const beside = join(dirname(etcdBinary()), 'etcdctl');
  if (existsSync(beside)) return beside;
  const found = onPath('etcdctl');
  if (!found) throw new Error('etcdctl not found: put it on PATH (Debian: apt-get install etcd-client)');
  return found;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function scratchRoot(): string {
  // tmpfs keeps etcd's fsyncs cheap; fall back to the ordinary temp dir.
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const liveProcesses = new Set<ChildProcess>();
const scratchDirs = new Set<string>();
process.on('exit', () => {
  for (const child of liveProcesses) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly running: boolean;
  readonly pid: number | undefined;
  /** Last lines etcd printed, for failure messages. */
  logTail(): string;
  /**
   * Starts the process (same ports, same data dir) and waits until it serves clients. Extra flags
   * override earlier ones (e.g. another --listen-client-urls, to hide the member from clients).
   */
  start(extraArgs?: string[]): Promise<void>;
  /** Launches without waiting (a cluster member cannot serve until a quorum is up). */
  launch(extraArgs?: string[]): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

export interface EtcdOptions {
  /** Extra etcd flags, e.g. ['--auth-token-ttl', '3']. */
  extraArgs?: string[];
}

export interface EtcdServer {
  readonly endpoints: string[];
  readonly members: EtcdMember[];
  /** Present for TLS clusters. */
  readonly certs?: TestCerts;
  /** root's password once enableAuth() ran; etcdctl() then uses it. */
  readonly rootPassword?: string;
  /** Runs etcdctl (API v3) against the endpoints with the right TLS flags; resolves to stdout. */
  etcdctl(args: string[], options?: { user?: string; input?: string }): Promise<string>;
  put(key: string, value: string): Promise<void>;
  /** Creates root with a password, grants it the root role, enables auth. */
  enableAuth(rootPassword: string): Promise<void>;
  /** Stops all members, then starts all and waits until each serves. */
  restartAll(): Promise<void>;
  /** Stops every member and removes data dirs and certificates. */
  stop(): Promise<void>;
}

interface MemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  scheme: 'http' | 'https';
  dataDir: string;
  args: string[];
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

interface ManagedMember extends EtcdMember {
  /** Resolves when the last launch serves clients. */
  whenReady(): Promise<void>;
}

function createMember(spec: MemberSpec): ManagedMember {
  let child: ChildProcess | undefined;
  let log = '';
  let ready: Promise<void> | undefined;

  const launch = async (extraArgs: string[] = []): Promise<void> => {
    if (child) throw new Error(`etcd member ${spec.name} is already running`);
    log = '';
    const proc = spawn(etcdBinary(), [...spec.args, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    liveProcesses.add(proc);
    ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`etcd ${spec.name} not ready after ${READY_TIMEOUT_MS} ms:\n${log.slice(-3000)}`)),
        READY_TIMEOUT_MS,
      );
      proc.stderr!.setEncoding('utf8');
      proc.stderr!.on('data', (chunk: string) => {
        log = (log + chunk).slice(-64 * 1024);
        if (READY_LINE.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        liveProcesses.delete(proc);
        if (child === proc) child = undefined;
        reject(new Error(`etcd ${spec.name} exited (code ${code}, signal ${signal}) before it was ready:\n${log.slice(-3000)}`));
      });
    });
    // The exit handler rejects the promise even after it resolved; nobody needs that rejection.
    ready.catch(() => undefined);
  };

  const member: ManagedMember = {
    name: spec.name,
    clientUrl: `${spec.scheme}://127.0.0.1:${spec.clientPort}`,
    peerUrl: `${spec.scheme}://127.0.0.1:${spec.peerPort}`,
    dataDir: spec.dataDir,
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
    logTail: () => log.slice(-3000),
    whenReady: () => ready ?? Promise.reject(new Error(`etcd ${spec.name} was never launched`)),
    launch,
    async start(extraArgs) {
      await launch(extraArgs);
      await ready;
    },
    async stop() {
      const proc = child;
      if (!proc) return;
      proc.kill('SIGTERM');
      if (!(await waitExit(proc, STOP_TIMEOUT_MS))) {
        proc.kill('SIGKILL');
        await waitExit(proc, STOP_TIMEOUT_MS);
      }
      child = undefined;
    },
    async kill() {
      const proc = child;
      if (!proc) return;
      proc.kill('SIGKILL');
      await waitExit(proc, STOP_TIMEOUT_MS);
      child = undefined;
    },
  };
  return member;
}

function tlsArgs(certs: TestCerts): string[] {
  return [
    '--client-cert-auth', '--trusted-ca-file', certs.ca, '--cert-file', certs.server.cert, '--key-file', certs.server.key,
    '--peer-client-cert-auth', '--peer-trusted-ca-file', certs.ca,
    '--peer-cert-file', certs.peer.cert, '--peer-key-file', certs.peer.key,
  ];
}

async function buildSpecs(count: number, root: string, certs: TestCerts | undefined, extraArgs: string[]): Promise<MemberSpec[]> {
  const scheme = certs ? 'https' : 'http';
  const ports: Array<[number, number]> = [];
  const taken = new Set<number>();
  while (ports.length < count) {
    const client = await freePort();
    const peer = await freePort();
    if (client === peer || taken.has(client) || taken.has(peer)) continue;
    taken.add(client);
    taken.add(peer);
    ports.push([client, peer]);
  }
  const names = ports.map((_, i) => `m${i + 1}`);
  const initialCluster = names.map((name, i) => `${name}=${scheme}://127.0.0.1:${ports[i]![1]}`).join(',');
  return names.map((name, i) => {
    const [clientPort, peerPort] = ports[i]!;
    const dataDir = join(root, name);
    const args = [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', `${scheme}://127.0.0.1:${clientPort}`,
      '--advertise-client-urls', `${scheme}://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `${scheme}://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `${scheme}://127.0.0.1:${peerPort}`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `tsconfd-test-${process.pid}-${ports[0]![0]}`,
      '--heartbeat-interval', '100', '--election-timeout', '1000',
      '--logger', 'zap', '--log-outputs', 'stderr',
      ...(certs ? tlsArgs(certs) : []),
      ...extraArgs,
    ];
    return { name, clientPort, peerPort, scheme, dataDir, args };
  });
}

async function startMembers(count: number, certs: TestCerts | undefined, options: EtcdOptions): Promise<EtcdServer> {
  let lastError: unknown;
  // Ports are only probably free (another test may grab one between probe and bind): retry with new ones.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const root = mkdtempSync(join(scratchRoot(), 'tsconfd-etcd-'));
    scratchDirs.add(root);
    const members = (await buildSpecs(count, root, certs, options.extraArgs ?? [])).map(createMember);
    try {
      await Promise.all(members.map((m) => m.launch()));
      await Promise.all(members.map((m) => m.whenReady()));
      return makeServer(members, root, certs);
    } catch (error) {
      lastError = error;
      await Promise.all(members.map((m) => m.kill()));
      rmSync(root, { recursive: true, force: true });
      scratchDirs.delete(root);
      // Only an early exit (a port taken meanwhile) is worth another try; a hang would hang again.
      if (!(error instanceof Error && error.message.includes('before it was ready'))) break;
    }
  }
  throw lastError;
}

function makeServer(members: ManagedMember[], root: string, certs: TestCerts | undefined): EtcdServer {
  let rootPassword: string | undefined;
  const endpoints = members.map((m) => m.clientUrl);

  const etcdctl: EtcdServer['etcdctl'] = (args, options = {}) => {
    const flags = [`--endpoints=${endpoints.join(',')}`, '--dial-timeout=3s', '--command-timeout=10s'];
    if (certs) flags.push(`--cacert=${certs.ca}`, `--cert=${certs.client.cert}`, `--key=${certs.client.key}`);
    const user = options.user ?? (rootPassword !== undefined ? `root:${rootPassword}` : undefined);
    if (user) flags.push(`--user=${user}`);
    return new Promise((resolve, reject) => {
      const proc = spawn(etcdctlBinary(), [...flags, ...args], {
        env: { ...process.env, ETCDCTL_API: '3' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      proc.on('error', reject);
      proc.on('exit', (code) => {
        if (code === 0) resolve(out);
        else reject(new Error(`etcdctl ${args.join(' ')} failed (${code}): ${err.trim()}`));
      });
      // etcdctl may exit before reading stdin (EPIPE); its exit code decides, not the pipe.
      proc.stdin.on('error', () => {});
      proc.stdin.end(options.input ?? '');
    });
  };

  return {
    endpoints,
    members,
    certs,
    get rootPassword() {
      return rootPassword;
    },
    etcdctl,
    async put(key, value) {
      // A cluster electing a new leader times writes out for a moment: the writer retries,
      // as any real writer would. "--" so values starting with "-" are not taken for flags.
      for (let attempt = 1; ; attempt++) {
        try {
          await etcdctl(['put', '--', key, value]);
          return;
        } catch (e) {
          if (attempt >= 20 || !/timed out|no leader|leader changed|Unavailable|DeadlineExceeded|connection refused/i.test((e as Error).message)) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
    async enableAuth(password) {
      await etcdctl(['user', 'add', `root:${password}`]);
      await etcdctl(['user', 'grant-role', 'root', 'root']);
      await etcdctl(['auth', 'enable']);
      rootPassword = password;
    },
    async restartAll() {
      await Promise.all(members.map((m) => m.stop()));
      await Promise.all(members.map((m) => m.launch()));
      await Promise.all(members.map((m) => m.whenReady()));
    },
    async stop() {
      await Promise.all(members.map((m) => m.stop()));
      rmSync(root, { recursive: true, force: true });
      scratchDirs.delete(root);
      if (certs) {
        rmSync(certs.dir, { recursive: true, force: true });
        scratchDirs.delete(certs.dir);
      }
    },
  };
}

/** One plain-HTTP member on free loopback ports. */
export function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  return startMembers(1, undefined, options);
}

/** The seed's production shape: three members, TLS for clients and peers, client certificates required. */
export function startTlsCluster(options: EtcdOptions = {}): Promise<EtcdServer> {
  const certs = generateCerts(scratchRoot());
  scratchDirs.add(certs.dir);
  return startMembers(3, certs, options);
}

/** Whether etcd can be found, for tests that must say why they skip (they should not need to: test.sh installs it). */
export function hasEtcd(): boolean {
  try {
    etcdBinary();
    return true;
  } catch {
    return false;
  }
}

/** etcd's version line, for diagnostics. */
export function etcdVersion(): string {
  return execFileSync(etcdBinary(), ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
}

/** Three plain-HTTP members: the cluster a fleet of agents watches, alone or behind `etcd grpc-proxy`. */
export function startCluster(options: EtcdOptions = {}): Promise<EtcdServer> {
  return startMembers(3, undefined, options);
}

// etcd 3.4's grpc-proxy logs this once it listens for clients.
const PROXY_READY_LINE = /listening for gRPC proxy client requests/;

export interface GrpcProxy {
  /** http://127.0.0.1:PORT, the same across restarts. */
  readonly url: string;
  readonly running: boolean;
  logTail(): string;
  /** Starts the proxy (same port) and waits until it listens. */
  start(): Promise<void>;
  /** SIGKILL: the proxy crashed (its clients' streams break). */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; removes its data dir. */
  stop(): Promise<void>;
}

/**
 * `etcd grpc-proxy start` in front of plain-HTTP members, on a free loopback port: etcd's own
 * watch-coalescing proxy, which answers watches from shared broadcasts, picks the watch ids itself
 * and never answers progress requests (etcd 3.4).
 */
export async function startGrpcProxy(cluster: EtcdServer): Promise<GrpcProxy> {
  const endpoints = cluster.endpoints.map((u) => u.replace(/^http:\/\//, '')).join(',');
  if (endpoints.includes('https:')) throw new Error('startGrpcProxy: plain-HTTP members only');
  const root = mkdtempSync(join(scratchRoot(), 'tsconfd-proxy-'));
  scratchDirs.add(root);
  let port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';
  const launch = (): Promise<void> => {
    log = '';
    const proc = spawn(etcdBinary(), ['grpc-proxy', 'start', '--endpoints', endpoints, '--listen-addr', `127.0.0.1:${port}`, '--data-dir', root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    liveProcesses.add(proc);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`grpc-proxy not listening after ${READY_TIMEOUT_MS} ms:\n${log.slice(-3000)}`)), READY_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        log = (log + chunk.toString('utf8')).slice(-64 * 1024);
        if (PROXY_READY_LINE.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        liveProcesses.delete(proc);
        if (child === proc) child = undefined;
        reject(new Error(`grpc-proxy exited (code ${code}, signal ${signal}) before it listened:\n${log.slice(-3000)}`));
      });
    });
  };
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill(signal);
    if (!(await waitExit(proc, STOP_TIMEOUT_MS))) {
      proc.kill('SIGKILL');
      await waitExit(proc, STOP_TIMEOUT_MS);
    }
    child = undefined;
  };
  // A port taken between the probe and the bind: another port, a few times (only before the first start).
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      await end('SIGKILL');
      if (attempt >= 3 || !/exited/.test((e as Error).message)) throw e;
      port = await freePort();
    }
  }
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get running() {
      return child !== undefined;
    },
    logTail: () => log.slice(-3000),
    start: async () => {
      if (child) throw new Error('grpc-proxy is already running');
      await launch();
    },
    kill: () => end('SIGKILL'),
    async stop() {
      await end('SIGTERM');
      rmSync(root, { recursive: true, force: true });
      scratchDirs.delete(root);
    },
  };
}
