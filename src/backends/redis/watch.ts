// -watch with redis: keyspace notifications, as confd watches (one pub/sub connection,
// PSUBSCRIBE __keyspace@<db>__:<prefix>*). Differences from confd, each on the safe side:
// - Notifications arrive only when the server's notify-keyspace-events has them (K plus the
//   classes); confd does not look. Here CONFIG GET checks at start and after each reconnect; when
//   they are off (or CONFIG is refused) the log says so once, and changes are seen only at the
//   core's full re-read every -interval (no liveness is claimed, so -stale-after reports it).
// - confd re-reads on a fixed list of events (not "expired", "decrby", "lpush"...); here any event
//   on a key re-reads it: an extra read never gives a wrong answer, a missed one leaves a stale file.
// - confd re-reads everything on each event; here a notification on the watched key itself
//   re-reads the prefix (its TYPE may have changed), one on a key below a scanned prefix re-reads
//   just that key (MGET: a string is its value; anything else or nothing removes it), which gives
//   the same keys a full read would.
// - Notifications are lost while disconnected: after a reconnect every prefix is read in full
//   before the feed is trusted again.
import type { Redis as RedisClient } from 'ioredis';
import type { Logger } from '../../log.js';
import type { ChangeFeedHandlers, KeyChange, KeyValue, PrefixWatch } from '../types.js';
import type { Connected } from './connection.js';
import { describeError } from './connection.js';
import { compareByKey, stripWildcard } from '../../keys/index.js';
import { Backoff, type BackoffPolicy } from '../../time/backoff.js';
import { RereadLoop } from '../reread-loop.js';
import { hostTimers, type Timer, type TimerSource } from '../../time/timers.js';
import { escapeGlob, readKey, readStrings, type KeyMapping, type ReadMode } from './read.js';

export interface RedisFeedOptions {
  /** A new subscriber connection (the nodes tried in order). */
  connect: () => Promise<Connected>;
  /** The command connection, reconnected when broken. */
  client: () => Promise<RedisClient>;
  mapping: KeyMapping;
  intervalSeconds: number;
  log?: Logger;
  /** The runtime's scheduler (the host's timers by default). */
  timers?: TimerSource;
}

const RETRY: BackoffPolicy = { minMs: 200, maxMs: 5_000 };

/** Whether notify-keyspace-events sends what a watch needs: keyspace events (K) for generic, string and hash commands. */
export function keyspaceEventsMissing(flags: string): string | undefined {
  if (!flags.includes('K')) return 'no keyspace events (K)';
  if (flags.includes('A')) return undefined;
  const missing = [...'g$h'].filter((c) => !flags.includes(c));
  return missing.length === 0 ? undefined : `classes ${missing.join('')} missing`;
}

class Feed {
  /** The TYPE of the watched key at the last full read: which notifications concern it. */
  private mode: ReadMode | undefined;
  private readonly redisKey: string;
  private fullPending = true;
  private readonly keysPending = new Set<string>();
  private readonly reads: RereadLoop;

  constructor(
    readonly prefix: string,
    readonly handlers: ChangeFeedHandlers,
    private readonly opts: RedisFeedOptions,
  ) {
    this.redisKey = opts.mapping.toRedis(stripWildcard(prefix));
    this.reads = new RereadLoop({
      name: `redis: watching ${prefix}`,
      handlers,
      log: opts.log,
      timers: opts.timers,
      retry: RETRY,
      marked: () => this.fullPending || this.keysPending.size > 0,
      read: () => this.read(),
      failed: () => (this.fullPending = true),
      describe: describeError,
    });
  }

  /** The PSUBSCRIBE pattern: every key starting with the watched one ("*" for "/"). */
  pattern(db: number): string {
    const body = stripWildcard(this.prefix) === '/' ? '' : escapeGlob(this.redisKey);
    return `__keyspace@${db}__:${body}*`;
  }

