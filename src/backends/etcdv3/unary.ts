// -onetime's etcd client: the few unary gRPC calls a one-shot read needs (Range, Txn of Ranges,
// Auth.Authenticate), made over node:http2 with range-codec.ts. Loading etcd3 and grpc-js and
// setting up their channel took ~30 ms of a ~65 ms -onetime run before the first byte went to
// etcd (bench/onetime-profile.md); node:http2 is part of Node. -watch and -interval keep etcd3's
// client (connection.ts): its channels, keep-alives and reconnects serve long-running streams.
//
// The same promises as connection.ts: every -node, TLS from files (or -client-insecure),
// -basic-auth through an Authenticate token (re-authenticated once when etcd forgets it), a
// deadline per request, a member that refuses or drops the connection is left for the next one,
// a member that does not answer within the deadline is left for one other at most, and errors
// explained by the same texts (endpoints.ts), carrying gRPC's "CODE NAME: details" as grpc-js does.
import http2 from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders, IncomingHttpStatusHeader, SecureClientSessionOptions } from 'node:http2';
import type { Backend, Snapshot } from '../types.js';
import {
  basicAuthCredentials,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  explainEtcdError,
  insecureWarning,
  parseNodes,
  readPem,
  type EtcdConnectionOptions,
} from './endpoints.js';
import {
  decodeAuthenticateResponse,
  decodeRangeResponse,
  decodeTxnOfRanges,
  encodeAuthenticateRequest,
  encodeRangeRequest,
  encodeTxnOfRanges,
  type RangePage,
  type RangeSpec,
} from './range-codec.js';
import { readPrefixes, type RangeReader } from './read.js';
import { hostTimers } from '../../time/timers.js';

/** A backend that only reads (what -onetime needs): no etcd3, no watch. */
export async function createEtcdV3ReadBackend(opts: EtcdConnectionOptions): Promise<Backend> {
  const client = new EtcdUnaryClient(opts);
  return {
    name: 'etcdv3',
    getValues(prefixes: readonly string[]): Promise<Snapshot> {
      return readPrefixes(client, prefixes);
    },
    close(): Promise<void> {
      return client.close();
    },
  };
}

// gRPC status codes (grpc/doc/statuscodes.md), by number.
const STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const INTERNAL = 13;
const UNAVAILABLE = 14;

/** A call's gRPC status other than OK; the message reads as grpc-js writes it ("14 UNAVAILABLE: ..."). */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
    this.name = 'GrpcError';
  }
}

// As connection.ts: 100k keys are ~8 MB in one range response; pages stay far below this.
const MAX_RECEIVE_BYTES = 256 * 1024 * 1024;
// Flow-control windows: with HTTP/2's default 64 KB, a 4 MB page would wait for ~60 window updates.
const STREAM_WINDOW_BYTES = 16 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 64 * 1024 * 1024;
const INVALID_AUTH_TOKEN = /etcdserver: invalid auth token/;

interface Member {
  /** http://host:port or https://host:port, as http2.connect takes it. */
  readonly authority: string;
  readonly address: string;
  readonly tls: boolean;
  /** Resolves once the session is connected; undefined when none is open or opening. */
  session: Promise<ClientHttp2Session> | undefined;
}

export class EtcdUnaryClient implements RangeReader {
  readonly endpoints: readonly string[];
  readonly dialTimeoutMs: number;
  readonly requestTimeoutMs: number;
  private readonly members: Member[];
  private readonly sessionOptions: SecureClientSessionOptions;
  private readonly auth: { username: string; password: string } | undefined;
  private token: Promise<string> | undefined;
  /** The member the next call goes to first: the one that answered last. */
  private preferred = 0;
  private closed = false;

