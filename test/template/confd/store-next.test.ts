// A store derived with changes (watch mode's next view) must answer exactly as a store built from
// scratch from the same keys, including answers memoized before the change, and the store it came
// from must not change (a render may still hold it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyStore } from '../../../src/template/confd/store.js';

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

test('the next store answers as one built from scratch, memoized answers included; the one before never changes', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed);
    const truth = new Map<string, string>();
    for (let i = 0; i < 30; i++) truth.set(randomKey(r), 'v' + Math.floor(r() * 5));
    let live = new KeyStore([...truth]);
    answers(live); // fill the memo
    for (let step = 0; step < 25; step++) {
      const before = live;
      const beforeAnswers = answers(before);
      const beforeEntries = [...before.entries()];
      const changes: Array<[string, string | undefined]> = [];
      for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) {
        const k = r() < 0.5 && truth.size > 0 ? [...truth.keys()][Math.floor(r() * truth.size)]! : randomKey(r);
        const v = r() < 0.3 ? undefined : 'v' + Math.floor(r() * 5);
        changes.push([k, v]);
        if (v === undefined) truth.delete(k);
        else truth.set(k, v);
      }
      const next = live.withChanges(changes);
      assert.ok(next);
      live = next;
      const fresh = new KeyStore([...truth]);
      assert.equal(live.size, fresh.size);
      assert.deepEqual(answers(live), answers(fresh), `seed ${seed} step ${step} after ${JSON.stringify(changes)}`);
      // The store a render may still hold answers as it did, memoized answers included.
      assert.deepEqual([...before.entries()], beforeEntries, `seed ${seed} step ${step}: the earlier store changed`);
      assert.deepEqual(answers(before), beforeAnswers, `seed ${seed} step ${step}: the earlier store answers differently`);
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

test('a store that cannot be followed by changes says so and stays unchanged', () => {
  const s = new KeyStore([['/a', '1']]);
  assert.equal(s.withChanges([['/é', 'x']]), undefined);
  assert.equal(s.withChanges([['/a//b', 'x']]), undefined);
  assert.deepEqual([...s.entries()], [['/a', '1']]);
  assert.equal(new KeyStore([['/é', '1']]).withChanges([['/a', 'x']]), undefined, 'a non-ASCII store is rebuilt instead');
});

test('a bad pattern answers an empty store, and the next store with a key fails on it', () => {
  const s = new KeyStore([]);
  assert.deepEqual([...s.getAll('/[')], []);
  assert.deepEqual([...s.getAllValues('/[')], []);
  const next = s.withChanges([['/a', '1']])!;
  assert.throws(() => next.getAll('/['), /syntax error in pattern/);
  assert.throws(() => next.getAllValues('/['), /syntax error in pattern/);
  assert.deepEqual([...s.getAll('/[')], [], 'the empty store still answers');
});
