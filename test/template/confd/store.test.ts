// The indexed store against memkv v0.1.1's behaviour: 1200 recorded ls/lsdir/gets results
// (fixtures/memkv-golden.json, produced by memkv's own algorithms in Go 1.19 over random key
// sets, including keys that are not clean), the conformance quirks 13-24 (what a resource's store
// holds, quirks 14, 15, 17: test/runtime/views.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyStore, KVPair } from '../../../src/template/confd/store.js';
import { compareBytes, storeKeyFor } from '../../../src/keys/index.js';
import { GO_TYPE, goTypeOf } from '../../../src/template/go/value.js';

const here = dirname(fileURLToPath(import.meta.url));
const memkv = JSON.parse(readFileSync(join(here, 'fixtures', 'memkv-golden.json'), 'utf8')) as Array<{
  keys: string[];
  op: 'ls' | 'lsdir' | 'gets';
  arg: string;
  want: string[] | string;
}>;

test('ls, lsdir and gets give memkv results on 1200 recorded cases', () => {
  const bad: string[] = [];
  for (const c of memkv) {
    const s = new KeyStore(c.keys.map((k) => [k, 'v' + k] as const));
    let got: unknown;
    try {
      got = c.op === 'ls' ? [...s.list(c.arg)] : c.op === 'lsdir' ? [...s.listDir(c.arg)] : s.getAll(c.arg).map((p) => p.Key);
    } catch (e) {
      got = 'ERR ' + (e as Error).message;
    }
    if (JSON.stringify(got) !== JSON.stringify(c.want)) bad.push(`${JSON.stringify(c)} got ${JSON.stringify(got)}`);
  }
  assert.deepEqual(bad.slice(0, 5), []);
  assert.ok(memkv.some((c) => c.keys.some((k) => k.includes('//') || !k.startsWith('/'))), 'covers irregular keys');
});

// Case 07-ls of the conformance corpus.
const lsStore = new KeyStore(
  Object.entries({
    '/ls/top': '1',
    '/ls/a/b': '2',
    '/ls/a/c/d': '3',
    '/ls/a/c/e': '4',
    '/ls/f/g/h': '5',
    '/lsx/y': '6',
    '/self': '7',
    '/self/x': '8',
    '/root-leaf': '9',
  }),
);

test('quirk 23: ls', () => {
  assert.deepEqual([...lsStore.list('/ls')], ['a', 'f', 'top']);
  assert.deepEqual([...lsStore.list('/ls/')], ['a', 'f', 'top']);
  assert.deepEqual([...lsStore.list('/ls/a/c')], ['d', 'e']);
  assert.deepEqual([...lsStore.list('/ls/top')], ['top']);
  assert.deepEqual([...lsStore.list('/self')], ['self', 'x']);
  assert.deepEqual([...lsStore.list('/missing')], []);
  assert.deepEqual([...lsStore.list('/l')], []);
  assert.deepEqual([...lsStore.list('/')], ['root-leaf', 'self']);
  assert.equal(goTypeOf(lsStore.list('/')), '[]string');
});

test('quirk 24: lsdir lists children that have children; lsdir "/" is empty', () => {
  assert.deepEqual([...lsStore.listDir('/ls')], ['a', 'f']);
  assert.deepEqual([...lsStore.listDir('/ls/a')], ['c']);
  assert.deepEqual([...lsStore.listDir('/')], []);
  assert.deepEqual([...lsStore.listDir('/self')], []);
});

test('quirks 18, 20, 22: get, getv defaults, exists are exact lookups', () => {
  const s = new KeyStore([
    ['/e/n', '1'],
    ['/e/empty', ''],
  ]);
  assert.equal(s.getValue('/e/n'), '1');
  assert.equal(s.getValue('/e/empty', ['d']), '', 'an existing empty value wins over the default');
  assert.equal(s.getValue('/e/missing', ['d', 'ignored']), 'd');
  assert.throws(() => s.getValue('/e/n/'), { message: 'key does not exist: /e/n/' });
  assert.throws(() => s.get('/e/missing'), { message: 'key does not exist: /e/missing' });
  const kv = s.get('/e/n');
  assert.ok(kv instanceof KVPair);
  assert.deepEqual(Object.keys(kv), ['Key', 'Value']);
  assert.equal((kv as unknown as { [GO_TYPE]: string })[GO_TYPE], 'memkv.KVPair');
  assert.equal(s.exists('/e'), false);
  assert.equal(s.exists('/e/n'), true);
});

