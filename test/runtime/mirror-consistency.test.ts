// The consistency barrier of a resource spanning several prefixes (KeyMirrors.consistent), against a
// scripted backend that plays etcd 3.4.23's orders of answers: a progress answer (watch id -1) that
// overtakes a watcher's event, a read answered while events are in flight. Against real etcd:
// test/e2e/watch/one-revision-per-render.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyMirrors, type MirrorChange } from '../../src/runtime/mirror.js';
import type { KeyValue, PrefixWatchHandlers, Snapshot, WatchableBackend } from '../../src/backends/types.js';
import { quietLogger } from '../helpers/log.js';
import { until } from '../helpers/wait.js';

interface ReadAt {
  prefixes: readonly string[];
  revision: number;
  answer: (kvs: KeyValue[]) => void;
}

/** /a and /b, both "1" at revision 10; the test drives the watches and answers the reads at a revision. */
function scripted(withReadAt = true) {
  const handlers = new Map<string, PrefixWatchHandlers>();
  const reads: ReadAt[] = [];
  let progressRequests = 0;
  const backend: WatchableBackend = {
    name: 'scripted',
    changeFeed: 'revisioned',
    async getValues(): Promise<Snapshot> {
      return { kvs: [{ key: '/a/x', value: '1' }, { key: '/b/x', value: '1' }], revision: 10 };
    },
    watchPrefix(prefix, _from, h) {
      handlers.set(prefix, h);
      return { cancel: async () => undefined };
    },
    requestProgress() {
      progressRequests++;
    },
    async close() {},
  };
  if (withReadAt) {
    backend.getValuesAt = (prefixes, revision) =>
      new Promise((resolve) => reads.push({ prefixes, revision, answer: (kvs) => resolve({ kvs, revision }) }));
  }
  return { backend, handlers, reads, progressRequests: () => progressRequests };
}

const put = (key: string, value: string, revision: number) => ({ type: 'put' as const, key, value, revision });
const tick = () => new Promise((resolve) => setImmediate(resolve));
const values = (mirrors: KeyMirrors) => mirrors.snapshot(['/a', '/b']).kvs.map((kv) => `${kv.key}=${kv.value}`);

test('a progress hint does not settle a lagging prefix: one read at the target revision does', async () => {
  const s = scripted();
  const changes: MirrorChange[] = [];
  const mirrors = new KeyMirrors(s.backend, ['/a', '/b'], quietLogger(), (c) => changes.push(c));
  await mirrors.start();
  // One transaction at 11 changed /a/x and /b/x; /a's event came, then the id -1 answer overtook /b's.
  s.handlers.get('/a')!.onEvents([put('/a/x', '2', 11)], 11);
  s.handlers.get('/b')!.onProgress(11, true);
  s.handlers.get('/a')!.onProgress(11, true);
  let done: boolean | undefined;
  void mirrors.consistent(['/a', '/b'], 5_000).then((ok) => (done = ok));
  await tick();
  assert.equal(done, undefined, 'the hint alone must not pass the barrier');
  assert.equal(s.reads.length, 1);
  assert.deepEqual(s.reads[0]!.prefixes, ['/b']);
  assert.equal(s.reads[0]!.revision, 11);
  s.reads[0]!.answer([{ key: '/b/x', value: '2' }]);
  await tick();
  assert.equal(done, true);
  assert.deepEqual(values(mirrors), ['/a/x=2', '/b/x=2']);
  assert.deepEqual(changes.at(-1), { prefix: '/b', keys: ['/b/x'], values: ['2'], revision: 11, cause: 'read' });
  // /b's event at 11 arrives late: already in the map, not a change; later ones apply on top.
  const before = changes.length;
  s.handlers.get('/b')!.onEvents([put('/b/x', '2', 11)], 11);
  assert.equal(changes.length, before);
  s.handlers.get('/b')!.onEvents([put('/b/x', '3', 12)], 12);
  assert.deepEqual(values(mirrors), ['/a/x=2', '/b/x=3']);
  assert.equal(mirrors.reads, 1);
  await mirrors.close();
});

test('a single prefix, or prefixes settled alike, pass without a read or a request', async () => {
  const s = scripted();
  const mirrors = new KeyMirrors(s.backend, ['/a', '/b'], quietLogger(), () => undefined);
  await mirrors.start();
  s.handlers.get('/a')!.onEvents([put('/a/x', '2', 11)], 11);
  assert.equal(await mirrors.consistent(['/a'], 5_000), true);
  assert.equal(await mirrors.consistent(['/a/x'], 5_000), true);
  s.handlers.get('/b')!.onEvents([put('/b/x', '2', 11)], 11);
  assert.equal(await mirrors.consistent(['/a', '/b'], 5_000), true);
  assert.equal(s.reads.length, 0);
  assert.equal(s.progressRequests(), 0);
  await mirrors.close();
});

