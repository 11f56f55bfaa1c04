// The views renders read (src/runtime/views.ts): what a resource's store holds of a read (confd's
// selection), and -watch's views, which follow the mirrors' changes without ever changing one a
// render holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyValue } from '../../src/backends/types.js';
import { KeyStore } from '../../src/template/confd/store.js';
import { MirrorViews, SnapshotStores } from '../../src/runtime/views.js';
import { compareBytes } from '../../src/keys/index.js';

// Case 09-keys-prefix-matching: each listed key K covers K and K/..., never K-prefixed siblings.
test('quirks 14, 15, 17: SnapshotStores selects what confd fetches for a resource', () => {
  const kvs = Object.entries({
    '/app': 'self',
    '/app/x': '1',
    '/app/sub/z': '2',
    '/apple/y': '3',
    '/application': '4',
    '/ap': '5',
    foo: 'bar',
  })
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => compareBytes(a.key, b.key));
  const stores = new SnapshotStores(kvs);
  const keysOf = (s: KeyStore) => [...s.entries()].map(([k]) => k);
  assert.deepEqual(keysOf(stores.storeFor('/', ['/app'])), ['/app', '/app/sub/z', '/app/x']);
  assert.deepEqual(keysOf(stores.storeFor('/', ['/ap'])), ['/ap']);
  assert.deepEqual(keysOf(stores.storeFor('/', ['/app/sub', '/app', '/application', '/app/x'])), [
    '/app',
    '/app/sub/z',
    '/app/x',
    '/application',
  ]);
  assert.deepEqual(keysOf(stores.storeFor('/app', ['/app'])), ['/', '/sub/z', '/x'], 'prefix stripped, own key is "/"');
  assert.deepEqual(keysOf(stores.storeFor('/', [])), []);
  assert.deepEqual(keysOf(stores.storeFor('/', ['/'])), ['/ap', '/app', '/app/sub/z', '/app/x', '/apple/y', '/application']);
  assert.equal(stores.storeFor('/', ['/app']), stores.storeFor('/', ['/app', '/app']), 'same keys, same store object');
});

test('SnapshotStores with the pass\'s uses: a store is shared until its last expected use, then forgotten, and is transient', () => {
  const kvs = [
    { key: '/a/x', value: '1' },
    { key: '/b/y', value: '2' },
  ];
  const stores = new SnapshotStores(kvs, {
    uses: [
      { prefix: '/', keys: ['/a'] },
      { prefix: '/', keys: ['/b'] },
      { prefix: '/', keys: ['/a', '/a'] },
    ],
  });
  const a1 = stores.storeFor('/', ['/a']);
  const b = stores.storeFor('/', ['/b']);
  const a2 = stores.storeFor('/', ['/a']);
  assert.equal(a1, a2, 'same keys within the pass: one store');
  assert.deepEqual([...a1.entries()], [['/a/x', '1']]);
  assert.deepEqual([...b.entries()], [['/b/y', '2']]);
  assert.ok(a1.transient && b.transient, 'made for one pass');
  const a3 = stores.storeFor('/', ['/a']);
  assert.notEqual(a3, a1, 'past its last expected use the store is no longer held: a call beyond them gets a new one');
  assert.deepEqual([...a3.entries()], [['/a/x', '1']]);
  // Without uses (interval passes, watch's first stores): every store is kept and not transient.
  const kept = new SnapshotStores(kvs);
  const k1 = kept.storeFor('/', ['/a']);
  assert.equal(kept.storeFor('/', ['/a']), k1);
  assert.equal(kept.storeFor('/', ['/a']), k1);
  assert.equal(k1.transient, false);
});

/** A render's take of one scope's view, released at once (the next view may take its arrays over). */
function peek(views: MirrorViews, prefix: string, keys: string[]): KeyStore {
  const held = views.hold([{ prefix, keys }]);
  const store = held.storeFor(prefix, keys);
  held.release();
  return store;
}

