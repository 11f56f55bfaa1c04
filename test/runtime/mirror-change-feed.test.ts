// The mirrors driven by a change feed without revisions (redis, ZooKeeper: ChangeFeedBackend):
// whole-prefix snapshots replace, re-read keys put and delete, liveness refreshes the age, and a
// broken connection shows until the feed is back. A scripted in-memory backend: the real feeds
// are covered against real servers in test/e2e/backends/redis and zookeeper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyMirrors, type MirrorChange } from '../../src/runtime/mirror.js';
import type { ChangeFeedBackend, ChangeFeedHandlers, Snapshot } from '../../src/backends/types.js';
import { quietLogger } from '../helpers/log.js';

function scripted(): { backend: ChangeFeedBackend; feeds: Map<string, ChangeFeedHandlers>; cancelled: string[]; progress: () => number } {
  const feeds = new Map<string, ChangeFeedHandlers>();
  const cancelled: string[] = [];
  let progress = 0;
  const backend: ChangeFeedBackend = {
    name: 'scripted-feed',
    changeFeed: 'prefix-changed',
    async getValues(): Promise<Snapshot> {
      throw new Error('-watch reads through the feed: its first snapshot is the start-up read');
    },
    watchChanges(prefix, handlers) {
      feeds.set(prefix, handlers);
      return { cancel: async () => void cancelled.push(prefix) };
    },
    requestProgress: () => void progress++,
    async close() {},
  };
  return { backend, feeds, cancelled, progress: () => progress };
}

test('a change feed drives a mirror: snapshots replace, re-read keys put and delete, nothing outside the prefix', async () => {
  const { backend, feeds } = scripted();
  const changes: MirrorChange[] = [];
  const mirrors = new KeyMirrors(backend, ['/svc', '/svc/x'], quietLogger(), (c) => changes.push(c));
  let started = false;
  const starting = mirrors.start().then(() => (started = true));
  const feed = feeds.get('/svc')!;
  assert.ok(feed, 'one feed for the covering prefix');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(started, false, 'start waits for the feed\'s first snapshot');
  feed.onSnapshot([{ key: '/svc/a', value: '1' }]);
  await starting;
  assert.deepEqual(mirrors.snapshot(['/svc']), { kvs: [{ key: '/svc/a', value: '1' }], revision: 0 });

  // A later snapshot replaces: what changed is reported.
  feed.onSnapshot([{ key: '/svc/a', value: '1' }, { key: '/svc/b', value: '2' }]);
  assert.deepEqual(changes.at(-1), { prefix: '/svc', keys: ['/svc/b'], values: ['2'], revision: 0, cause: 'read' });

  feed.onKeys([
    { key: '/svc/c', value: '3' },
    { key: '/svc/a', value: undefined },
    { key: '/svc/b', value: '2' }, // unchanged: not reported
    { key: '/other', value: 'x' }, // not under the prefix: ignored
    { key: '/svc/gone', value: undefined }, // never there: nothing
  ]);
  assert.deepEqual(changes.at(-1), { prefix: '/svc', keys: ['/svc/c', '/svc/a'], values: ['3', undefined], revision: 0, cause: 'event' });
  assert.deepEqual(mirrors.snapshot(['/svc']).kvs, [{ key: '/svc/b', value: '2' }, { key: '/svc/c', value: '3' }]);
  assert.deepEqual(mirrors.snapshot(['/svc/x']).kvs, []);

  // No revisions: a resource spanning prefixes is consistent at once (no progress round trip).
  assert.equal(await mirrors.consistent(['/svc'], 10), true);

  // A snapshot after a reconnect replaces everything: deletes what went.
  feed.onConnection(new Error('down'));
  assert.equal(mirrors.status()[0]!.connected, false);
  feed.onConnection(undefined);
  feed.onSnapshot([{ key: '/svc/z', value: '9' }]);
  assert.deepEqual([...changes.at(-1)!.keys].sort(), ['/svc/b', '/svc/c', '/svc/z']);
  assert.deepEqual(mirrors.snapshot(['/svc']).kvs, [{ key: '/svc/z', value: '9' }]);
  assert.equal(mirrors.status()[0]!.connected, true);

  // A prefix that cannot be read (a ZooKeeper key deleted) is out of sync, its keys kept, until a snapshot.
  feed.onUnreadable(new Error('zookeeper: node does not exist: /svc'));
  assert.equal(mirrors.inSync(['/svc']), false);
  assert.deepEqual(mirrors.snapshot(['/svc']).kvs, [{ key: '/svc/z', value: '9' }]);
  feed.onSnapshot([{ key: '/svc/z', value: '10' }]);
  assert.equal(mirrors.inSync(['/svc']), true);
  await mirrors.close();
});

test('liveness from the feed keeps the mirror young; the re-read at -interval cancels and re-subscribes', async () => {
  const { backend, feeds, cancelled } = scripted();
  const mirrors = new KeyMirrors(backend, ['/svc'], quietLogger(), () => undefined);
  const starting = mirrors.start();
  feeds.get('/svc')!.onSnapshot([{ key: '/svc/a', value: '1' }]);
  await starting;
  const first = feeds.get('/svc')!;
  await new Promise((r) => setTimeout(r, 30));
  const before = mirrors.ageMs();
  assert.ok(before >= 25, `age ${before}`);
  first.onAlive();
  assert.ok(mirrors.ageMs() < before);
  const reconciling = mirrors.reconcile();
  assert.deepEqual(cancelled, ['/svc']);
  assert.notEqual(feeds.get('/svc'), first, 'a new feed: its first snapshot is the full re-read');
  feeds.get('/svc')!.onSnapshot([{ key: '/svc/a', value: '2' }]);
  await reconciling;
  assert.deepEqual(mirrors.snapshot(['/svc']).kvs, [{ key: '/svc/a', value: '2' }]);
  await mirrors.close();
});

test('a feed that cannot read its prefix at start (a missing ZooKeeper key) lets start end, out of sync', async () => {
  const { backend, feeds } = scripted();
  const mirrors = new KeyMirrors(backend, ['/svc'], quietLogger(), () => undefined);
  const starting = mirrors.start();
  feeds.get('/svc')!.onUnreadable(new Error('zookeeper: node does not exist: /svc'));
  await starting;
  assert.equal(mirrors.inSync(['/svc']), false);
  feeds.get('/svc')!.onSnapshot([{ key: '/svc/a', value: '1' }]);
  assert.equal(mirrors.inSync(['/svc']), true);
  await mirrors.close();
});
