// What etcd's two clients share (connection.ts: etcd3 for -watch and -interval; unary.ts: node:http2
// for -onetime): the options as confd takes them, how -node and the TLS files are read, and how a
// failure is put to the operator. Loading this module loads no gRPC library.
import { readFileSync } from 'node:fs';
import { maskUserinfo, type Logger } from '../../log.js';

export interface EtcdConnectionOptions {
  /** As confd takes them: http://host:port, https://host:port or bare host:port. */
  nodes: readonly string[];
  /** PEM file of the CA that signed the servers' certificates. Empty: none. */
  clientCaKeys?: string;
  clientCert?: string;
  clientKey?: string;
  /** Skip verification of the server's certificate (confd's -client-insecure). */
  clientInsecure?: boolean;
  /** confd uses -username/-password only with -basic-auth. */
  basicAuth?: boolean;
  username?: string;
  password?: string;
  /** How long to wait for a member to answer before trying another (confd: 5 s). */
  dialTimeoutMs?: number;
  /** Deadline of one read request (one page). */
  requestTimeoutMs?: number;
  logger?: Logger;
}

export const DEFAULT_DIAL_TIMEOUT_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export interface ParsedNode {
  /** host:port as grpc dials it. */
  address: string;
  tls: boolean;
}

/** Parses one -node the way confd accepts it. */
export function parseNode(node: string, tlsFiles: boolean): ParsedNode {
  const text = node.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme) {
    const protocol = scheme[1]!.toLowerCase();
    if (protocol !== 'http' && protocol !== 'https') {
      throw new Error(`invalid -node ${JSON.stringify(maskUserinfo(node))}: scheme must be http or https`);
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`invalid -node ${JSON.stringify(maskUserinfo(node))}: not a URL`);
    }
    const port = url.port || (protocol === 'https' ? '443' : '80');
    return { address: `${url.hostname}:${port}`, tls: protocol === 'https' || tlsFiles };
  }
  // No user:password@ here: it is not a host, and as one it would reach gRPC's errors (and the log) whole.
  if (!/^[^/\s@]+:\d+$/.test(text)) {
    throw new Error(`invalid -node ${JSON.stringify(maskUserinfo(node))}: expected http://host:port, https://host:port or host:port`);
  }
  return { address: text, tls: tlsFiles };
}

/** Every -node parsed, all with one scheme; TLS when a node says https or any TLS file is given (as confd). */
export function parseNodes(opts: EtcdConnectionOptions): ParsedNode[] {
  if (opts.nodes.length === 0) throw new Error('etcdv3: no -node given');
  const tlsFiles = Boolean(opts.clientCaKeys || opts.clientCert || opts.clientKey);
  const parsed = opts.nodes.map((n) => parseNode(n, tlsFiles));
  if (parsed.some((p) => p.tls) && parsed.some((p) => !p.tls)) {
    throw new Error(`etcdv3: -node mixes http and https endpoints (${maskUserinfo(opts.nodes.join(', '))}); use one scheme`);
  }
  if (Boolean(opts.clientCert) !== Boolean(opts.clientKey)) {
    throw new Error('etcdv3: -client-cert and -client-key must be given together');
  }
  return parsed;
}

export function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The user and password to authenticate with: only with -basic-auth, as confd (which says nothing; we warn). */
export function basicAuthCredentials(opts: EtcdConnectionOptions): { username: string; password: string } | undefined {
  if (opts.basicAuth && opts.username) return { username: opts.username, password: opts.password ?? '' };
  if (opts.username) opts.logger?.warning('etcdv3: -username is ignored without -basic-auth (as in confd)');
  return undefined;
}

/** Said once per run when -client-insecure turns server verification off. */
export function insecureWarning(endpoints: readonly string[]): string {
  return `etcdv3: -client-insecure: the certificate of ${maskUserinfo(endpoints.join(', '))} is not verified; anyone on the network path can pose as etcd`;
}

export class EtcdError extends Error {
  override readonly cause: Error;
  constructor(message: string, cause: Error) {
    super(message);
    this.name = 'EtcdError';
    this.cause = cause;
  }
}

/**
 * Turns a gRPC failure ("14 UNAVAILABLE: ...", "4 DEADLINE_EXCEEDED: ...", etcd's own texts) into
 * a message that names the endpoints and the likely cause.
 */
export function explainEtcdError(e: unknown, endpoints: readonly string[], requestTimeoutMs: number, deadlineExceeded = false): EtcdError {
  const error = e instanceof Error ? e : new Error(String(e));
  // A -node URL may carry user:password; grpc may repeat the address in its text.
  const text = maskUserinfo(error.message);
  const where = maskUserinfo(endpoints.join(', '));
  if (/certificate|self[- ]signed|SSL|TLS|handshake|wrong version number/i.test(text)) {
    return new EtcdError(
      `etcd TLS handshake failed with ${where}: ${text} (is -client-ca-keys the CA that signed the server certificate, and are -client-cert/-client-key accepted by the cluster?)`,
      error,
    );
  }
  if (deadlineExceeded || /DEADLINE_EXCEEDED/.test(text)) {
    return new EtcdError(`etcd at ${where} did not answer within ${requestTimeoutMs} ms (deadline exceeded): is the member stopped or stalled?`, error);
  }
  if (/UNAVAILABLE|ECONNREFUSED|No connection established|connect/i.test(text)) {
    return new EtcdError(`etcd cluster unreachable at ${where}: ${text}`, error);
  }
  if (/authentication failed|invalid auth token|user name is empty|permission denied/i.test(text)) {
    return new EtcdError(`etcd refused the credentials (${where}): ${text}`, error);
  }
  return new EtcdError(`etcd request to ${where} failed: ${text}`, error);
}
