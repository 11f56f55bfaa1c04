// One etcd3 client for the whole process, set up the way confd sets up clientv3: every -node,
// TLS from files (-client-ca-keys, -client-cert, -client-key), optional skip of server
// verification (-client-insecure), and etcd user/password auth. The reads (Range and Txn, with
// our own codec: range-codec.ts) and the watch (the Watch stream) go through etcd3's connection
// pool so that we, not etcd3, decide paging, revisions and watch resumption.
import { isIP } from 'node:net';
import etcd3 from 'etcd3';
import type { Etcd3, IOptions } from 'etcd3';
import { maskUserinfo, type Logger } from '../../log.js';
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
import { decodeRangeResponse, decodeTxnOfRanges, encodeRangeRequest, encodeTxnOfRanges, type RangePage, type RangeSpec } from './range-codec.js';

// 100k keys are ~8 MB in one range response; pages stay below this even with large values.
const MAX_RECEIVE_BYTES = 256 * 1024 * 1024;

/** The internals of etcd3 1.1.2 we reach into; kept in one place and checked at run time. */
interface PoolInternals {
  hosts: Array<{ channelCredentials?: { verifyOptions?: Record<string, unknown> } }>;
  authenticator?: { credentials?: { verifyOptions?: Record<string, unknown> }; invalidateMetadata?: () => void };
  withConnection(
    service: string,
    fn: (args: { resource: unknown; client: Record<string, (...args: unknown[]) => unknown>; metadata: MetadataLike }) => unknown,
  ): Promise<unknown>;
  markFailed(resource: unknown, error: Error): void;
  /** etcd3's retry policy for unary calls (cockatiel: recoverable errors, 3 attempts). */
  globalPolicy: { execute<T>(fn: () => Promise<T>): Promise<T> };
}

/** The grpc-js Client method behind every generated unary call. */
type MakeUnaryRequest = (
  path: string,
  serialize: (value: Buffer) => Buffer,
  deserialize: (bytes: Buffer) => unknown,
  argument: Buffer,
  metadata: MetadataLike,
  options: { deadline: number },
  callback: (error: Error | null, value?: unknown) => void,
) => unknown;

/** grpc-js Metadata, as much of it as we use. */
export interface MetadataLike {
  clone(): MetadataLike;
  set(key: string, value: string): void;
}

export class EtcdConnection {
  readonly endpoints: readonly string[];
  readonly client: Etcd3;
  readonly dialTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger | undefined;
  private closed = false;
  /** The newest store seen by a completed read (replaced, never mutated: requests keep the one they started with). */
  private store: StoreSeen | undefined;
  private readonly storeListeners = new Set<(revision: number) => void>();

