// -watch with ZooKeeper. confd sets a child watch on the prefix and on every directory down to each
// key, and a data watch on each key; the first event makes it read and watch the whole prefix
// again (ZooKeeper watches fire once). Here each watched prefix keeps the shape of its tree
// (children of every znode, no values) with a child watch on every znode and a data watch on every
// leaf, and an event re-reads only what it names: a data change re-reads that leaf (and re-arms
// its watch), a children change re-lists that znode, walks the children that appeared and drops
// those that went. The keys that gives are those a full read would give (a znode with children
// never has a value of its own); a full walk of a medium tree (1,000 leaves) took 70-300 ms here
// on a loaded machine, one leaf ~1 ms.
// A reconnect (the client re-sets its watches) or an expired session (a new one has none) reads
// and watches everything again.
import type { Event, Watcher } from 'node-zookeeper-client';
import type { Logger } from '../../log.js';
import { compareByKey, stripWildcard } from '../../keys/index.js';
import type { Timer } from '../../time/timers.js';
import { RereadLoop } from '../reread-loop.js';
import type { ChangeFeedHandlers, KeyChange, KeyValue, PrefixWatch } from '../types.js';
import { childPath } from './read.js';
import { ZkError, type SessionEvent, type ZkSession } from './session.js';

const NODE_CREATED = 1;
const NODE_DELETED = 2;
const NODE_DATA_CHANGED = 3;
const NODE_CHILDREN_CHANGED = 4;

/**
 * A znode whose last child went becomes a leaf whose data (usually empty) is a value, by confd's
 * walk. A recursive delete passes through that state for a moment (children first, then the
 * znode): reading its data this much later sees the delete instead of rendering from it.
 */
const EMPTIED_SETTLE_MS = 100;

export class ZkFeed {
  private readonly key: string;
  /** Children of every znode read, sorted; [] for a leaf (whose data is a value). */
  private readonly tree = new Map<string, string[]>();
  /** One function for every watch: the client registers it once per znode and kind. */
  private readonly watcher: Watcher = (event) => this.event(event);
  private fullPending = true;
  private readonly childrenPending = new Set<string>();
  private readonly dataPending = new Set<string>();
  private readonly reads: RereadLoop;
  /** The key did not exist at the last full read (said once). */
  private missing = false;
  private readonly unlisten: () => void;
  private readonly settleTimers = new Set<Timer>();

  constructor(
    prefix: string,
    readonly handlers: ChangeFeedHandlers,
    private readonly zk: ZkSession,
    private readonly log?: Logger,
  ) {
    this.key = stripWildcard(prefix);
    this.reads = new RereadLoop({
      name: `zookeeper: watching ${this.key}`,
      handlers,
      log,
      timers: zk.timers,
      retry: { minMs: 200, maxMs: 5_000 },
      marked: () => this.fullPending || this.childrenPending.size > 0 || this.dataPending.size > 0,
      read: () => this.read(),
      failed: () => (this.fullPending = true),
    });
    this.unlisten = zk.onEvent((e) => this.session(e));
    void this.run();
  }

  private get closed(): boolean {
    return this.reads.closed;
  }

  private run(): Promise<void> {
    return this.reads.run();
  }

  private session(e: SessionEvent): void {
    if (e === 'disconnected') {
      this.handlers.onConnection(new Error('zookeeper: disconnected'));
      return;
    }
    // Reconnected (watches re-set by the client, but events may have been missed) or a new
    // session (no watches at all): read and watch everything again.
    if (e === 'expired') this.tree.clear();
    this.fullPending = true;
    void this.run();
  }

  private event(e: Event): void {
    if (this.closed) return;
    const path = e.getPath();
    switch (e.getType()) {
      case NODE_CREATED:
      case NODE_DELETED:
        // Below the key, the parent's children watch tells the same.
        if (path === this.key) this.fullPending = true;
        break;
      case NODE_DATA_CHANGED:
        this.dataPending.add(path);
        break;
      case NODE_CHILDREN_CHANGED:
        this.childrenPending.add(path);
        break;
      default:
        return;
    }
    void this.run();
  }

  /** Reads and watches the whole key when that is marked, else re-lists and re-reads what the events named. */
  private async read(): Promise<() => void> {
    if (this.fullPending) {
      this.fullPending = false;
      this.childrenPending.clear();
      this.dataPending.clear();
      const kvs = await this.readAll();
      return () => {
        if (kvs === undefined) {
          if (!this.missing) this.log?.error(`zookeeper: node does not exist: ${this.key}; resources naming it keep their files until it exists`);
          this.missing = true;
          this.handlers.onUnreadable(new Error(`zookeeper: node does not exist: ${this.key}`));
          return;
        }
        if (this.missing) this.log?.info(`zookeeper: ${this.key} exists again`);
        this.missing = false;
        this.handlers.onSnapshot(kvs.sort(compareByKey));
      };
    }
    const changes: KeyChange[] = [];
    // Parents before children: a znode dropped with its parent is not re-listed.
    const relist = [...this.childrenPending].sort((a, b) => a.length - b.length);
    this.childrenPending.clear();
    for (const path of relist) await this.relist(path, changes);
    const leaves = [...this.dataPending].filter((p) => this.tree.get(p)?.length === 0);
    this.dataPending.clear();
    await Promise.all(
      leaves.map(async (path) => {
        const value = await this.data(path);
        if (value !== undefined) changes.push({ key: path, value });
      }),
    );
    return () => {
      if (changes.length > 0) this.handlers.onKeys(changes);
    };
  }