test('quirk 21: gets sorts by key, getvs by value; bad patterns fail only on a non-empty store', () => {
  const s = new KeyStore([
    ['/v/b', 'apple'],
    ['/v/a', 'zebra'],
    ['/v/c/deep', 'x'],
    ['/v/10', 'Mango'],
  ]);
  const pairs = s.getAll('/v/*');
  assert.equal(goTypeOf(pairs), 'memkv.KVPairs');
  assert.deepEqual(
    pairs.map((p) => p.Key),
    ['/v/10', '/v/a', '/v/b'],
  );
  const vals = s.getAllValues('/v/*');
  assert.equal(goTypeOf(vals), '[]string');
  assert.deepEqual([...vals], ['Mango', 'apple', 'zebra']);
  assert.deepEqual([...s.getAll('/nothing/*')], []);
  assert.throws(() => s.getAll('/e/['), { message: 'syntax error in pattern' });
  assert.throws(() => s.getAll('/zzz/['), { message: 'syntax error in pattern' }, 'even when no key shares the prefix');
  assert.deepEqual([...new KeyStore([]).getAll('/e/[')], []);
});

test('quirk 16: storeKeyFor strips the prefix and cleans', () => {
  assert.equal(storeKeyFor('/n//double', '/n'), '/double');
  assert.equal(storeKeyFor('/n/dir/', '/n'), '/dir');
  assert.equal(storeKeyFor('/n/./dot', '/n'), '/dot');
  assert.equal(storeKeyFor('/n/a/../b', '/n'), '/b');
  assert.equal(storeKeyFor('/n/../outside', '/n'), '/outside');
  assert.equal(storeKeyFor('/n', '/n'), '/');
  assert.equal(storeKeyFor('/svc/x', '/'), '/svc/x');
  assert.equal(storeKeyFor('/docker/node/n01', '/docker'), '/node/n01');
});

test('keys sort as UTF-8 bytes; the last of duplicate keys wins', () => {
  const s = new KeyStore([
    ['/k/😀', 'emoji'],
    ['/k/\uffff', 'bmp'],
    ['/k/a', 'a'],
    ['/k/a', 'a2'],
    ['/k/é', 'e'],
  ]);
  assert.deepEqual(
    s.getAll('/k/*').map((p) => p.Key),
    ['/k/a', '/k/é', '/k/\uffff', '/k/😀'],
  );
  assert.equal(s.getValue('/k/a'), 'a2');
  assert.equal(s.size, 4);
  assert.deepEqual([...s.list('/k')], ['a', 'é', '\uffff', '😀']);
  assert.equal(s.getValue('/k/😀'), 'emoji');
  assert.ok(compareBytes('\uffff', '😀') < 0);
});

test('indexed lookups stay fast on 100k keys', () => {
  const entries: Array<[string, string]> = [];
  for (let s = 0; s < 1000; s++) {
    const svc = `/svc/s${String(s).padStart(4, '0')}`;
    entries.push([`${svc}/port`, String(8000 + s)], [`${svc}/domain`, `s${s}.example`]);
    for (let n = 0; n < 98; n++) entries.push([`${svc}/nodes/n${n}`, `10.0.${s % 256}.${n}`]);
  }
  const store = new KeyStore(entries);
  assert.equal(store.size, 100_000);
  const t0 = performance.now();
  let total = 0;
  for (const svc of store.listDir('/svc')) {
    total += store.getAll(`/svc/${svc}/nodes/*`).length;
    store.getValue(`/svc/${svc}/port`);
  }
  const ms = performance.now() - t0;
  assert.equal(total, 98_000);
  // A linear store needs ~100k path.Match calls per gets: about 10^8 here, tens of seconds.
  assert.ok(ms < 5000, `1000 lsdir-driven gets took ${ms.toFixed(0)} ms`);
});