  /** A keyspace notification for `redisKey`. */
  notify(redisKey: string): void {
    // Before the first full read ends its TYPE is unknown: the read in flight may have missed this change.
    if (redisKey === this.redisKey || this.mode === undefined) this.fullPending = true;
    else if (this.mode === 'scan' && this.opts.mapping.inScan(stripWildcard(this.prefix), this.redisKey, redisKey)) this.keysPending.add(redisKey);
    else return;
    void this.reads.run();
  }

  /** Read everything again (start, reconnect). */
  readAll(): void {
    this.fullPending = true;
    void this.reads.run();
  }

  /** Reads the whole prefix when that is marked, else the keys notified. */
  private async read(): Promise<() => void> {
    const redis = await this.opts.client();
    if (this.fullPending) {
      this.fullPending = false;
      this.keysPending.clear();
      const r = await readKey(redis, this.opts.mapping, this.prefix);
      this.mode = r.mode;
      return () => this.handlers.onSnapshot(sortedUnique(r.kvs));
    }
    const keys = [...this.keysPending];
    this.keysPending.clear();
    const found = new Map((await readStrings(redis, this.opts.mapping, keys)).map((kv) => [kv.key, kv.value]));
    const changes: KeyChange[] = keys.map((k) => {
      const key = this.opts.mapping.fromRedis(k);
      return { key, value: found.get(key) };
    });
    return () => this.handlers.onKeys(changes);
  }

  get healthy(): boolean {
    return this.reads.healthy;
  }

  get closed(): boolean {
    return this.reads.closed;
  }

  close(): void {
    this.reads.close();
  }
}

/** Every watched prefix of one backend, over one pub/sub connection. */
export class RedisFeeds {
  private readonly feeds = new Set<Feed>();
  private subscriber: Connected | undefined;
  private starting: Promise<Connected | undefined> | undefined;
  private reconnectTimer: Timer | undefined;
  private readonly reconnects = new Backoff(RETRY);
  /** What CONFIG GET notify-keyspace-events said: true (on), false (off), undefined (not known: refused). */
  private eventsOn: boolean | undefined;
  private warnedEvents = false;
  private pinging = false;
  private closed = false;

  constructor(private readonly opts: RedisFeedOptions) {}

  watch(prefix: string, handlers: ChangeFeedHandlers): PrefixWatch {
    const feed = new Feed(prefix, handlers, this.opts);
    this.feeds.add(feed);
    void this.ensureSubscriber().then(async (sub) => {
      if (!sub || feed.closed) return;
      try {
        await sub.client.psubscribe(feed.pattern(sub.node.db));
      } catch {
        // The connection broke meanwhile; its reconnect subscribes every feed and reads them.
        return;
      }
      // Subscribed: a full read now covers whatever changed since the caller's own read.
      feed.readAll();
    });
    return {
      cancel: async () => {
        feed.close();
        this.feeds.delete(feed);
        const sub = this.subscriber;
        const pattern = sub && feed.pattern(sub.node.db);
        if (sub && pattern && ![...this.feeds].some((f) => f.pattern(sub.node.db) === pattern)) {
          await sub.client.punsubscribe(pattern).catch(() => undefined);
        }
      },
    };
  }

  /** A PING over the pub/sub connection confirms every feed, when notifications are known to be on. */
  requestProgress(): void {
    const sub = this.subscriber;
    if (!sub || this.pinging || this.eventsOn !== true) return;
    this.pinging = true;
    sub.client
      .ping()
      .then(() => {
        if (this.subscriber !== sub) return;
        for (const f of this.feeds) if (f.healthy) f.handlers.onAlive();
      })
      .catch(() => undefined)
      .finally(() => (this.pinging = false));
  }

