// Shared pieces of the operations e2e tests (the tsconfd process itself is ./agent.ts): an nginx master
// of its own (prefix, pid, temp dirs, free loopback port), small HTTP backends, and a plain HTTP client
// (no curl needed).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../helpers/etcd.js';
import { until } from '../../helpers/wait.js';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** GET with node's http client; rejects on connection errors. */
export function httpGet(url: string, timeoutMs = 2_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A backend that answers every request with its name. */
export async function startBackend(name: string): Promise<{ server: Server; address: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.setHeader('Connection', 'close');
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, address: `127.0.0.1:${port}`, hits: () => hits };
}

/** nginx's binary, installing Debian's package when missing and possible; otherwise why the test must skip. */
export function ensureNginx(): { bin: string } | { skip: string } {
  const find = () => ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  let bin = find();
  if (bin) return { bin };
  if (process.getuid?.() !== 0) return { skip: 'nginx is not installed and the tests do not run as root to apt-get it' };
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'nginx'], { env, stdio: 'ignore', timeout: 240_000 });
    } catch {
      execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore', timeout: 240_000 });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'nginx'], { env, stdio: 'ignore', timeout: 240_000 });
    }
  } catch (e) {
    return { skip: `nginx is not installed and apt-get install nginx failed: ${(e as Error).message.split('\n')[0]}` };
  }
  bin = find();
  return bin ? { bin } : { skip: 'apt-get installed nginx but no nginx binary was found' };
}

/** The flags that keep an nginx run inside `prefix` (Debian's build points at /var/lib/nginx and /var/log/nginx). */
export function nginxFlags(prefix: string, conf: string): string[] {
  return ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf];
}

/** The directives for the top of a private nginx.conf. */
export function nginxPreamble(prefix: string): string {
  const tmp = join(prefix, 'tmp');
  return `daemon off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} notice;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
`;
}

export class Nginx {
  private child: ChildProcess | undefined;
  readonly port: Promise<number>;
  private resolvedPort = 0;

  constructor(
    readonly bin: string,
    readonly prefix: string,
  ) {
    mkdirSync(join(prefix, 'tmp'), { recursive: true });
    this.port = freePort().then((p) => (this.resolvedPort = p));
  }

  get conf(): string {
    return join(this.prefix, 'nginx.conf');
  }

  get pidFile(): string {
    return join(this.prefix, 'nginx.pid');
  }

  /** Starts the master on the config at `conf` (which must exist) and waits for it to answer. */
  async start(): Promise<void> {
    const port = await this.port;
    this.child = spawn(this.bin, nginxFlags(this.prefix, this.conf), { stdio: 'ignore' });
    await until('nginx answering', async () => {
      if (this.child!.exitCode !== null) throw new Error(`nginx exited ${this.child!.exitCode}: ${this.errorLog()}`);
      return httpGet(`http://127.0.0.1:${port}/`, 500).then(() => true, () => false);
    }, 10_000);
  }

  /** Live processes under the master (after a reload, old workers linger until they have closed). */
  workers(): number {
    const master = this.child?.pid;
    let n = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === master && fields[0] !== 'Z') n++;
      } catch {
        // gone meanwhile
      }
    }
    return n;
  }

  /**
   * Waits until a reload has settled: one worker left. Old workers accept a few connections while they
   * process their QUIT, so traffic is judged once they are gone.
   */
  async settled(): Promise<void> {
    await until('nginx workers settled', () => this.workers() === 1, 10_000, () => this.errorLog());
  }

  errorLog(): string {
    const file = join(this.prefix, 'error.log');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '';
  }

  get(path = '/'): Promise<HttpAnswer> {
    return httpGet(`http://127.0.0.1:${this.resolvedPort}${path}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGQUIT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