  constructor(opts: EtcdConnectionOptions) {
    this.logger = opts.logger;
    this.dialTimeoutMs = opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.endpoints = [...opts.nodes];

    const parsed = parseNodes(opts);
    const anyTls = parsed.some((p) => p.tls);

    const options: IOptions = {
      // etcd3 picks https by the scheme, so hand it the scheme we decided on.
      hosts: parsed.map((p) => `${p.tls ? 'https' : 'http'}://${p.address}`),
      grpcOptions: {
        'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
        // confd's DialKeepAliveTime/Timeout: notice a dead member on an idle watch stream.
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 3_000,
        'grpc.keepalive_permit_without_calls': 1,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2_000,
      },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + this.requestTimeoutMs }),
    };
    if (anyTls && (opts.clientCaKeys || opts.clientCert)) {
      options.credentials = {
        // An empty CA means the system's roots, as Go's tls.Config with no RootCAs.
        rootCertificate: opts.clientCaKeys ? readPem('-client-ca-keys', opts.clientCaKeys) : (undefined as unknown as Buffer),
        certChain: opts.clientCert ? readPem('-client-cert', opts.clientCert) : undefined,
        privateKey: opts.clientKey ? readPem('-client-key', opts.clientKey) : undefined,
      };
    }
    const auth = basicAuthCredentials(opts);
    if (auth) options.auth = auth;
    this.client = new etcd3.Etcd3(options);
    if (anyTls) this.omitIpServername();
    if (anyTls && opts.clientInsecure) {
      this.skipServerVerification();
      this.logger?.warning(insecureWarning(this.endpoints));
    }
  }

  /** The credentials objects every channel (and the Authenticate call of -basic-auth) connects with. */
  private channelCredentials(): Array<Record<string, unknown>> {
    const pool = this.pool;
    const all = new Set<Record<string, unknown>>();
    for (const host of pool.hosts) if (host.channelCredentials) all.add(host.channelCredentials as Record<string, unknown>);
    if (pool.authenticator?.credentials) all.add(pool.authenticator.credentials as Record<string, unknown>);
    return [...all];
  }

  /**
   * grpc-js sends the node's host as the TLS server name even when it is an IP address, which RFC 6066
   * forbids and Node answers with a raw DEP0123 warning on stderr. Without a server name Node checks the
   * certificate against the IP itself (its IP SANs), as Go does, so the name is dropped for IP hosts.
   */
  private omitIpServername(): void {
    for (const credentials of this.channelCredentials()) {
      const create = credentials._createSecureConnector;
      if (typeof create !== 'function') continue;
      credentials._createSecureConnector = function (this: unknown, ...args: unknown[]) {
        const connector = (create as (...a: unknown[]) => { connectionOptions?: { servername?: string } }).apply(this, args);
        const options = connector?.connectionOptions;
        if (options && typeof options.servername === 'string' && isIP(options.servername) !== 0) delete options.servername;
        return connector;
      };
    }
  }

  private get pool(): PoolInternals {
    return (this.client as unknown as { pool: PoolInternals }).pool;
  }

  /**
   * etcd3 builds its grpc credentials without verify options; -client-insecure needs Go's
   * InsecureSkipVerify, so relax the (shared, still unused) credentials before any channel exists.
   */
  private skipServerVerification(): void {
    const pool = this.pool;
    const targets = new Set<Record<string, unknown>>();
    for (const host of pool.hosts) if (host.channelCredentials?.verifyOptions) targets.add(host.channelCredentials.verifyOptions);
    if (pool.authenticator?.credentials?.verifyOptions) targets.add(pool.authenticator.credentials.verifyOptions);
    if (targets.size === 0) throw new Error('etcdv3: cannot apply -client-insecure to this etcd3 version');
    for (const verify of targets) {
      verify.rejectUnauthorized = false;
      verify.checkServerIdentity = () => undefined;
    }
  }

  /**
   * One Range RPC, answered as our KeyValue objects (range-codec.ts instead of etcd3's protobufjs
   * codec), through etcd3's pool: its member choice and failover, auth token and retry policy,
   * as etcd3's own kv.range gets them. Errors say which cluster failed and why.
   */
  async rangePage(spec: RangeSpec): Promise<RangePage> {
    const floor = this.store;
    const page = await this.unary('Range', encodeRangeRequest(spec), decodeRangeResponse);
    this.observeStore(page, floor);
    return page;
  }

  /** Several ranges in one Txn: one round trip, at one revision, answers in request order. */
  async rangePages(specs: readonly RangeSpec[]): Promise<RangePage[]> {
    const floor = this.store;
    const pages = await this.unary('Txn', encodeTxnOfRanges(specs), decodeTxnOfRanges);
    if (pages[0]) this.observeStore(pages[0], floor);
    return pages;
  }

  /**
   * Calls `listener` with the store's new revision whenever a read shows that the cluster behind the
   * endpoints is not the store read before: etcd rebuilt empty or restored from an older backup.
   */
  onStoreReplaced(listener: (revision: number) => void): () => void {
    this.storeListeners.add(listener);
    return () => this.storeListeners.delete(listener);
  }

  /**
   * The only evidence of a replaced store that a proxy cannot fake: a linearizable read's header
   * revision below one a read that had completed before this one was sent already saw (revisions
   * never go back in one store), or another cluster id. Watch headers are no evidence: etcd's
   * grpc-proxy answers from its own broadcasts and fills headers in itself. The floor is taken when
   * the request is sent, so reads overlapping each other never look like a step back.
   */
  private observeStore(page: RangePage, floor: StoreSeen | undefined): void {
    if (page.revision <= 0) return;
    const known = this.store;
    if (!known) {
      this.store = { clusterId: page.clusterId, revision: page.revision };
      return;
    }
    const otherCluster = page.clusterId !== '' && known.clusterId !== '' && page.clusterId !== known.clusterId;
    const wentBack = floor !== undefined && page.clusterId === floor.clusterId && page.revision < floor.revision;
    if (otherCluster || wentBack) {
      this.store = { clusterId: page.clusterId, revision: page.revision };
      this.logger?.warning(
        `etcd at ${maskUserinfo(this.endpoints.join(', '))} is not the store read before (${
          otherCluster ? `cluster id ${known.clusterId}, now ${page.clusterId}` : `revision ${page.revision}, below revision ${floor!.revision} already read`
        }): etcd rebuilt or restored from a backup; watches from older revisions re-read`,
      );
      for (const listener of this.storeListeners) listener(page.revision);
      return;
    }
    if (page.revision > known.revision) this.store = { clusterId: known.clusterId || page.clusterId, revision: page.revision };
  }

  private async unary<T>(method: 'Range' | 'Txn', request: Buffer, decode: (bytes: Buffer) => T): Promise<T> {
    const pool = this.pool;
    /** The last error a member gave: what the operator needs, rather than the circuit breaker's own error. */
    let lastError: unknown;
    let deadlines = 0;
    const call = (): Promise<T> =>
      pool.withConnection('KV', ({ client, metadata }) => {
        const makeUnaryRequest = client.makeUnaryRequest as unknown as MakeUnaryRequest;
        return new Promise<T>((resolve, reject) => {
          makeUnaryRequest.call(
            client,
            `/etcdserverpb.KV/${method}`,
            (bytes) => bytes,
            decode,
            request,
            metadata,
            { deadline: Date.now() + this.requestTimeoutMs },
            (error, value) => (error ? reject(etcd3.castGrpcError(error)) : resolve(value as T)),
          );
        });
      }) as Promise<T>;
    try {
      return await pool.globalPolicy.execute(async () => {
        try {
          try {
            return await call();
          } catch (e) {
            // As etcd3's exec: a token the server no longer knows (etcd restarted) is dropped and the call made once more.
            if (!(e instanceof etcd3.EtcdInvalidAuthTokenError)) throw e;
            this.forgetAuthToken();
            return await call();
          }
        } catch (e) {
          // The breaker's refusal says nothing of the cause: keep the member's error before it. Nor does grpc's
          // "Last error: null" (a channel that found the shared subchannel already failed, e.g. the Authenticate
          // call of -basic-auth after a TLS handshake failure): keep the error that named the cause.
          if (!isBrokenCircuit(e) && !(lastError !== undefined && hidesCause(e))) lastError = e;
          // A member that takes the connection but does not answer (frozen, stalled disk) answers no better the
          // next time: another member may be tried once, the only one never again (3 attempts were 45 s).
          if (e instanceof etcd3.GRPCDeadlineExceededError && (++deadlines > 1 || pool.hosts.length === 1)) throw new FinalError(e);
          throw e;
        }
      });
    } catch (e) {
      const cause = e instanceof FinalError ? e.error : (isBrokenCircuit(e) || hidesCause(e)) && lastError !== undefined ? lastError : e;
      throw this.explain(cause);
    }
  }

  /**
   * Opens a bidirectional Watch stream on some member (etcd3 picks one that answers), with
   * require-leader metadata so a member cut off from the quorum ends the stream instead of
   * keeping it silently open.
   */
  async openWatchStream(): Promise<{ stream: WatchDuplex; markFailed: (error: Error) => void; serverVersion: () => Promise<string> }> {
    const pool = this.pool;
    let chosen: unknown;
    let auth: MetadataLike | undefined;
    const stream = (await pool.withConnection('Watch', ({ resource, client, metadata }) => {
      chosen = resource;
      auth = metadata;
      const md = metadata.clone();
      md.set('hasleader', 'true');
      return client.watch!(md, {});
    })) as WatchDuplex;
    // The version of the server this stream talks to: Maintenance Status on the same host (and channel).
    const serverVersion = () =>
      new Promise<string>((resolve, reject) => {
        const host = chosen as { getServiceClient?: (name: string) => Record<string, (...args: unknown[]) => unknown> };
        if (typeof host.getServiceClient !== 'function' || !auth) return reject(new Error('etcd3 internals changed: no per-host client'));
        const client = host.getServiceClient('Maintenance');
        client.status!.call(client, {}, auth, { deadline: Date.now() + this.requestTimeoutMs }, (error: Error | null, answer?: { version?: string }) =>
          error ? reject(error) : resolve(String(answer?.version ?? '')),
        );
      });
    return { stream, markFailed: (error) => pool.markFailed(chosen, error), serverVersion };
  }

  /**
   * etcd3 caches the auth token and renews it only for unary calls; a restarted etcd forgets
   * every token, so a watch stream refused for its token must drop the cached one.
   */
  forgetAuthToken(): void {
    this.pool.authenticator?.invalidateMetadata?.();
  }

  /** Turns grpc/etcd3 errors into messages that name the endpoints and the likely cause. */
  explain(e: unknown): Error {
    return explainEtcdError(e, this.endpoints, this.requestTimeoutMs, e instanceof etcd3.GRPCDeadlineExceededError);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}

interface StoreSeen {
  readonly clusterId: string;
  readonly revision: number;
}

/** Ends etcd3's retry policy (which retries only its recoverable errors) and carries the member's error. */
class FinalError extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

/** grpc-js's UNAVAILABLE from a channel that saw no connection attempt of its own fail. */
function hidesCause(e: unknown): boolean {
  return e instanceof Error && e.message.includes('Last error: null');
}

/** cockatiel's BrokenCircuitError (etcd3's per-member circuit breaker refused the call without trying it). */
function isBrokenCircuit(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { isBrokenCircuitError?: unknown }).isBrokenCircuitError === true;
}

export { EtcdError, parseNode, type EtcdConnectionOptions, type ParsedNode } from './endpoints.js';

/** The grpc-js ClientDuplexStream of etcd's Watch RPC, as much of it as we use. */
export interface WatchDuplex {
  write(request: unknown): boolean;
  end(): void;
  cancel(): void;
  on(event: 'data', listener: (response: unknown) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  removeAllListeners(): this;
}