  constructor(opts: EtcdConnectionOptions) {
    const parsed = parseNodes(opts);
    this.endpoints = [...opts.nodes];
    this.dialTimeoutMs = opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // In a random order, as etcd3 picks members: a fleet started at once spreads its reads.
    this.members = parsed.map((p) => ({ authority: `${p.tls ? 'https' : 'http'}://${p.address}`, address: p.address, tls: p.tls, session: undefined }));
    for (let i = this.members.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [this.members[i], this.members[j]] = [this.members[j]!, this.members[i]!];
    }
    this.sessionOptions = {
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW_BYTES },
      maxSessionMemory: 64,
    };
    if (parsed[0]!.tls) {
      // An empty CA means the system's roots, as Go's tls.Config with no RootCAs.
      if (opts.clientCaKeys) this.sessionOptions.ca = readPem('-client-ca-keys', opts.clientCaKeys);
      if (opts.clientCert) this.sessionOptions.cert = readPem('-client-cert', opts.clientCert);
      if (opts.clientKey) this.sessionOptions.key = readPem('-client-key', opts.clientKey);
      if (opts.clientInsecure) {
        // Go's InsecureSkipVerify: neither the chain nor the name is checked.
        this.sessionOptions.rejectUnauthorized = false;
        this.sessionOptions.checkServerIdentity = () => undefined;
        opts.logger?.warning(insecureWarning(this.endpoints));
      }
    }
    this.auth = basicAuthCredentials(opts);
  }

  rangePage(spec: RangeSpec): Promise<RangePage> {
    return this.call('/etcdserverpb.KV/Range', encodeRangeRequest(spec), decodeRangeResponse);
  }

  /** Several ranges in one Txn: one round trip, at one revision, answers in request order. */
  rangePages(specs: readonly RangeSpec[]): Promise<RangePage[]> {
    return this.call('/etcdserverpb.KV/Txn', encodeTxnOfRanges(specs), decodeTxnOfRanges);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const m of this.members) {
      m.session?.then(closeSession, () => undefined);
      m.session = undefined;
    }
    return Promise.resolve();
  }

  private async call<T>(path: string, request: Buffer, decode: (bytes: Buffer) => T): Promise<T> {
    if (this.closed) throw new Error('etcdv3: the client is closed');
    const n = this.members.length;
    const first = this.preferred;
    let deadlines = 0;
    let lastError: unknown;
    for (let i = 0; i < n; i++) {
      const index = (first + i) % n;
      try {
        const value = await this.callMember(this.members[index]!, path, request, decode);
        this.preferred = index;
        return value;
      } catch (e) {
        lastError = e;
        // Another member may do better only when this one could not be reached or did not answer. A member that
        // takes the connection but does not answer (frozen, stalled disk) answers no better the next time, and
        // neither may the others: one more is tried, no more.
        if (!(e instanceof GrpcError) || (e.code !== UNAVAILABLE && e.code !== DEADLINE_EXCEEDED)) break;
        if (e.code === DEADLINE_EXCEEDED && ++deadlines > 1) break;
      }
    }
    throw explainEtcdError(lastError, this.endpoints, this.requestTimeoutMs);
  }

  private async callMember<T>(member: Member, path: string, request: Buffer, decode: (bytes: Buffer) => T): Promise<T> {
    const deadline = Date.now() + this.requestTimeoutMs;
    const session = await this.connect(member, Math.min(this.dialTimeoutMs, this.requestTimeoutMs));
    const token = await this.authToken(session, deadline);
    let answer: Buffer;
    try {
      answer = await unaryCall(session, path, request, token, deadline);
    } catch (e) {
      // As etcd3: a token the server no longer knows (etcd restarted) is dropped and the call made once more.
      if (token === undefined || !(e instanceof GrpcError) || !INVALID_AUTH_TOKEN.test(e.details)) throw e;
      this.token = undefined;
      answer = await unaryCall(session, path, request, await this.authToken(session, deadline), deadline);
    }
    try {
      return decode(answer);
    } catch (e) {
      throw new GrpcError(INTERNAL, `Response message parsing error: ${(e as Error).message}`);
    }
  }

  /** etcd's auth token for -basic-auth (one per client, shared by every call), or undefined without. */
  private async authToken(session: ClientHttp2Session, deadline: number): Promise<string | undefined> {
    if (!this.auth) return undefined;
    const { username, password } = this.auth;
    const pending = (this.token ??= unaryCall(session, '/etcdserverpb.Auth/Authenticate', encodeAuthenticateRequest(username, password), undefined, deadline).then(
      decodeAuthenticateResponse,
    ));
    try {
      return await pending;
    } catch (e) {
      // The next call (perhaps on another member) asks again.
      if (this.token === pending) this.token = undefined;
      throw e;
    }
  }

  /** The member's session, connected; refused, failed or not connected within `timeoutMs`: UNAVAILABLE. */
  private connect(member: Member, timeoutMs: number): Promise<ClientHttp2Session> {
    if (member.session) return member.session;
    const session = http2.connect(member.authority, this.sessionOptions);
    const connected = new Promise<ClientHttp2Session>((resolve, reject) => {
      const fail = (error: Error) => {
        timer.cancel();
        session.destroy();
        reject(new GrpcError(UNAVAILABLE, `No connection established. Last error: ${String(error)}`));
      };
      const timer = hostTimers.after(timeoutMs, () => {
        const what = member.tls ? 'TLS handshake with' : 'connection to';
        fail(new Error(`${what} ${member.address} not established within ${timeoutMs} ms`));
      });
      session.once('error', fail);
      session.once('connect', () => {
        timer.cancel();
        session.off('error', fail);
        session.setLocalWindowSize(SESSION_WINDOW_BYTES);
        resolve(session);
      });
    });
    // Errors after the connection reach the calls through their streams; a closed session is dialled anew.
    session.on('error', () => undefined);
    session.once('close', () => {
      if (member.session === connected) member.session = undefined;
    });
    member.session = connected;
    return connected;
  }
}

