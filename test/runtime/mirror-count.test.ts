// KeyMirrors.count: what a render needs of the mirrors (how many keys, which revision) without
// copying them; it must agree with snapshot() for any set of a resource's keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyMirrors } from '../../src/runtime/mirror.js';
import type { KeyValue, PrefixWatchHandlers, Snapshot, WatchableBackend } from '../../src/backends/types.js';
import { quietLogger } from '../helpers/log.js';

test('count agrees with snapshot, across prefixes, nesting and lookalike names, as events arrive', async () => {
  const handlers = new Map<string, PrefixWatchHandlers>();
  const kvs: KeyValue[] = ['/a', '/a/x', '/a/x/deep', '/a/xy', '/a/y', '/ab/z', '/b/1', '/b/2', '/b/\u00e9'].map((key) => ({ key, value: 'v' }));
  const source: WatchableBackend = {
    name: 'scripted',
    changeFeed: 'revisioned',
    async getValues(prefixes): Promise<Snapshot> {
      return { kvs: kvs.filter((kv) => prefixes.some((p) => kv.key === p || kv.key.startsWith(p + '/'))), revision: 5 };
    },
    watchPrefix(prefix, _from, h) {
      handlers.set(prefix, h);
      return { cancel: async () => undefined };
    },
    requestProgress() {},
    async close() {},
  };
  const mirrors = new KeyMirrors(source, ['/a', '/a/x', '/b', '/ab'], quietLogger(), () => undefined);
  await mirrors.start();
  const keySets = [['/a'], ['/a/x'], ['/a/x', '/b'], ['/b', '/a/x', '/a/x'], ['/a', '/ab', '/b'], ['/a/xy'], ['/a/nothing'], ['/ab'], ['/b/\u00e9'], []];
  const agree = () => {
    for (const keys of keySets) {
      const snap = mirrors.snapshot(keys);
      assert.deepEqual(mirrors.count(keys), { size: snap.kvs.length, revision: snap.revision }, `keys ${JSON.stringify(keys)}`);
    }
  };
  agree();
  assert.deepEqual(mirrors.count(['/a/x', '/b']), { size: 5, revision: 5 });
  handlers.get('/a')!.onEvents(
    [
      { type: 'put', key: '/a/x/new', value: 'n', revision: 6 },
      { type: 'delete', key: '/a/xy', value: '', revision: 7 },
    ],
    7,
  );
  agree();
  assert.deepEqual(mirrors.count(['/a/x', '/b']), { size: 6, revision: 7 });
  handlers.get('/b')!.onEvents([{ type: 'delete', key: '/b/1', value: '', revision: 8 }], 8);
  agree();
  assert.deepEqual(mirrors.count(['/a/x', '/b']), { size: 5, revision: 8 });
  await mirrors.close();
});
