// Stores updated in place (watch mode) must answer exactly as a store built from scratch from the
// same keys, including answers memoized before a change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyStore, LiveStores, SnapshotStores, type RawKeyValue } from '../../../src/template/confd/store.js';
import { compareBytes } from '../../../src/keys/index.js';

/** A small deterministic PRNG, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SEGMENTS = ['a', 'b', 'ab', 'c', 'nodes', 'x1'];

function randomKey(r: () => number): string {
  const depth = 1 + Math.floor(r() * 4);
  let k = '';
  for (let i = 0; i < depth; i++) k += '/' + SEGMENTS[Math.floor(r() * SEGMENTS.length)];
  return k;
}

const QUERIES: Array<(s: KeyStore) => unknown> = [];
for (const p of ['/', '/a', '/a/', '/ab', '/a/b', '/nodes', '/c/x1', 'a', '/a/../b']) {
  QUERIES.push((s) => ['ls', p, [...s.list(p)]]);
  QUERIES.push((s) => ['lsdir', p, [...s.listDir(p)]]);
}
for (const p of ['/*', '/a/*', '/*/b', '/a/*/*', '/a*', '/*/nodes/*', '/c/*', '/[ab]*/*']) {
  QUERIES.push((s) => ['gets', p, s.getAll(p).map((kv) => `${kv.Key}=${kv.Value}`)]);
  QUERIES.push((s) => ['getvs', p, [...s.getAllValues(p)]]);
}

function answers(s: KeyStore): unknown[] {
  return QUERIES.map((q) => q(s));
}

test('a store updated in place answers as one built from scratch, memoized answers included', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed);
    const truth = new Map<string, string>();
    for (let i = 0; i < 30; i++) truth.set(randomKey(r), 'v' + Math.floor(r() * 5));
    const live = new KeyStore([...truth]);
    answers(live); // fill the memo
    for (let step = 0; step < 25; step++) {
      const changes: Array<[string, string | undefined]> = [];
      for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) {
        const k = r() < 0.5 && truth.size > 0 ? [...truth.keys()][Math.floor(r() * truth.size)]! : randomKey(r);
        const v = r() < 0.3 ? undefined : 'v' + Math.floor(r() * 5);
        changes.push([k, v]);
        if (v === undefined) truth.delete(k);
        else truth.set(k, v);
      }
      assert.equal(live.update(changes), true);
      const fresh = new KeyStore([...truth]);
      assert.equal(live.size, fresh.size);
      assert.deepEqual(answers(live), answers(fresh), `seed ${seed} step ${step} after ${JSON.stringify(changes)}`);
    }
  }
});

test('answers handed out are copies: sorting one in place changes no later answer', () => {
  const s = new KeyStore([
    ['/a/long', '1'],
    ['/a/b', '22'],
  ]);
  const first = s.getAll('/a/*');
  first.reverse();
  assert.deepEqual(
    s.getAll('/a/*').map((kv) => kv.Key),
    ['/a/b', '/a/long'],
  );
  const vs = s.getAllValues('/a/*');
  vs.reverse();
  assert.deepEqual([...s.getAllValues('/a/*')], ['1', '22']);
});

test('a store that cannot follow in place says so and stays unchanged', () => {
  const s = new KeyStore([['/a', '1']]);
  assert.equal(s.update([['/é', 'x']]), false);
  assert.equal(s.update([['/a//b', 'x']]), false);
  assert.deepEqual([...s.entries()], [['/a', '1']]);
});

test('LiveStores follows changes within each resource scope and prefix, as SnapshotStores would build', () => {
  const kvs = new Map<string, string>([
    ['/app/db/host', 'h1'],
    ['/app/db/port', '1'],
    ['/app/dbx', 'no'],
    ['/app/web/a', 'w'],
    ['/other/k', 'o'],
  ]);
  const sorted = (): RawKeyValue[] => [...kvs].map(([key, value]) => ({ key, value })).sort((a, b) => compareBytes(a.key, b.key));
  const live = new LiveStores(() => sorted());
  const scopes: Array<[string, string[]]> = [
    ['/app', ['/app/db']],
    ['/', ['/app']],
    ['/app/', ['/app/web', '/app/db']],
  ];
  const check = (label: string) => {
    for (const [prefix, keys] of scopes) {
      const got = live.storeFor(prefix, keys);
      const want = new SnapshotStores(sorted()).storeFor(prefix, keys);
      assert.deepEqual([...got.entries()], [...want.entries()], `${label}: ${prefix} ${keys.join(',')}`);
      assert.deepEqual([...got.list('/')], [...want.list('/')]);
    }
  };
  check('start');
  const first = live.storeFor('/app', ['/app/db']);
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
    live.apply([k], [v]);
    check(`after ${k}`);
  }
  // Updated in place, not rebuilt: the template compiled against it stays valid.
  assert.equal(live.storeFor('/app', ['/app/db']), first);
  // A key that does not map one to one (not clean) drops the store; the next one is rebuilt.
  kvs.set('/app/db//x', 'weird');
  live.apply(['/app/db//x'], ['weird']);
  assert.notEqual(live.storeFor('/app', ['/app/db']), first);
  check('after an unclean key');
});

test('a bad pattern answers an empty store, and fails once a change added a key', () => {
  const s = new KeyStore([]);
  assert.deepEqual([...s.getAll('/[')], []);
  assert.deepEqual([...s.getAllValues('/[')], []);
  assert.equal(s.update([['/a', '1']]), true);
  assert.throws(() => s.getAll('/['), /syntax error in pattern/);
  assert.throws(() => s.getAllValues('/['), /syntax error in pattern/);
});