test('MirrorViews follows changes within each resource scope and prefix, as SnapshotStores would build', () => {
  const kvs = new Map<string, string>([
    ['/app/db/host', 'h1'],
    ['/app/db/port', '1'],
    ['/app/dbx', 'no'],
    ['/app/web/a', 'w'],
    ['/other/k', 'o'],
  ]);
  const sorted = (): KeyValue[] => [...kvs].map(([key, value]) => ({ key, value })).sort((a, b) => compareBytes(a.key, b.key));
  let reads = 0;
  const views = new MirrorViews(() => {
    reads++;
    return sorted();
  });
  const scopes: Array<[string, string[]]> = [
    ['/app', ['/app/db']],
    ['/', ['/app']],
    ['/app/', ['/app/web', '/app/db']],
  ];
  const check = (label: string) => {
    for (const [prefix, keys] of scopes) {
      const got = peek(views, prefix, keys);
      const want = new SnapshotStores(sorted()).storeFor(prefix, keys);
      assert.deepEqual([...got.entries()], [...want.entries()], `${label}: ${prefix} ${keys.join(',')}`);
      assert.deepEqual([...got.list('/')], [...want.list('/')]);
    }
  };
  check('start');
  const readsAtStart = reads;
  // A render holds this one through every step below.
  const held = views.hold([{ prefix: '/app', keys: ['/app/db'] }]);
  const first = held.storeFor('/app', ['/app/db']);
  const firstEntries = [...first.entries()];
  const steps: Array<[string, string | undefined]> = [
    ['/app/db/user', 'u'],
    ['/app/dbx', 'yes'],
    ['/app/db/host', undefined],
    ['/other/k', 'o2'],
    ['/app/web/b', 'w2'],
  ];
  for (const [k, v] of steps) {
    if (v === undefined) kvs.delete(k);
    else kvs.set(k, v);
    views.apply({ keys: [k], values: [v] });
    check(`after ${k}`);
  }
  assert.equal(reads, readsAtStart, 'followed by the changes, not read again');
  // A view held never changes; the next one is another object.
  assert.deepEqual([...first.entries()], firstEntries);
  assert.notEqual(peek(views, '/app', ['/app/db']), first);
  held.release();
  assert.deepEqual([...first.entries()], firstEntries, 'a view replaced while held is not handed over');
  // Nothing changed under it since: the same view again (its template's memoized answers go on).
  assert.equal(peek(views, '/app', ['/app/db']), peek(views, '/app', ['/app/db']));
  // A view nobody holds any more hands its arrays over to the next one.
  const released = peek(views, '/app', ['/app/db']);
  kvs.set('/app/db/port', '2');
  views.apply({ keys: ['/app/db/port'], values: ['2'] });
  check('after a change to a released view');
  assert.equal(released.size, 0, 'handed over, not copied');
  // A key that does not map one to one (not clean) drops the view; the next one is built from the mirrors.
  const before = peek(views, '/app', ['/app/db']);
  kvs.set('/app/db//x', 'weird');
  views.apply({ keys: ['/app/db//x'], values: ['weird'] });
  assert.notEqual(peek(views, '/app', ['/app/db']), before);
  assert.ok(reads > readsAtStart);
  check('after an unclean key');
});

test('a render holds the views it took: changes arriving meanwhile build the next ones', () => {
  const kvs = new Map<string, string>();
  for (let i = 0; i < 100; i++) kvs.set(`/svc/a/n${String(i).padStart(3, '0')}`, 'r1');
  kvs.set('/svc/b/port', '1');
  const views = new MirrorViews(() => [...kvs].map(([key, value]) => ({ key, value })).sort((a, b) => compareBytes(a.key, b.key)));
  const scopes = [
    { prefix: '/svc/a', keys: ['/svc/a'] },
    { prefix: '/', keys: ['/svc/b'] },
  ];
  peek(views, '/svc/a', ['/svc/a']);
  const held = views.hold(scopes);
  const a = held.storeFor('/svc/a', ['/svc/a']);
  // A render reads its template's answers once (memoized), then 1,000 changes arrive, one at a time,
  // and other renders take the newer views meanwhile.
  assert.deepEqual(new Set(a.getAllValues('/n*')), new Set(['r1']));
  for (let rev = 2; rev <= 1001; rev++) {
    const key = `/svc/a/n${String(rev % 100).padStart(3, '0')}`;
    kvs.set(key, `r${rev}`);
    views.apply({ keys: [key], values: [`r${rev}`] });
    if (rev === 500) views.apply({ keys: ['/svc/b/port'], values: ['2'] });
    if (rev % 100 === 0) peek(views, '/svc/a', ['/svc/a']);
  }
  // The held views answer as at the revision taken, memoized answers or not.
  assert.equal(held.storeFor('/svc/a', ['/svc/a']), a);
  assert.deepEqual(new Set(a.getAllValues('/n*')), new Set(['r1']));
  assert.deepEqual(new Set(a.getAll('/*').map((kv) => kv.Value)), new Set(['r1']));
  assert.equal(held.storeFor('/', ['/svc/b']).getValue('/svc/b/port'), '1');
  // The next render's view holds every change.
  const next = peek(views, '/svc/a', ['/svc/a']);
  assert.equal(next.size, 100);
  assert.deepEqual(new Set(next.getAllValues('/n*')).size, 100);
  assert.equal(next.getValue('/n001'), 'r1001');
  assert.equal(peek(views, '/', ['/svc/b']).getValue('/svc/b/port'), '2');
  assert.throws(() => held.storeFor('/other', ['/other']), /no view was taken/);
  held.release();
  assert.throws(() => held.storeFor('/svc/a', ['/svc/a']), /released/);
  assert.deepEqual(new Set(a.getAllValues('/n*')), new Set(['r1']), 'replaced while held: never handed over');
});

test('a view is built once per render, not per change, and a long delta is dropped for a fresh build', () => {
  const kvs = new Map<string, string>([['/k/a', '0']]);
  let reads = 0;
  const views = new MirrorViews(() => {
    reads++;
    return [...kvs].map(([key, value]) => ({ key, value })).sort((a, b) => compareBytes(a.key, b.key));
  });
  const held = views.hold([{ prefix: '/k', keys: ['/k'] }]);
  const first = held.storeFor('/k', ['/k']);  for (let i = 0; i < 10; i++) {
    kvs.set('/k/a', String(i));
    views.apply({ keys: ['/k/a'], values: [String(i)] });
  }
  const second = peek(views, '/k', ['/k']);
  assert.equal(second.getValue('/a'), '9');
  assert.equal(first.getValue('/a'), '0');
  assert.equal(reads, 1);
  // A resource that does not render for a long while: its delta is not kept without bound.
  for (let i = 0; i < 5000; i++) {
    const key = `/k/n${i}`;
    kvs.set(key, 'x');
    views.apply({ keys: [key], values: ['x'] });
  }
  const third = peek(views, '/k', ['/k']);
  assert.equal(reads, 2);
  assert.equal(third.size, 5001);
  assert.ok(third instanceof KeyStore);
});
