// IntervalLoop: passes never overlap, the period runs from the end of a pass, triggers coalesce, stop waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntervalLoop } from '../../src/runtime/interval.js';
import { sleep } from '../helpers/wait.js';

test('passes never overlap and the next starts an interval after the previous ended', async () => {
  let active = 0;
  let maxActive = 0;
  const spans: Array<[number, number]> = [];
  const loop = new IntervalLoop({
    intervalMs: 50,
    pass: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      const start = Date.now();
      await sleep(80); // longer than the interval
      spans.push([start, Date.now()]);
      active--;
    },
  });
  await loop.start();
  await sleep(450);
  await loop.stop();
  assert.equal(maxActive, 1);
  assert.ok(spans.length >= 2, `${spans.length} passes`);
  for (let i = 1; i < spans.length; i++) {
    const gap = spans[i]![0] - spans[i - 1]![1];
    assert.ok(gap >= 45, `gap ${gap} ms between passes`);
  }
});

test('triggers during a pass give exactly one more pass; a trigger when idle runs at once', async () => {
  let passes = 0;
  let release: () => void = () => undefined;
  const loop = new IntervalLoop({
    intervalMs: 60_000,
    pass: async () => {
      passes++;
      if (passes === 1) await new Promise<void>((r) => (release = r));
    },
  });
  const first = loop.start();
  await sleep(10);
  void loop.trigger();
  void loop.trigger();
  const third = loop.trigger();
  release();
  await first;
  await third;
  assert.equal(passes, 2);
  await loop.trigger();
  assert.equal(passes, 3, 'idle trigger runs a pass without waiting for the interval');
  await loop.stop();
  await loop.trigger();
  assert.equal(passes, 3, 'no pass after stop');
});

test('stop waits for the pass in progress; a throwing pass is reported and the loop goes on', async () => {
  const errors: string[] = [];
  let passes = 0;
  let finished = false;
  const loop = new IntervalLoop({
    intervalMs: 20,
    pass: async () => {
      passes++;
      if (passes === 1) throw new Error('backend down');
      await sleep(100);
      finished = true;
    },
    onError: (e) => errors.push(e.message),
  });
  await loop.start();
  assert.deepEqual(errors, ['backend down']);
  await sleep(40);
  assert.ok(loop.current, 'second pass running');
  await loop.stop();
  assert.equal(finished, true);
  const count = passes;
  await sleep(60);
  assert.equal(passes, count);
});
