// The -http endpoint: /healthz (the process answers), /readyz (the config on disk can be trusted) and /metrics.
// Readiness is computed from state the runtime already keeps, through a synchronous callback, so a probe never
// waits on the backend and never adds load to it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

export interface Readiness {
  /** The last backend request (or the watch stream) succeeded. */
  backendReachable: boolean;
  /** The local mirror of the keys matches the backend (the watch is connected and caught up). */
  mirrorInSync: boolean;
  /** Milliseconds since the mirror last matched the backend; null before the first sync. */
  mirrorAgeMs: number | null;
  /** -stale-after in milliseconds; 0 disables the age check. */
  staleAfterMs: number;
  /** Names of loaded resources that have never been rendered successfully (written or found unchanged). */
  resourcesNeverRendered: string[];
  /** -watch: destinations kept because their keys fell below min_keys (never blank a config). */
  destinationsGuarded?: string[];
  /** Resources whose last write failed and is being retried, one description each (names resource and dest). */
  writesFailing?: string[];
  /** -exec: the supervised child (runtime/supervisor.ts). */
  exec?: { started: boolean; running: boolean; pid: number | undefined; restarts: number; lastExitCode: number | null };
}

export type ReadinessProvider = () => Readiness;

export interface ReadinessVerdict {
  ready: boolean;
  /** Everything that is wrong, one sentence each (also what does not fail readiness); empty when all is well. */
  reasons: string[];
  /**
   * Every resource rendered once and the configs on disk are good, but the backend is unreachable, out of sync or
   * older than -stale-after (or a destination is kept by min_keys/max_shrink): the files may be out of date. Not
   * ready only when strict.
   */
  stale: boolean;
  /** What is wrong without failing readiness unless strict (a write being retried: its last good file stays). */
  warnings?: string[];
}

/**
 * Ready means "the configs on disk can be served": once every resource has rendered, a stalled or unreachable
 * backend (or a min_keys guard) leaves the last good files in place, so by default it makes the verdict stale, not
 * unready: a sidecar's pod stays in its Service through an etcd hiccup. `strict` (-strict-readiness, /readyz?strict)
 * also fails on staleness.
 */
export function evaluateReadiness(state: Readiness, strict = false): ReadinessVerdict {
  const reasons: string[] = [];
  const backend: string[] = [];
  if (!state.backendReachable) backend.push('backend unreachable');
  if (state.mirrorAgeMs === null) {
    reasons.push('keys never read from the backend');
  } else {
    if (!state.mirrorInSync) backend.push('mirror not in sync with the backend');
    if (state.staleAfterMs > 0 && state.mirrorAgeMs > state.staleAfterMs) {
      backend.push(
        `mirror is stale: last in sync ${formatSeconds(state.mirrorAgeMs)} ago (stale-after ${formatSeconds(state.staleAfterMs)})`,
      );
    }
  }
  const never = state.resourcesNeverRendered;
  if (never.length > 0) reasons.push(`never rendered: ${firstTen(never)}`);
  const guarded = state.destinationsGuarded ?? [];
  if (guarded.length > 0) backend.push(`kept with too few keys (min_keys, max_shrink): ${firstTen(guarded)}`);
  // Before its start the never-rendered reason already explains the wait. A child that is not running serves
  // nothing, whatever the files: that fails readiness, strict or not.
  if (state.exec?.started && !state.exec.running) {
    reasons.push(`exec child not running (restarts ${state.exec.restarts}, last exit code ${state.exec.lastExitCode ?? 'none'})`);
  }
  const blocking = reasons.length > 0;
  const all = [...backend.filter((r) => !r.startsWith('kept ')), ...reasons, ...backend.filter((r) => r.startsWith('kept '))];
  // A write failing for a resource that rendered before leaves its last good file in place, as a backend
  // outage does: reported, but not a reason to take the service out of rotation. One that never rendered
  // is already a reason above (never rendered).
  const failing = state.writesFailing ?? [];
  const warnings = failing.length > 0 ? [`write failing, retried with backoff: ${firstTen(failing)}`] : [];
  return {
    // Strict: any sign that a file on disk may be out of date fails, a write being retried included.
    ready: !blocking && (!strict || (backend.length === 0 && warnings.length === 0)),
    reasons: all,
    stale: !blocking && backend.length > 0,
    ...(warnings.length > 0 && { warnings }),
  };
}

/** Whether the backend answers: the connection is up and, with -stale-after, it confirmed the mirror in time. */
export function backendAnswers(state: Readiness): boolean {
  if (!state.backendReachable) return false;
  return !(state.staleAfterMs > 0 && state.mirrorAgeMs !== null && state.mirrorAgeMs > state.staleAfterMs);
}

