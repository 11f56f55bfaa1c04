// The consistency barrier asks etcd again when a progress answer comes back below the revision it
// waits for: etcd delivers a revision's events before its store reaches that revision, so a quick
// progress request may be answered with the revision before, and then no other answer comes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyMirrors } from '../../src/runtime/mirror.js';
import type { PrefixWatchHandlers, Snapshot, WatchableBackend } from '../../src/backends/types.js';
import { quietLogger } from '../helpers/log.js';

test('a progress answer below the target is followed by another request, not by the timeout', async () => {
  const handlers = new Map<string, PrefixWatchHandlers>();
  let head = 10;
  const asked: number[] = [];
  const source: WatchableBackend = {
    name: 'scripted',
    changeFeed: 'revisioned',
    async getValues(prefixes): Promise<Snapshot> {
      return { kvs: prefixes.map((p) => ({ key: `${p}/k`, value: '0' })), revision: head };
    },
    watchPrefix(prefix, _from, h) {
      handlers.set(prefix, h);
      return { cancel: async () => undefined };
    },
    requestProgress() {
      // Answered on the next turn with the store's revision at that moment.
      asked.push(head);
      const at = head;
      setImmediate(() => {
        for (const h of handlers.values()) h.onProgress(at);
      });
    },
    async close() {},
  };
  const mirrors = new KeyMirrors(source, ['/a', '/b'], quietLogger(), () => undefined);
  await mirrors.start();
  // Revision 11's event reaches /a while the store still says 10: the first answer is 10.
  handlers.get('/a')!.onEvents([{ type: 'put', key: '/a/k', value: '1', revision: 11 }], 11);
  const started = Date.now();
  const consistent = mirrors.consistent(['/a', '/b'], 5_000);
  await new Promise((resolve) => setTimeout(resolve, 1)); // the first answer (10) has come meanwhile
  head = 11;
  assert.equal(await consistent, true);
  assert.ok(asked.length >= 2 && asked[0] === 10 && asked.at(-1) === 11, `progress asked at ${asked.join(', ')}`);
  assert.ok(Date.now() - started < 4_000, 'answered by a second request, long before the timeout');
  await mirrors.close();
});
