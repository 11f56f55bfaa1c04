// One ZooKeeper session over every -node (host:port, several allowed), as confd keeps one.
// node-zookeeper-client reconnects by itself and, within the session, re-sets its watches; a
// session the server expired cannot come back, so a new client (a new session) replaces it.
// Listeners hear of each: a reconnect or a new session means "read everything again".
import type { Client, Exception, Stat, Watcher } from 'node-zookeeper-client';
import type { Logger } from '../../log.js';
import { hostTimers, type Timer, type TimerSource } from '../../time/timers.js';

type ZkModule = typeof import('node-zookeeper-client');

/** confd asks for 1 s; ZooKeeper raises it to its minSessionTimeout (2 ticks: 4 s by default). */
const SESSION_TIMEOUT_MS = 4_000;
/** Between connection attempts (the client's default is 1 s). */
const SPIN_DELAY_MS = 200;
/** How long a read waits for a session before it fails (-onetime against a dead server). */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * Disconnected this long, the session is given up for a new one. A server rebuilt from empty data
 * refuses a client that has seen a newer transaction than it has ("client has seen zxid ...") and
 * never tells it the session expired, so the client would retry for ever (confd's client too).
 */
const GIVE_UP_SESSION_MS = 2 * SESSION_TIMEOUT_MS;

export type SessionEvent = 'disconnected' | 'reconnected' | 'expired';

export class ZkSession {
  private client: Client;
  private connected = false;
  private waiters: Array<() => void> = [];
  private readonly listeners = new Set<(event: SessionEvent) => void>();
  private closed = false;
  private everConnected = false;
  private giveUpTimer: Timer | undefined;

  constructor(
    private readonly zk: ZkModule,
    private readonly servers: string,
    private readonly log?: Logger,
    /** The runtime's scheduler; the feeds on this session use it too. */
    readonly timers: TimerSource = hostTimers,
  ) {
    this.client = this.open();
  }

  private open(): Client {
    const client = this.zk.createClient(this.servers, { sessionTimeout: SESSION_TIMEOUT_MS, spinDelay: SPIN_DELAY_MS, retries: 0 });
    client.on('state', (state: { getName(): string }) => {
      if (this.client !== client || this.closed) return;
      const name = state.getName();
      if (name === 'SYNC_CONNECTED' || name === 'CONNECTED_READ_ONLY') {
        this.giveUpTimer?.cancel();
        this.giveUpTimer = undefined;
        const first = !this.everConnected;
        this.connected = true;
        this.everConnected = true;
        for (const w of this.waiters.splice(0)) w();
        if (!first) {
          this.log?.info(`zookeeper: connected to ${this.servers} again`);
          this.tell('reconnected');
        }
      } else if (name === 'DISCONNECTED') {
        this.connected = false;
        this.log?.error(`zookeeper: disconnected from ${this.servers}; reconnecting`);
        this.tell('disconnected');
        this.giveUpTimer?.cancel();
        this.giveUpTimer = this.timers.after(GIVE_UP_SESSION_MS, () => {
          if (this.client !== client || this.closed || this.connected) return;
          this.log?.error(`zookeeper: no session for ${GIVE_UP_SESSION_MS / 1000} s (a rebuilt server refuses the old one); starting a new session`);
          this.renew(client);
        });
      } else if (name === 'EXPIRED') {
        this.connected = false;
        this.log?.error('zookeeper: the session expired (its watches are gone); starting a new session');
        this.renew(client);
      } else if (name === 'AUTH_FAILED') {
        this.log?.error(`zookeeper: authentication failed on ${this.servers}`);
      }
    });
    client.connect();
    return client;
  }

  /** A new client, a new session: no watches survive, so listeners read everything again. */
  private renew(old: Client): void {
    this.giveUpTimer?.cancel();
    this.giveUpTimer = undefined;
    old.close();
    this.client = this.open();
    this.tell('expired');
  }

  private tell(event: SessionEvent): void {
    for (const l of this.listeners) l(event);
  }

  onEvent(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Resolves once a session is live; fails after CONNECT_TIMEOUT_MS. */
  ready(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('zookeeper: the backend is closed'));
    return new Promise((resolve, reject) => {
      const timer = this.timers.after(CONNECT_TIMEOUT_MS, () => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error(`zookeeper: cannot connect to ${this.servers} within ${CONNECT_TIMEOUT_MS / 1000} s`));
      });
      const done = () => {
        timer.cancel();
        resolve();
      };
      this.waiters.push(done);
    });
  }

  getChildren(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: Stat }> {
    return new Promise((resolve, reject) =>
      this.client.getChildren(path, watcher, (error, children, stat) => (error ? reject(zkError(error, path)) : resolve({ children, stat }))),
    );
  }

  getData(path: string, watcher?: Watcher): Promise<string> {
    return new Promise((resolve, reject) =>
      this.client.getData(path, watcher, (error, data) => (error ? reject(zkError(error, path)) : resolve(data ? data.toString('utf8') : ''))),
    );
  }

  /** A znode's data and how many children it has (one request: a leaf needs no getChildren). */
  getNode(path: string): Promise<{ data: string; children: number }> {
    return new Promise((resolve, reject) =>
      this.client.getData(path, undefined, (error, data, stat) =>
        error ? reject(zkError(error, path)) : resolve({ data: data ? data.toString('utf8') : '', children: stat.numChildren }),
      ),
    );
  }

  exists(path: string, watcher?: Watcher): Promise<Stat | null> {
    return new Promise((resolve, reject) => this.client.exists(path, watcher, (error, stat) => (error ? reject(zkError(error, path)) : resolve(stat))));
  }

  close(): void {
    this.closed = true;
    this.giveUpTimer?.cancel();
    this.connected = false;
    this.listeners.clear();
    this.client.close();
  }
}

/** A ZooKeeper error that says which node; `noNode` for the one a missing key gives. */
export class ZkError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly noNode: boolean,
  ) {
    super(message);
  }
}

function zkError(e: Exception, path: string): ZkError {
  const noNode = e.getCode() === -101;
  return new ZkError(noNode ? `zookeeper: node does not exist: ${path}` : `zookeeper: ${path}: ${e.getName()}`, path, noNode);
}