test('events that arrive while the read is in flight win, and a target that moved is read again', async () => {
  const s = scripted();
  const changes: MirrorChange[] = [];
  const mirrors = new KeyMirrors(s.backend, ['/a', '/b'], quietLogger(), (c) => changes.push(c));
  await mirrors.start();
  s.handlers.get('/a')!.onEvents([put('/a/x', '2', 11)], 11);
  let done: boolean | undefined;
  void mirrors.consistent(['/a', '/b'], 5_000).then((ok) => (done = ok));
  await tick();
  assert.equal(s.reads.length, 1);
  // /b's event at 11 comes first, then a transaction at 12 touching both half arrives.
  s.handlers.get('/b')!.onEvents([put('/b/x', '2', 11)], 11);
  s.handlers.get('/a')!.onEvents([put('/a/x', '3', 12)], 12);
  // The read at 11 is older than what /b's watch delivered: ignored, and /b is read again at 12.
  s.reads[0]!.answer([{ key: '/b/x', value: '2' }]);
  await tick();
  assert.equal(done, undefined);
  assert.equal(s.reads.length, 2);
  assert.deepEqual(s.reads[1]!.prefixes, ['/b']);
  assert.equal(s.reads[1]!.revision, 12);
  s.reads[1]!.answer([{ key: '/b/x', value: '3' }]);
  await tick();
  assert.equal(done, true);
  assert.deepEqual(values(mirrors), ['/a/x=3', '/b/x=3']);
  // A deleted key is a change of the read too.
  s.handlers.get('/a')!.onEvents([put('/a/x', '4', 13)], 13);
  const next = mirrors.consistent(['/a', '/b'], 5_000);
  await tick();
  s.reads[2]!.answer([]);
  assert.equal(await next, true);
  assert.deepEqual(values(mirrors), ['/a/x=4']);
  assert.deepEqual(changes.at(-1), { prefix: '/b', keys: ['/b/x'], values: [undefined], revision: 13, cause: 'read' });
  await mirrors.close();
});

test('without reads at a revision, the barrier waits for a progress answer that is no hint', async () => {
  const s = scripted(false);
  const mirrors = new KeyMirrors(s.backend, ['/a', '/b'], quietLogger(), () => undefined);
  await mirrors.start();
  s.handlers.get('/a')!.onEvents([put('/a/x', '2', 11)], 11);
  let done: boolean | undefined;
  void mirrors.consistent(['/a', '/b'], 5_000).then((ok) => (done = ok));
  await tick();
  assert.equal(s.progressRequests(), 1);
  s.handlers.get('/b')!.onProgress(11, true);
  await tick();
  assert.equal(done, undefined);
  s.handlers.get('/b')!.onProgress(11);
  await tick();
  assert.equal(done, true);
  // Unconfirmed, the barrier gives up at its deadline.
  s.handlers.get('/a')!.onEvents([put('/a/x', '3', 12)], 12);
  assert.equal(await mirrors.consistent(['/a', '/b'], 20), false);
  await mirrors.close();
});

test('where progress answers settle (etcd 3.4.24+), the barrier asks first and reads only if no answer comes soon', async () => {
  const s = scripted();
  s.backend.progressSettles = () => true;
  const mirrors = new KeyMirrors(s.backend, ['/a', '/b'], quietLogger(), () => undefined);
  await mirrors.start();
  s.handlers.get('/a')!.onEvents([put('/a/x', '2', 11)], 11);
  let done: boolean | undefined;
  void mirrors.consistent(['/a', '/b'], 5_000).then((ok) => (done = ok));
  await tick();
  assert.equal(s.progressRequests(), 1);
  for (const h of s.handlers.values()) h.onProgress(11);
  await tick();
  assert.equal(done, true);
  assert.equal(s.reads.length, 0);
  // No answer (etcd holding it back): a read after a short wait.
  s.handlers.get('/a')!.onEvents([put('/a/x', '3', 12)], 12);
  const next = mirrors.consistent(['/a', '/b'], 5_000);
  await until('the read after no progress answer', () => s.reads.length === 1, 5_000);
  assert.equal(s.reads[0]!.revision, 12);
  s.reads[0]!.answer([{ key: '/b/x', value: '1' }]);
  assert.equal(await next, true);
  await mirrors.close();
});
