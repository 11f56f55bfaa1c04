// A resource reading two prefixes whose watches were both compacted (etcd compacted the history
// while the agent's endpoint was down): the re-reads finish one after the other, and the change the
// first one found must reach the file even though the second one found nothing new. The watch
// runtime in process over a scripted backend, so the order of the two re-reads is the test's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace } from '../harness/onetime-harness.js';
import { until } from '../../helpers/wait.js';
import { loadResources } from '../../../src/resource/load.js';
import { WatchRuntime } from '../../../src/runtime/watch.js';
import type { KeyValue, PrefixWatchHandlers, Snapshot, WatchableBackend } from '../../../src/backends/types.js';
import { quietLogger } from '../../helpers/log.js';

test('a change found by one re-read after a compaction reaches the file when the other prefix re-reads unchanged', async () => {
  const ws = new Workspace({
    'conf.d/ab.toml': `[template]\nsrc = "ab.tmpl"\ndest = "@OUT@/ab.conf"\nkeys = ["/a", "/b"]\n`,
    'templates/ab.tmpl': '{{range gets "/*/*"}}{{.Key}}={{.Value}}\n{{end}}',
  });
  const store = new Map([['/a/x', '1'], ['/b/x', '1']]);
  const handlers = new Map<string, PrefixWatchHandlers>();
  /** Re-reads of one prefix held until the test answers them. */
  const held: Array<{ prefix: string; answer: () => void }> = [];
  let holding = false;
  const snap = (prefixes: readonly string[], revision: number): Snapshot => {
    const kvs: KeyValue[] = [...store].filter(([k]) => prefixes.some((p) => k.startsWith(p + '/'))).map(([key, value]) => ({ key, value }));
    return { kvs: kvs.sort((x, y) => (x.key < y.key ? -1 : 1)), revision };
  };
  let revision = 10;
  const backend: WatchableBackend = {
    name: 'scripted',
    changeFeed: 'revisioned',
    async getValues(prefixes) {
      if (!holding) return snap(prefixes, revision);
      return new Promise((resolve) => held.push({ prefix: prefixes.join(','), answer: () => resolve(snap(prefixes, revision)) }));
    },
    async getValuesAt(prefixes, at) {
      return snap(prefixes, at);
    },
    watchPrefix(prefix, _from, h) {
      handlers.set(prefix, h);
      return { cancel: async () => undefined };
    },
    requestProgress() {},
    async close() {},
  };
  const log = quietLogger();
  const runtime = new WatchRuntime(loadResources({ confdir: ws.confdir, prefix: '', log }), backend, {
    noop: false, syncOnly: true, keepStageFile: false, commandTimeoutMs: 10_000, log, writeDiff: () => undefined,
    wait: { minMs: 0, maxMs: 0 }, reconcileMs: 0, staleAfterMs: 0,
  });
  const file = () => (existsSync(join(ws.out, 'ab.conf')) ? readFileSync(join(ws.out, 'ab.conf'), 'utf8') : '');
  try {
    await runtime.start();
    await until('the first render', () => file() === '/a/x=1\n/b/x=1\n');
    // While the endpoint was down: /a/x changed and the history was compacted past it.
    store.set('/a/x', '2');
    revision = 12;
    holding = true;
    handlers.get('/a')!.onCompacted(12);
    handlers.get('/b')!.onCompacted(12);
    await until('both re-reads asked', () => held.length === 2);
    // /a's re-read comes first and finds the change: the render it asks for finds /b still re-reading.
    held.find((h) => h.prefix === '/a')!.answer();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(file(), '/a/x=1\n/b/x=1\n', 'no render while /b is re-reading');
    // /b's re-read changes nothing; the file must still follow /a's change.
    held.find((h) => h.prefix === '/b')!.answer();
    await until('the change found by the first re-read', () => file() === '/a/x=2\n/b/x=1\n', 5_000, () => file());
  } finally {
    await runtime.stop();
    ws.cleanup();
  }
});
