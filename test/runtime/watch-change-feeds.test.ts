// Both kinds of change feed drive one scheduler (issue 11): a backend with revisioned events (etcd's
// kind) and one that says "these keys under the prefix changed" (file, redis, ZooKeeper) feed the
// same watch runtime, whose quiescence timers come from one Scheduler the test holds. Nothing
// renders until that scheduler fires; then a burst renders once, with its last value, for both.
// The backends are scripted (the feeds' own behaviour is tested against real servers in
// test/backends and end to end in test/e2e).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace } from '../e2e/harness/onetime-harness.js';
import { until } from '../helpers/wait.js';
import { quietLogger } from '../helpers/log.js';
import { loadResources } from '../../src/resource/load.js';
import { WatchRuntime } from '../../src/runtime/watch.js';
import { Scheduler } from '../../src/runtime/scheduler.js';
import type { Timer, TimerSource } from '../../src/time/timers.js';
import type { ChangeFeedBackend, ChangeFeedHandlers, KeyValue, PrefixWatchHandlers, WatchableBackend } from '../../src/backends/types.js';

/** A clock the test turns by hand: every timer waits until fire(). */
class HandTimers implements TimerSource {
  readonly pending: Array<{ ms: number; fn: () => void; live: boolean }> = [];
  after(ms: number, fn: () => void): Timer {
    const t = { ms, fn, live: true };
    this.pending.push(t);
    const timer: Timer = { cancel: () => void (t.live = false), unref: () => timer };
    return timer;
  }
  every(): Timer {
    throw new Error('no periodic timer expected (reconcile and stale checks are off)');
  }
  soon(fn: () => void): Timer {
    return this.after(0, fn);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }
  live(): Array<{ ms: number; fn: () => void; live: boolean }> {
    return this.pending.filter((t) => t.live);
  }
  /** Runs every live timer once. */
  fire(): number {
    const due = this.live();
    for (const t of due) t.live = false;
    for (const t of due) t.fn();
    return due.length;
  }
}

const sorted = (m: Map<string, string>): KeyValue[] => [...m].map(([key, value]) => ({ key, value })).sort((a, b) => (a.key < b.key ? -1 : 1));

/** etcd's kind: a read at a revision, then events numbered after it. */
function revisionedBackend(data: Map<string, string>) {
  let revision = 5;
  let handlers: PrefixWatchHandlers | undefined;
  const backend: WatchableBackend = {
    name: 'scripted-revisioned',
    changeFeed: 'revisioned',
    async getValues(prefixes) {
      return { kvs: sorted(data).filter((kv) => prefixes.some((p) => kv.key.startsWith(p + '/'))), revision };
    },
    watchPrefix(_prefix, _from, h) {
      handlers = h;
      return { cancel: async () => undefined };
    },
    requestProgress() {
      handlers?.onProgress(revision);
    },
    async close() {},
  };
  const put = (key: string, value: string) => {
    data.set(key, value);
    revision++;
    handlers!.onEvents([{ type: 'put', key, value, revision }], revision);
  };
  return { backend, put, revision: () => revision };
}

/** The file/redis/ZooKeeper kind: the prefix read afresh, then "these keys changed" with no revision. */
function prefixChangedBackend(data: Map<string, string>) {
  let handlers: ChangeFeedHandlers | undefined;
  const backend: ChangeFeedBackend = {
    name: 'scripted-prefix-changed',
    changeFeed: 'prefix-changed',
    async getValues(prefixes) {
      return { kvs: sorted(data).filter((kv) => prefixes.some((p) => kv.key.startsWith(p + '/'))), revision: 0 };
    },
    watchChanges(prefix, h) {
      handlers = h;
      queueMicrotask(() => h.onSnapshot(sorted(data).filter((kv) => kv.key.startsWith(prefix + '/'))));
      return { cancel: async () => undefined };
    },
    requestProgress() {
      handlers?.onAlive();
    },
    async close() {},
  };
  const put = (key: string, value: string) => {
    data.set(key, value);
    handlers!.onKeys([{ key, value }]);
  };
  return { backend, put };
}

test('a revisioned backend and a prefix-changed backend drive the same scheduler alike', async () => {
  const hand = new HandTimers();
  const scheduler = new Scheduler(hand);
  const log = quietLogger();
  const workspace = () =>
    new Workspace({
      'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\nmin_keys = 0\n',
      'templates/app.tmpl': '{{range gets "/app/*"}}{{base .Key}}={{.Value}}\n{{end}}',
    });
  const wsR = workspace();
  const wsP = workspace();
  const start = () => new Map([['/app/x', '0']]);
  const revisioned = revisionedBackend(start());
  const prefixChanged = prefixChangedBackend(start());
  const opts = {
    noop: false,
    syncOnly: true,
    keepStageFile: false,
    commandTimeoutMs: 10_000,
    log,
    writeDiff: () => undefined,
    // A quiescence window: a burst renders once, 20 ms after its last change (and at most 10 s after its first).
    wait: { minMs: 20, maxMs: 10_000 },
    reconcileMs: 0,
    staleAfterMs: 0,
    timers: scheduler,
  };
  const runtimes = [new WatchRuntime(loadResources({ confdir: wsR.confdir, prefix: '', log }), revisioned.backend, opts), new WatchRuntime(loadResources({ confdir: wsP.confdir, prefix: '', log }), prefixChanged.backend, opts)];
  const file = (ws: Workspace) => (existsSync(join(ws.out, 'app.conf')) ? readFileSync(join(ws.out, 'app.conf'), 'utf8') : '');
  try {
    await Promise.all(runtimes.map((r) => r.start()));
    assert.equal(file(wsR), 'x=0\n');
    assert.equal(file(wsP), 'x=0\n');
    assert.equal(hand.live().length, 0, 'idle: no timer pending');

    // The same burst through both feeds.
    for (let i = 1; i <= 5; i++) {
      revisioned.put('/app/x', String(i));
      prefixChanged.put('/app/x', String(i));
      revisioned.put(`/app/k${i}`, 'new');
      prefixChanged.put(`/app/k${i}`, 'new');
    }
    // Each runtime holds one quiescence timer of the shared scheduler, and nothing renders before it fires.
    assert.deepEqual(
      hand.live().map((t) => t.ms > 0 && t.ms <= 20),
      [true, true],
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(file(wsR), 'x=0\n');
    assert.equal(file(wsP), 'x=0\n');

    // Once the window has passed, the scheduler's timers render each burst once, with its last values.
    const want = 'k1=new\nk2=new\nk3=new\nk4=new\nk5=new\nx=5\n';
    await new Promise((resolve) => setTimeout(resolve, 25));
    for (let turns = 0; file(wsR) !== want || file(wsP) !== want; turns++) {
      assert.ok(turns < 200, `not rendered after ${turns} turns of the scheduler: ${JSON.stringify([file(wsR), file(wsP)])}`);
      hand.fire();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const r of runtimes) assert.equal(r.status().renders, 2, 'the start-up render and one for the burst');
    // Only the revisioned mirror has a revision; nothing invents one for the other.
    assert.equal(runtimes[0]!.status().mirrors[0]!.revision, revisioned.revision());
    assert.equal(runtimes[1]!.status().mirrors[0]!.revision, 0);
  } finally {
    await Promise.all(runtimes.map((r) => r.stop()));
    wsR.cleanup();
    wsP.cleanup();
  }
});
