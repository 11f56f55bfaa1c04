// Pure logic of the watch runtime: the mirrors' bookkeeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyMirrors, type MirrorChange } from '../../src/runtime/mirror.js';
import { minimalCover } from '../../src/keys/index.js';
import type { PrefixWatchHandlers, Snapshot, WatchableBackend } from '../../src/backends/types.js';
import { quietLogger } from '../helpers/log.js';

test('one mirror per prefix not covered by another', () => {
  assert.deepEqual(minimalCover(['/svc/b', '/svc', '/svc/a', '/svcx', '/other/x', '/other/x']), ['/other/x', '/svc', '/svcx']);
  assert.deepEqual(minimalCover(['/', '/a']), ['/']);
});

// A scripted in-memory source: the mirror's bookkeeping is pure logic (etcd behaviour itself is
// covered against real etcd in test/backends/etcdv3 and test/e2e/watch/).

test('mirrors apply events in order, keep byte order, and give each resource its covered keys', async () => {
  const handlers: PrefixWatchHandlers[] = [];
  const source: WatchableBackend = {
    name: 'scripted',
    changeFeed: 'revisioned',
    async getValues(prefixes): Promise<Snapshot> {
      assert.deepEqual(prefixes, ['/svc']);
      return { kvs: [{ key: '/svc/a', value: '1' }, { key: '/svc/c', value: '3' }], revision: 10 };
    },
    watchPrefix(prefix, from, h) {
      assert.equal(prefix, '/svc');
      assert.equal(from, 11);
      handlers.push(h);
      return { cancel: async () => undefined };
    },
    requestProgress() {},
    async close() {},
  };
  const changes: MirrorChange[] = [];
  const mirrors = new KeyMirrors(source, ['/svc/a', '/svc', '/svc/c'], quietLogger(), (c) => changes.push(c));
  await mirrors.start();
  assert.equal(mirrors.mirrors.length, 1);
  assert.deepEqual(changes.map((c) => c.keys), [['/svc/a', '/svc/c']]);
  const h = handlers[0]!;
  h.onEvents(
    [
      { type: 'put', key: '/svc/b', value: '2', revision: 11 },
      { type: 'put', key: '/svc/a', value: '1', revision: 12 }, // same value: not a change
      { type: 'delete', key: '/svc/c', value: '', revision: 13 },
      { type: 'put', key: '/svc/\u00e9', value: 'e', revision: 14 },
      { type: 'put', key: '/svc/a/deep', value: 'd', revision: 14 },
    ],
    14,
  );
  assert.deepEqual(changes.at(-1)!.keys, ['/svc/b', '/svc/c', '/svc/\u00e9', '/svc/a/deep']);
  assert.deepEqual(mirrors.snapshot(['/svc']), {
    kvs: [
      { key: '/svc/a', value: '1' },
      { key: '/svc/a/deep', value: 'd' },
      { key: '/svc/b', value: '2' },
      { key: '/svc/\u00e9', value: 'e' },
    ],
    revision: 14,
  });
  assert.deepEqual(mirrors.snapshot(['/svc/a']).kvs.map((kv) => kv.key), ['/svc/a', '/svc/a/deep']);
  // Events at or below the last read's revision are already in the maps and are ignored.
  h.onEvents([{ type: 'delete', key: '/svc/a', value: '', revision: 10 }], 14);
  assert.equal(mirrors.snapshot(['/svc/a']).kvs.length, 2);
  // A progress hint never hides later-delivered events (etcd < 3.4.24 answers progress early).
  h.onProgress(20);
  h.onEvents([{ type: 'put', key: '/svc/late', value: 'x', revision: 15 }], 15);
  assert.deepEqual(mirrors.snapshot(['/svc/late']).kvs, [{ key: '/svc/late', value: 'x' }]);
  await mirrors.close();
});
