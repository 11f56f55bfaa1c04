// Go durations and wait windows (src/runtime/duration.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, parseWait, DEFAULT_WAIT } from '../../src/runtime/duration.js';

test('Go durations', () => {
  assert.equal(parseDurationMs('50ms'), 50);
  assert.equal(parseDurationMs('1s'), 1000);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('2h'), 7_200_000);
  assert.equal(parseDurationMs('500us'), 0.5);
  assert.equal(parseDurationMs('30'), 30_000);
  for (const bad of ['', 'ms', '5 s', '5x', '-1s', '1s junk']) assert.throws(() => parseDurationMs(bad), /invalid duration/, bad);
});

test('wait windows: min:max, or min alone with max = 4 x min', () => {
  assert.deepEqual(parseWait('50ms:1s'), { minMs: 50, maxMs: 1000 });
  assert.deepEqual(parseWait('2s'), { minMs: 2000, maxMs: 8000 });
  assert.deepEqual(parseWait('0:0'), { minMs: 0, maxMs: 0 });
  assert.throws(() => parseWait('1s:50ms'), /max is below min/);
  assert.throws(() => parseWait('1s:2s:3s'), /expected min:max/);
  assert.deepEqual(DEFAULT_WAIT, { minMs: 0, maxMs: 0 });
});