/** A probe's answer stays short however many resources a confdir holds. */
function firstTen(names: readonly string[]): string {
  return names.slice(0, 10).join(', ') + (names.length > 10 ? ` and ${names.length - 10} more` : '');
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

export interface ListenAddress {
  /** '' means every interface (Node then binds :: when IPv6 is available, else 0.0.0.0). */
  host: string;
  port: number;
}

/**
 * Parses the -http value the way Go's net.Listen reads an address: "127.0.0.1:8379", "[::1]:8379", "localhost:8379",
 * or ":8379" for every interface (what a Kubernetes probe needs, since the kubelet connects to the pod IP).
 */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new Error(`invalid -http address "${value}": want host:port, e.g. 127.0.0.1:8379 or :8379`);
  }
  const host = match[1] ?? match[2] ?? '';
  return { host, port };
}

export interface HealthServerOptions {
  /** An address as given to -http ("127.0.0.1:8379"; port 0 picks a free port). */
  listen: string;
  readiness: ReadinessProvider;
  metrics: Metrics;
  /** -strict-readiness: /readyz fails on staleness too (as /readyz?strict does for one request). */
  strict?: boolean;
}

export interface HealthServer {
  /** The address actually bound (with the real port when 0 was asked for). */
  readonly address: ListenAddress;
  /** Base URL, e.g. http://127.0.0.1:8379 */
  readonly url: string;
  /** Stops listening and drops open keep-alive connections. */
  close(): Promise<void>;
}

/**
 * Probes are tiny; a client that sends nothing must not hold a socket for Node's default 5 minutes. Node enforces
 * the header and request timeouts only when it checks its connections (every 30 s by default: a silent socket
 * lived 30 s), so it checks every second; an idle keep-alive socket is closed 5 s after its last response.
 */
const SOCKET_TIMEOUTS = { headersTimeout: 5_000, requestTimeout: 10_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 };

/** Starts the server; rejects if the address cannot be bound (EADDRINUSE, EACCES...). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { host, port } = parseListenAddress(options.listen);
  const server = createServer(SOCKET_TIMEOUTS, (req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${errorMessage(error)}\n`);
      else res.destroy();
    });
  });
  try {
    await listen(server, host, port);
  } catch (e) {
    // Named after the flag: under a supervisor's restart loop, this line is what the operator reads.
    const code = (e as NodeJS.ErrnoException).code;
    const where = `${host === '' ? '*' : host.includes(':') ? `[${host}]` : host}:${port}`;
    if (code === 'EADDRINUSE') throw new Error(`-http ${options.listen}: address ${where} is already in use (another process listens there; give -http a free port)`);
    if (code === 'EACCES') throw new Error(`-http ${options.listen}: not allowed to listen on ${where} (ports below 1024 need privileges)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new Error(`-http ${options.listen}: no such local address ${where}`);
    throw new Error(`-http ${options.listen}: ${(e as Error).message}`);
  }
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const urlHost = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    address,
    url: `http://${urlHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ ...(host !== '' && { host }), port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HealthServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  const route = path !== undefined && Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (!route) return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /readyz or /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  await route(res, options, new URLSearchParams((req.url ?? '').split('?')[1] ?? ''));
}

const ROUTES: Record<string, (res: ServerResponse, options: HealthServerOptions, query: URLSearchParams) => Promise<void>> = {
  '/healthz': async (res: ServerResponse) => send(res, 200, 'text/plain; charset=utf-8', 'ok\n'),
  '/readyz': async (res: ServerResponse, options: HealthServerOptions, query: URLSearchParams) => {
    const strict = options.strict === true || (query.has('strict') && query.get('strict') !== 'false' && query.get('strict') !== '0');
    let verdict: ReadinessVerdict;
    let state: Readiness | undefined;
    try {
      state = options.readiness();
      verdict = evaluateReadiness(state, strict);
    } catch (error) {
      verdict = { ready: false, reasons: [`readiness check failed: ${errorMessage(error)}`], stale: false };
    }
    const body = {
      ready: verdict.ready,
      reasons: verdict.reasons,
      ...(verdict.warnings && { warnings: verdict.warnings }),
      ...(state && {
        stale: verdict.stale,
        strict,
        backendReachable: backendAnswers(state),
        mirrorInSync: state.mirrorInSync,
        mirrorAgeSeconds: state.mirrorAgeMs === null ? null : state.mirrorAgeMs / 1000,
        staleAfterSeconds: state.staleAfterMs / 1000,
        resourcesNeverRendered: state.resourcesNeverRendered,
        writesFailing: state.writesFailing ?? [],
        ...(state.exec && { exec: state.exec }),
      }),
    };
    send(res, verdict.ready ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
  },
  '/metrics': async (res: ServerResponse, options: HealthServerOptions) => {
    try {
      const verdict = evaluateReadiness(options.readiness(), options.strict === true);
      options.metrics.readiness(verdict.ready, verdict.stale);
    } catch {
      options.metrics.readiness(false, false);
    }
    const text = await options.metrics.text();
    send(res, 200, options.metrics.contentType, text);
  },
};

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