  /** The pub/sub connection, made once (and again after it broke); undefined while it cannot be made. */
  private ensureSubscriber(): Promise<Connected | undefined> {
    if (this.subscriber) return Promise.resolve(this.subscriber);
    this.starting ??= this.subscribe().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async subscribe(): Promise<Connected | undefined> {
    if (this.closed) return undefined;
    let sub: Connected;
    try {
      sub = await this.opts.connect();
    } catch (e) {
      this.lost(e as Error);
      return undefined;
    }
    if (this.closed) {
      sub.client.disconnect();
      return undefined;
    }
    sub.client.on('pmessage', (_pattern: string, channel: string) => this.message(sub, channel));
    sub.client.once('end', () => {
      if (this.subscriber === sub) {
        this.subscriber = undefined;
        this.lost(new Error(`redis: the pub/sub connection to ${sub.node.label} closed`));
      }
    });
    await this.checkEvents();
    this.subscriber = sub;
    this.reconnects.reset();
    return sub;
  }

  private message(sub: Connected, channel: string): void {
    const head = `__keyspace@${sub.node.db}__:`;
    if (!channel.startsWith(head)) return;
    const key = channel.slice(head.length);
    for (const f of this.feeds) f.notify(key);
  }

  /** The pub/sub connection is gone: tell every feed, and connect again with backoff. */
  private lost(error: Error): void {
    if (this.closed) return;
    this.opts.log?.error(`${describeError(error)}; reconnecting`);
    for (const f of this.feeds) f.handlers.onConnection(error);
    this.reconnectTimer?.cancel();
    this.reconnectTimer = (this.opts.timers ?? hostTimers).after(this.reconnects.next(), () => void this.reconnect());
  }

  private async reconnect(): Promise<void> {
    this.reconnectTimer = undefined;
    const sub = await this.ensureSubscriber();
    if (!sub) return;
    this.opts.log?.info(`redis: pub/sub connection to ${sub.node.label} restored; reading every watched prefix again`);
    for (const f of this.feeds) {
      try {
        await sub.client.psubscribe(f.pattern(sub.node.db));
      } catch {
        return; // broke again: the next reconnect does this
      }
    }
    // Notifications sent while disconnected are lost: read everything before trusting the feed.
    for (const f of this.feeds) f.readAll();
  }

  /** Looks at notify-keyspace-events; says once, clearly, when changes cannot be seen as they happen. */
  private async checkEvents(): Promise<void> {
    let flags: string | undefined;
    let refused: string | undefined;
    try {
      const redis = await this.opts.client();
      const answer = (await redis.config('GET', 'notify-keyspace-events')) as string[];
      flags = answer[1] ?? '';
    } catch (e) {
      refused = describeError(e as Error);
    }
    const missing = flags === undefined ? undefined : keyspaceEventsMissing(flags);
    const before = this.eventsOn;
    this.eventsOn = flags === undefined ? undefined : missing === undefined;
    if (this.eventsOn === true) {
      if (before === false || (before === undefined && this.warnedEvents)) this.opts.log?.info('redis: keyspace notifications are on; changes are followed as they happen');
      return;
    }
    if (this.warnedEvents && before === this.eventsOn) return;
    this.warnedEvents = true;
    const fallback = `-watch sees changes only at its full re-read every -interval (${this.opts.intervalSeconds} s)`;
    if (refused !== undefined) {
      this.opts.log?.warning(
        `redis: cannot check notify-keyspace-events (CONFIG GET refused: ${refused}); if keyspace notifications are off, ${fallback}`,
      );
    } else {
      this.opts.log?.error(
        `redis: keyspace notifications are off (notify-keyspace-events is "${flags}": ${missing}), so ${fallback}; ` +
          'enable them on the server: CONFIG SET notify-keyspace-events KA (or notify-keyspace-events KA in redis.conf)',
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reconnectTimer?.cancel();
    for (const f of this.feeds) f.close();
    this.feeds.clear();
    const sub = this.subscriber ?? (await this.starting);
    this.subscriber = undefined;
    sub?.client.disconnect();
  }
}

function sortedUnique(kvs: KeyValue[]): KeyValue[] {
  const byKey = new Map(kvs.map((kv) => [kv.key, kv.value]));
  return [...byKey].map(([key, value]) => ({ key, value })).sort(compareByKey);
}