  /** Reads and watches the whole key; undefined when it does not exist (then watched for its creation). */
  private async readAll(): Promise<KeyValue[] | undefined> {
    this.tree.clear();
    const out: KeyValue[] = [];
    try {
      await this.walk(this.key, out, true);
    } catch (e) {
      if (!(e instanceof ZkError && e.noNode)) throw e;
      // Created between the failed read and this watch: read again.
      if ((await this.zk.exists(this.key, this.watcher)) !== null) this.fullPending = true;
      this.tree.clear();
      return undefined;
    }
    return out;
  }

  /** Lists and watches `path` and everything below it; errors below the top are ignored, as in a read. */
  private async walk(path: string, out: KeyValue[] | KeyChange[], top: boolean): Promise<void> {
    let children: string[];
    try {
      children = (await this.zk.getChildren(path, this.watcher)).children.sort();
    } catch (e) {
      if (top) throw e;
      return;
    }
    this.tree.set(path, children);
    if (children.length === 0) {
      const value = await this.data(path).catch((e) => {
        if (top) throw e;
        return undefined;
      });
      if (value !== undefined) out.push({ key: path, value });
      return;
    }
    await Promise.all(children.map((c) => this.walk(childPath(path, c), out, false)));
  }

  /** A leaf's data, its data watch re-armed; undefined when it is gone (its parent's watch tells). */
  private async data(path: string): Promise<string | undefined> {
    try {
      return await this.zk.getData(path, this.watcher);
    } catch (e) {
      if (e instanceof ZkError && e.noNode) return undefined;
      throw e;
    }
  }

  /** A znode's children changed: list them again, drop what went, walk what came. */
  private async relist(path: string, changes: KeyChange[]): Promise<void> {
    const old = this.tree.get(path);
    if (old === undefined) return; // dropped with an ancestor meanwhile
    let children: string[];
    try {
      children = (await this.zk.getChildren(path, this.watcher)).children.sort();
    } catch (e) {
      if (!(e instanceof ZkError && e.noNode)) throw e;
      if (path === this.key) this.fullPending = true;
      return; // its parent's watch tells
    }
    this.tree.set(path, children);
    if (old.length === 0 && children.length > 0) {
      // A leaf that got children: its own data is no longer a value (confd's walk).
      changes.push({ key: path, value: undefined });
    }
    const now = new Set(children);
    for (const c of old) if (!now.has(c)) this.drop(childPath(path, c), changes);
    if (old.length > 0 && children.length === 0) {
      // Its data becomes a value once it has stayed childless a moment (a recursive delete removes it meanwhile).
      const timer = this.zk.timers.after(EMPTIED_SETTLE_MS, () => {
        this.settleTimers.delete(timer);
        this.dataPending.add(path);
        void this.run();
      });
      this.settleTimers.add(timer);
      return;
    }
    const had = new Set(old);
    const added: KeyValue[] = [];
    await Promise.all(children.filter((c) => !had.has(c)).map((c) => this.walk(childPath(path, c), added, false)));
    for (const kv of added) changes.push(kv);
  }

  /** Forgets a znode and everything below it; its leaves' keys are gone. */
  private drop(path: string, changes: KeyChange[]): void {
    const children = this.tree.get(path);
    this.tree.delete(path);
    if (children === undefined) return;
    if (children.length === 0) changes.push({ key: path, value: undefined });
    for (const c of children) this.drop(childPath(path, c), changes);
  }

  get healthy(): boolean {
    return this.reads.healthy;
  }

  cancel(): void {
    this.reads.close();
    for (const t of this.settleTimers) t.cancel();
    this.unlisten();
  }
}

/** Every watched prefix of one backend, over its one session. */
export class ZkFeeds {
  private readonly feeds = new Set<ZkFeed>();
  private pinging = false;

  constructor(
    private readonly zk: ZkSession,
    private readonly log?: Logger,
  ) {}

  watch(prefix: string, handlers: ChangeFeedHandlers): PrefixWatch {
    const feed = new ZkFeed(prefix, handlers, this.zk, this.log);
    this.feeds.add(feed);
    return {
      cancel: async () => {
        feed.cancel();
        this.feeds.delete(feed);
      },
    };
  }

  /** One round trip to the server confirms every feed (its watches live in the same session). */
  requestProgress(): void {
    if (this.pinging || !this.zk.isConnected) return;
    this.pinging = true;
    this.zk
      .exists('/')
      .then(() => {
        for (const f of this.feeds) if (f.healthy) f.handlers.onAlive();
      })
      .catch(() => undefined)
      .finally(() => (this.pinging = false));
  }

  close(): void {
    for (const f of this.feeds) f.cancel();
    this.feeds.clear();
  }
}
