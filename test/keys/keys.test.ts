// src/keys: pure logic, checked against naive definitions on generated keys (byte order from
// Buffer.compare of the UTF-8 encodings, cover from its definition, search from a linear scan).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareByKey,
  compareBytes,
  covers,
  coversAny,
  gallopBound,
  lowerBound,
  lowerBoundKey,
  mapsOneToOne,
  minimalCover,
  partitionPoint,
  prefixEnd,
  selectCovered,
  sortByBytes,
  storeKeyFor,
  stripWildcard,
} from '../../src/keys/index.js';

function rng(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
}

/** Path-like keys over a small alphabet that puts "-" (0x2d) and "0" (0x30) around "/" (0x2f), plus non-BMP and U+E000. */
function keys(count: number, seed: number): string[] {
  const rnd = rng(seed);
  const parts = ['a', 'a-b', 'b', '0', 'ab', '\ue000', '\u{10000}', 'é', ''];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let k = '';
    const depth = rnd(4);
    for (let d = 0; d <= depth; d++) k += '/' + parts[rnd(parts.length)]!;
    if (rnd(8) === 0) k += '/';
    out.push(rnd(20) === 0 ? '/' : k);
  }
  return out;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** covers() by its definition: the key itself, or the prefix then a "/" boundary. */
function naiveCovers(p: string, k: string): boolean {
  if (k === p) return true;
  if (p.endsWith('/')) return k.startsWith(p);
  return k.startsWith(p + '/');
}

test('compareBytes, compareByKey and sortByBytes follow the UTF-8 bytes, not UTF-16 units', () => {
  assert.ok(compareBytes('/\ue000', '/\u{10000}') < 0); // EE 80 80 < F0 90 80 80; UTF-16 says the opposite
  assert.ok(compareBytes('/a', '/a/') < 0);
  assert.equal(compareBytes('/a', '/a'), 0);
  assert.ok(compareByKey({ key: '/b' }, { key: '/a' }) > 0);
  const ks = keys(500, 7);
  assert.deepEqual(sortByBytes([...ks]), [...ks].sort(byteOrder));
  assert.deepEqual([...ks].sort(compareBytes), [...ks].sort(byteOrder));
  const ascii = ['/b', '/a/x', '/a-b', '/a'];
  assert.deepEqual(sortByBytes(ascii), ['/a', '/a-b', '/a/x', '/b']);
});

test('lowerBound, gallopBound, partitionPoint and lowerBoundKey agree with a linear scan', () => {
  const sorted = [...new Set(keys(400, 3).filter((k) => !/[\ud800-\udfff]/.test(k)))].sort();
  const needles = [...keys(300, 11), '', '/', '\uffff', ...sorted];
  for (const needle of needles) {
    const linear = sorted.findIndex((k) => !(k < needle));
    const expected = linear < 0 ? sorted.length : linear;
    assert.equal(lowerBound(sorted, needle), expected, needle);
    assert.equal(partitionPoint(0, sorted.length, (i) => sorted[i]! < needle), expected, needle);
    const from = Math.min(expected, 5);
    assert.equal(gallopBound(sorted, needle, from, sorted.length), expected, needle);
    assert.equal(lowerBound(sorted, needle, from, sorted.length), expected, needle);
  }
  // A sub-range is searched only within itself.
  assert.equal(lowerBound(['a', 'b', 'c', 'd'], 'z', 1, 3), 3);
  assert.equal(gallopBound(['a', 'b', 'c', 'd'], 'a', 2, 4), 2);

  const kvs = [...new Set(keys(400, 5))].sort(byteOrder).map((key) => ({ key, value: '' }));
  for (const needle of keys(300, 13)) {
    const linear = kvs.findIndex((kv) => byteOrder(kv.key, needle) >= 0);
    assert.equal(lowerBoundKey(kvs, needle), linear < 0 ? kvs.length : linear, needle);
  }
});

test('prefixEnd is the first string after every string with the prefix', () => {
  assert.equal(prefixEnd('/a/'), '/a0');
  const sorted = ['/a', '/a/', '/a/x', '/a/\uffff', '/a0', '/b'];
  assert.deepEqual(sorted.filter((k) => k >= '/a/' && k < prefixEnd('/a/')), ['/a/', '/a/x', '/a/\uffff']);
});