/**
 * Sends GOAWAY and ends the connection once its streams are done. Not awaited: a member that
 * stopped answering never finishes the close, and must not hold the exit.
 */
function closeSession(session: ClientHttp2Session): void {
  if (session.destroyed) return;
  session.close();
  session.unref();
}

/**
 * One unary gRPC call on an open session: the request as one length-prefixed message, the answer's
 * message once the trailers say OK. Rejects with a GrpcError: the server's status, DEADLINE_EXCEEDED
 * when no answer came by `deadline`, UNAVAILABLE when the connection failed under the call.
 */
function unaryCall(session: ClientHttp2Session, path: string, message: Buffer, token: string | undefined, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timeoutMs = Math.max(1, Math.ceil(deadline - Date.now()));
    const headers: Record<string, string> = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'tsconfd',
      // The server gives up too (its unit "m": milliseconds, at most 8 digits).
      'grpc-timeout': `${Math.min(timeoutMs, 99_999_999)}m`,
    };
    if (token !== undefined) headers.token = token;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: false });
    } catch (e) {
      reject(new GrpcError(UNAVAILABLE, `Connection dropped. Last error: ${String(e)}`));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let httpStatus = 0;
    let status: number | undefined;
    let details = '';
    let done = false;
    const finish = (error: GrpcError | undefined) => {
      if (done) return;
      done = true;
      timer.cancel();
      if (error) {
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(error);
        return;
      }
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      if (body.length < 5) return reject(new GrpcError(INTERNAL, 'the server answered OK without a message'));
      if (body[0] !== 0) return reject(new GrpcError(INTERNAL, 'received a compressed message, but no compression was negotiated'));
      const length = body.readUInt32BE(1);
      if (body.length !== 5 + length) return reject(new GrpcError(INTERNAL, `received ${body.length - 5} bytes for a message of ${length}`));
      resolve(body.subarray(5));
    };
    const timer = hostTimers.after(timeoutMs, () => finish(new GrpcError(DEADLINE_EXCEEDED, 'Deadline exceeded')));
    const takeStatus = (h: IncomingHttpHeaders) => {
      const code = h['grpc-status'];
      if (code === undefined) return;
      status = Number(code);
      details = decodeGrpcMessage(h['grpc-message']);
    };
    stream.on('response', (h: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
      httpStatus = Number(h[':status']);
      // A "trailers-only" answer (most errors) carries the status in its headers.
      takeStatus(h);
    });
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_RECEIVE_BYTES) finish(new GrpcError(RESOURCE_EXHAUSTED, `Received message larger than max (${received} vs. ${MAX_RECEIVE_BYTES})`));
      else chunks.push(chunk);
    });
    stream.on('trailers', takeStatus);
    stream.on('error', (e: Error) => finish(new GrpcError(UNAVAILABLE, `${httpStatus ? 'Connection dropped' : 'No connection established'}. Last error: ${String(e)}`)));
    stream.on('close', () => {
      if (status === 0) finish(undefined);
      else if (status !== undefined) finish(new GrpcError(status, details));
      else if (httpStatus !== 0 && httpStatus !== 200) finish(new GrpcError(statusOfHttp(httpStatus), `Received HTTP status code ${httpStatus}`));
      // Closed without a status (GOAWAY, RST_STREAM, a TLS port spoken to in plain HTTP/2): a read may be made again elsewhere.
      else if (httpStatus === 0) finish(new GrpcError(UNAVAILABLE, 'No connection established. Last error: the connection closed before an answer'));
      else finish(new GrpcError(UNAVAILABLE, `Connection dropped. Last error: the stream closed without a status (RST_STREAM code ${stream.rstCode ?? 'none'})`));
    });
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.end(frame);
  });
}

/** grpc-message is percent-encoded (gRPC over HTTP2: PROTOCOL-HTTP2.md). */
function decodeGrpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The status of an HTTP answer without a gRPC status, as grpc-js maps it. */
function statusOfHttp(code: number): number {
  switch (code) {
    case 400:
      return INTERNAL;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return UNAVAILABLE;
    default:
      return 2;
  }
}
