import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, backoffDelay } from '../../src/time/backoff.js';

test('the delay doubles from the first to the ceiling and stays there', () => {
  const policy = { minMs: 200, maxMs: 5_000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 100, 10_000].map((n) => backoffDelay(n, policy)),
    [200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000, 5_000],
  );
  // Before any failure counts, the first delay (never 0 nor half of it).
  assert.equal(backoffDelay(0, policy), 200);
});

test('jitter keeps each delay in the upper half of the un-jittered one', () => {
  const policy = { minMs: 100, maxMs: 5_000, jitter: true };
  for (let n = 1; n <= 12; n++) {
    const base = backoffDelay(n, { minMs: 100, maxMs: 5_000 });
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(n, policy);
      assert.ok(d >= base / 2 && d <= base, `failure ${n}: ${d} outside [${base / 2}, ${base}]`);
    }
  }
});

test('a Backoff counts failures; reset() starts it over at the first delay', () => {
  const b = new Backoff({ minMs: 1_000, maxMs: 30_000 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
  assert.equal(b.failures, 6);
  b.reset();
  assert.equal(b.failures, 0);
  assert.equal(b.next(), 1_000);
});