test('covers: the key itself or below it at a "/", never a sibling that shares the text', () => {
  assert.ok(covers('/app', '/app'));
  assert.ok(covers('/app', '/app/x'));
  assert.ok(!covers('/app', '/apple'));
  assert.ok(!covers('/app', '/app-x'));
  assert.ok(covers('/app/', '/app/x'));
  assert.ok(!covers('/app/', '/app'));
  assert.ok(covers('/', '/anything'));
  assert.ok(covers('', '/a'));
  assert.ok(!covers('/app/x', '/app'));
  const ks = keys(200, 17);
  for (const p of ks) for (const k of ks) assert.equal(covers(p, k), naiveCovers(p, k), `${p} ${k}`);
  assert.ok(coversAny(['/x', '/app'], '/app/y'));
  assert.ok(!coversAny(['/x', '/app'], '/apple'));
  assert.ok(!coversAny([], '/a'));
});

test('minimalCover: distinct, none covered by another, byte order; covers exactly what the input covers', () => {
  assert.deepEqual(minimalCover(['/app/x', '/app', '/apple', '/app', '/b/c']), ['/app', '/apple', '/b/c']);
  assert.deepEqual(minimalCover(['/', '/a']), ['/']);
  assert.deepEqual(minimalCover(['/app', '/app-x', '/app/x']), ['/app', '/app-x']);
  assert.deepEqual(minimalCover(['/app/', '/app/x']), ['/app/']);
  assert.deepEqual(minimalCover(['/\u{10000}', '/\ue000']), ['/\ue000', '/\u{10000}']);
  assert.deepEqual(minimalCover([]), []);
  for (let seed = 1; seed <= 20; seed++) {
    const input = keys(60, seed);
    const got = minimalCover(input);
    const distinct = [...new Set(input)];
    const expected = distinct.filter((p) => !distinct.some((q) => q !== p && naiveCovers(q, p))).sort(byteOrder);
    assert.deepEqual(got, expected, `seed ${seed}`);
    const probe = keys(200, seed + 100);
    for (const k of probe) assert.equal(coversAny(got, k), coversAny(input, k), k);
  }
});

test('selectCovered: the covered entries, sorted by key bytes', () => {
  const all = new Map([
    ['/b/x', '1'],
    ['/a', '2'],
    ['/apple', '3'],
    ['/a/\u{10000}', '4'],
    ['/a/\ue000', '5'],
  ]);
  assert.deepEqual(selectCovered(all, ['/a', '/b']), [
    { key: '/a', value: '2' },
    { key: '/a/\ue000', value: '5' },
    { key: '/a/\u{10000}', value: '4' },
    { key: '/b/x', value: '1' },
  ]);
  assert.deepEqual(selectCovered(all, []), []);
});

test('stripWildcard removes every "/*", as confd\'s redis and zookeeper clients do', () => {
  assert.equal(stripWildcard('/app/*'), '/app');
  assert.equal(stripWildcard('/a/*/b/*'), '/a/b');
  assert.equal(stripWildcard('/*'), '');
  assert.equal(stripWildcard('/a*'), '/a*');
});

test('storeKeyFor and mapsOneToOne: the store key confd forms, and when no two keys can share one', () => {
  assert.equal(storeKeyFor('/app/db/host', '/app'), '/db/host');
  assert.equal(storeKeyFor('/app/db/host', '/'), '/app/db/host');
  assert.equal(storeKeyFor('/app//db/./host', '/app'), '/db/host');
  assert.equal(storeKeyFor('/other/x', '/app'), '/other/x');
  assert.ok(mapsOneToOne('/app/db', '/app'));
  assert.ok(mapsOneToOne('/app/db', '/'));
  assert.ok(!mapsOneToOne('/app//db', '/app')); // cleans to the same store key as /app/db
  assert.ok(!mapsOneToOne('/app', '/app/')); // the empty rest
  assert.ok(!mapsOneToOne('/appx', '/app'));
  assert.ok(!mapsOneToOne('/app/é', '/app')); // non-ASCII keys are never followed in place
  for (const k of keys(300, 23)) {
    for (const prefix of ['/', '/a', '/a/']) {
      if (mapsOneToOne(k, prefix)) assert.equal(storeKeyFor(k, prefix), prefix === '/' ? k : k.slice(prefix.endsWith('/') ? prefix.length - 1 : prefix.length), `${k} ${prefix}`);
    }
  }
});
