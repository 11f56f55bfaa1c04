// The read loop shared by the redis and ZooKeeper feeds (src/backends/reread-loop.ts), driven by
// scripted reads and a TimerSource the test fires by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RereadLoop } from '../../src/backends/reread-loop.js';
import type { ChangeFeedHandlers } from '../../src/backends/types.js';
import { Logger } from '../../src/log.js';
import type { Timer, TimerSource } from '../../src/time/timers.js';

function manualTimers() {
  const pending: Array<{ ms: number; fn: () => void; cancelled: boolean }> = [];
  const timer = (entry: { cancelled: boolean }): Timer => ({
    cancel: () => void (entry.cancelled = true),
    unref: () => timer(entry),
  });
  const source: TimerSource = {
    after: (ms, fn) => {
      const entry = { ms, fn, cancelled: false };
      pending.push(entry);
      return timer(entry);
    },
    every: () => assert.fail('no interval expected'),
    soon: () => assert.fail('no setImmediate expected'),
    sleep: () => assert.fail('no sleep expected'),
  };
  /** Fires the oldest live timer; returns its delay. */
  const fire = (): number => {
    const next = pending.shift();
    assert.ok(next && !next.cancelled, 'a retry is scheduled');
    next.fn();
    return next.ms;
  };
  return { source, pending, fire };
}

function setUp(script: Array<string | Error>) {
  const events: string[] = [];
  const lines: string[] = [];
  const handlers: ChangeFeedHandlers = {
    onSnapshot: () => events.push('snapshot'),
    onKeys: () => events.push('keys'),
    onUnreadable: () => events.push('unreadable'),
    onAlive: () => events.push('alive'),
    onConnection: (e) => events.push(e ? `broken: ${e.message}` : 'back'),
  };
  const timers = manualTimers();
  let marks = 0;
  const reads = new RereadLoop({
    name: 'test: watching /app',
    handlers,
    log: new Logger({ level: 'debug', write: (l) => lines.push(l) }),
    timers: timers.source,
    retry: { minMs: 100, maxMs: 400 },
    marked: () => marks > 0,
    read: async () => {
      marks--;
      const next = script.shift();
      assert.ok(next !== undefined, 'no more reads scripted');
      if (next instanceof Error) throw next;
      return () => events.push(`handed over ${next}`);
    },
    failed: () => (marks = 1),
  });
  const mark = () => {
    marks++;
    return reads.run();
  };
  return { reads, events, lines, timers, mark };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

test('reads while marked; a failed read is retried with backoff, said once, and its recovery once, before the hand-over', async () => {
  const s = setUp(['first', new Error('down'), new Error('still down'), new Error('still down'), 'second']);
  await s.mark();
  assert.deepEqual(s.events, ['handed over first']);
  assert.ok(s.reads.healthy);

  await s.mark();
  assert.deepEqual(s.events.slice(1), ['broken: down']);
  assert.equal(s.reads.healthy, false);
  // While a retry waits, a new mark does not read.
  await s.mark();
  assert.equal(s.timers.pending.length, 1);

  const delays = [s.timers.fire()];
  await settle();
  delays.push(s.timers.fire());
  await settle();
  delays.push(s.timers.fire());
  await settle();
  assert.deepEqual(delays, [100, 200, 400], 'the shared backoff doubles up to its ceiling');
  assert.deepEqual(s.events.slice(1), ['broken: down', 'broken: still down', 'broken: still down', 'back', 'handed over second']);
  assert.ok(s.reads.healthy);
  const errors = s.lines.filter((l) => l.includes('ERROR'));
  assert.equal(errors.length, 1, s.lines.join('\n'));
  assert.match(errors[0]!, /test: watching \/app: down; retrying/);
  assert.equal(s.lines.filter((l) => /test: watching \/app again/.test(l)).length, 1);
});

test('after close nothing is handed over and no retry fires', async () => {
  const s = setUp([new Error('down')]);
  await s.mark();
  assert.equal(s.timers.pending.length, 1);
  s.reads.close();
  assert.ok(s.reads.closed);
  assert.ok(s.timers.pending[0]!.cancelled, 'the retry timer is cancelled');
  await s.mark();
  assert.deepEqual(s.events, ['broken: down']);
});
