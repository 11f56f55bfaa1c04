import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../../src/runtime/scheduler.js';
import { hostTimers } from '../../src/time/timers.js';

test('after, every and sleep follow the clock (node:test mock timers drive the host source)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const s = new Scheduler(hostTimers);
  const fired: string[] = [];
  s.after(100, () => fired.push('after'));
  const every = s.every(40, () => fired.push('every'));
  t.mock.timers.tick(99);
  assert.deepEqual(fired, ['every', 'every']);
  t.mock.timers.tick(1);
  assert.deepEqual(fired, ['every', 'every', 'after']);
  every.cancel();
  t.mock.timers.tick(1_000);
  assert.deepEqual(fired, ['every', 'every', 'after'], 'a cancelled interval fires no more');
  let woke = false;
  const sleeping = s.sleep(50).then(() => (woke = true));
  t.mock.timers.tick(49);
  await Promise.resolve();
  assert.equal(woke, false);
  t.mock.timers.tick(1);
  await sleeping;
  assert.equal(woke, true);
});

test('a cancelled timeout never fires; cancelling twice or after it fired does nothing', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const s = new Scheduler();
  let n = 0;
  const a = s.after(10, () => n++);
  a.cancel();
  a.cancel();
  const b = s.after(10, () => n++);
  t.mock.timers.tick(10);
  b.cancel();
  assert.equal(n, 1);
});

test('debounce: one call, the quiet time after the last of a burst; cancel() drops a pending one', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const s = new Scheduler();
  let calls = 0;
  const poke = s.debounce(20, () => calls++);
  poke();
  t.mock.timers.tick(15);
  poke();
  t.mock.timers.tick(15);
  poke();
  t.mock.timers.tick(19);
  assert.equal(calls, 0, 'still within the quiet time of the last poke');
  t.mock.timers.tick(1);
  assert.equal(calls, 1);
  poke();
  poke.cancel();
  t.mock.timers.tick(100);
  assert.equal(calls, 1);
});

test('a scheduler over another TimerSource uses it alone (how a test injects time)', () => {
  const asked: number[] = [];
  const fake = {
    after: (ms: number) => (asked.push(ms), { cancel() {}, unref() { return this; } }),
    every: (ms: number) => (asked.push(-ms), { cancel() {}, unref() { return this; } }),
    soon: () => (asked.push(0), { cancel() {}, unref() { return this; } }),
    sleep: async () => {},
  };
  const s = new Scheduler(fake);
  s.after(5, () => {});
  s.every(7, () => {});
  s.soon(() => {});
  s.debounce(9, () => {})();
  assert.deepEqual(asked, [5, -7, 0, 9]);
});
