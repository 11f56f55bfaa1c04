// etcd's Watch RPC as the etcdv3 backend drives it, against real etcd: events, prefix filtering,
// resumption after the server dies (no event lost or repeated), compaction, clean close.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdVersion, startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { createEtcdV3Backend, type EtcdV3Backend } from '../../../src/backends/etcdv3/index.js';
import { progressAnswersInOrder } from '../../../src/backends/etcdv3/watch.js';
import type { PrefixWatchHandlers, WatchEvent } from '../../../src/backends/types.js';

class Collector implements PrefixWatchHandlers {
  events: WatchEvent[] = [];
  progress: number[] = [];
  compacted: number[] = [];
  connection: Array<string | undefined> = [];
  private waiters: Array<() => void> = [];
  onEvents(events: readonly WatchEvent[]): void {
    this.events.push(...events);
    this.wake();
  }
  hints: boolean[] = [];
  onProgress(revision: number, hint?: boolean): void {
    this.progress.push(revision);
    this.hints.push(hint === true);
    this.wake();
  }
  onCompacted(revision: number): void {
    this.compacted.push(revision);
    this.wake();
  }
  onConnection(error: Error | undefined): void {
    this.connection.push(error?.message);
    this.wake();
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  async until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; events ${this.events.length}, connection ${JSON.stringify(this.connection)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

async function headRevision(etcd: EtcdServer): Promise<number> {
  const status = JSON.parse(await etcd.etcdctl(['endpoint', 'status', '-w', 'json'])) as Array<{ Status: { header: { revision: number } } }>;
  return status[0]!.Status.header.revision;
}

describe('etcdv3 watch', () => {
  let etcd: EtcdServer;
  let backend: EtcdV3Backend;
  before(async () => {
    etcd = await startEtcd();
    backend = await createEtcdV3Backend({ nodes: etcd.endpoints, watch: { minBackoffMs: 50, maxBackoffMs: 500, progressIntervalMs: 300 } });
  });
  after(async () => {
    await backend?.close();
    await etcd?.stop();
  });

  test('delivers puts and deletes under the prefix only, with revisions, and progress', async () => {
    const from = (await headRevision(etcd)) + 1;
    const c = new Collector();
    const w = backend.watchPrefix('/w1', from, c);
    await etcd.put('/w1/a', '1');
    await etcd.put('/w1x/not-mine', 'x');
    await etcd.put('/w1', 'self');
    await etcd.etcdctl(['del', '/w1/a']);
    await c.until('3 events', () => c.events.length >= 3);
    assert.deepEqual(c.events.map((e) => [e.type, e.key, e.value]), [
      ['put', '/w1/a', '1'],
      ['put', '/w1', 'self'],
      ['delete', '/w1/a', ''],
    ]);
    assert.ok(c.events[0]!.revision >= from && c.events[2]!.revision > c.events[1]!.revision);
    await c.until('a progress answer', () => c.progress.some((r) => r >= c.events[2]!.revision));
    await w.cancel();
  });

  test('history from an old revision is delivered (backlog), then live events', async () => {
    const start = (await headRevision(etcd)) + 1;
    for (let i = 0; i < 20; i++) await etcd.put(`/w2/k${i}`, String(i));
    const c = new Collector();
    const w = backend.watchPrefix('/w2', start, c);
    await c.until('backlog', () => c.events.length >= 20);
    await etcd.put('/w2/live', 'yes');
    await c.until('live event', () => c.events.length >= 21);
    assert.deepEqual(c.events.map((e) => e.value), [...Array.from({ length: 20 }, (_, i) => String(i)), 'yes']);
    await w.cancel();
  });

  test('server killed and restarted: the watch resumes from its own revision, nothing lost or repeated', async () => {
    const from = (await headRevision(etcd)) + 1;
    const c = new Collector();
    const w = backend.watchPrefix('/w3', from, c);
    for (let i = 0; i < 5; i++) await etcd.put(`/w3/k`, `before-${i}`);
    await c.until('events before the crash', () => c.events.length >= 5);
    const member = etcd.members[0]!;
    await member.kill();
    await c.until('disconnect reported', () => c.connection.some((m) => m !== undefined));
    await member.start();
    for (let i = 0; i < 5; i++) await etcd.put(`/w3/k`, `after-${i}`);
    await c.until('events after the restart', () => c.events.length >= 10, 20_000);
    assert.deepEqual(
      c.events.map((e) => e.value),
      [0, 1, 2, 3, 4].map((i) => `before-${i}`).concat([0, 1, 2, 3, 4].map((i) => `after-${i}`)),
    );
    const revisions = c.events.map((e) => e.revision);
    assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
    assert.equal(new Set(revisions).size, revisions.length);
    assert.equal(c.connection.at(-1), undefined, 'last connection state is "back"');
    await w.cancel();
  });

  test('a start revision that was compacted is reported with the compact revision', async () => {
    const old = (await headRevision(etcd)) + 1;
    for (let i = 0; i < 5; i++) await etcd.put('/w4/k', String(i));
    const head = await headRevision(etcd);
    await etcd.etcdctl(['compact', String(head)]);
    const c = new Collector();
    backend.watchPrefix('/w4', old, c);
    await c.until('compaction', () => c.compacted.length > 0);
    assert.equal(c.compacted[0], head);
    assert.equal(c.events.length, 0);
  });

  test('close() with open watchers returns promptly', async () => {
    const other = await createEtcdV3Backend({ nodes: etcd.endpoints });
    const c = new Collector();
    other.watchPrefix('/w5', (await headRevision(etcd)) + 1, c);
    await c.until('watch up', () => c.connection.includes(undefined));
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 2_000, `close took ${Date.now() - started} ms`);
  });

  test("a progress request's answer is a hint unless the server's version sends it in order with the events", async () => {
    const version = /(\d+\.\d+\.\d+)/.exec(etcdVersion())![1]!;
    const inOrder = progressAnswersInOrder(version);
    const c = new Collector();
    const w = backend.watchPrefix('/w6', (await headRevision(etcd)) + 1, c);
    await c.until('the watch is up', () => c.connection.includes(undefined));
    // The hub's own first request (sent once every watcher is created) or ours: an answer with watch id -1.
    backend.requestProgress();
    await c.until('a progress answer', () => c.progress.length > 0);
    assert.equal(c.hints.at(-1), !inOrder, `etcd ${version}`);
    await c.until('the version known', () => backend.progressSettles() === inOrder, 3_000);
    await w.cancel();
  });

  test('sibling prefixes asked for together share one etcd watcher: an event under one settles the others at its revision', async () => {
    await etcd.put('/s/a/1', 'x');
    await etcd.put('/s/b/1', 'x');
    const from = (await headRevision(etcd)) + 1;
    const a = new Collector();
    const b = new Collector();
    const wa = backend.watchPrefix('/s/a', from, a);
    const wb = backend.watchPrefix('/s/b', from, b);
    await b.until('the watch is up', () => b.connection.includes(undefined));
    assert.deepEqual(backend.watchLayout(), { prefixes: 2, watchers: 1, readKeys: 2, extraKeys: 0 });
    await etcd.put('/s/a/2', 'y');
    await a.until('the event', () => a.events.length === 1);
    const revision = a.events[0]!.revision;
    // Not a hint: one etcd watcher delivers in revision order, nothing of /s/b at or below it can follow.
    await b.until('a settling progress at that revision', () => b.progress.some((r, i) => r === revision && !b.hints[i]));
    assert.equal(b.events.length, 0);

    // A sibling that re-watches from an older revision gets what it missed; the other sees nothing twice.
    await wb.cancel();
    const missedFrom = (await headRevision(etcd)) + 1;
    await etcd.put('/s/b/2', 'while-away');
    await etcd.put('/s/a/3', 'z');
    await a.until('the next event', () => a.events.length === 2);
    const b2 = new Collector();
    const wb2 = backend.watchPrefix('/s/b', missedFrom, b2);
    await b2.until('the missed event', () => b2.events.length === 1);
    assert.equal(b2.events[0]!.value, 'while-away');
    await etcd.put('/s/a/4', 'w');
    await a.until('a later event', () => a.events.length === 3);
    assert.deepEqual(a.events.map((e) => e.value), ['y', 'z', 'w']);
    assert.equal(b2.events.length, 1);
    await wa.cancel();
    await wb2.cancel();
  });

  test('prefixes with many keys between them that neither reads get an etcd watcher each', async () => {
    await etcd.put('/g/a/1', 'x');
    await etcd.put('/g/z/1', 'x');
    for (let i = 0; i < 20; i++) await etcd.put(`/g/m/${i}`, 'unread');
    const from = (await headRevision(etcd)) + 1;
    const a = new Collector();
    const z = new Collector();
    const wa = backend.watchPrefix('/g/a', from, a);
    const wz = backend.watchPrefix('/g/z', from, z);
    await z.until('the watch is up', () => z.connection.includes(undefined));
    assert.deepEqual(backend.watchLayout(), { prefixes: 2, watchers: 2, readKeys: 2, extraKeys: 0 });
    await etcd.put('/g/z/2', 'y');
    await z.until('the event', () => z.events.length === 1);
    await wa.cancel();
    await wz.cancel();
  });
});

test('progress answers come in order with events from etcd 3.4.24, 3.5.8 and 3.6 on', () => {
  for (const v of ['3.4.23', '3.4.0', '3.5.7', '3.3.27', '2.3.8', '', 'garbage']) assert.equal(progressAnswersInOrder(v), false, v);
  for (const v of ['3.4.24', '3.4.37', '3.5.8', '3.5.21', '3.6.0', 'v3.6.4', '4.0.0']) assert.equal(progressAnswersInOrder(v), true, v);
});
