// The file and env backends' watch side (-watch), on real files and chokidar: the file backend's
// "prefix changed" feed, and the env backend read once by the core (a static backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileBackend } from '../../../src/backends/file/index.js';
import { watchableFiles } from '../../../src/backends/file/watch.js';
import { createEnvBackend } from '../../../src/backends/env/index.js';
import type { ChangeFeedHandlers, KeyChange, KeyValue } from '../../../src/backends/types.js';
import { staticFeed } from '../../../src/runtime/static-feed.js';
import { until } from '../../helpers/wait.js';
import { hostTimers } from '../../../src/time/timers.js';

function recorder() {
  const snapshots: KeyValue[][] = [];
  const keys: KeyChange[] = [];
  const alive: number[] = [];
  const connection: Array<string | undefined> = [];
  const handlers: ChangeFeedHandlers = {
    onSnapshot: (kvs) => snapshots.push(kvs),
    onKeys: (cs) => keys.push(...cs),
    onUnreadable: (e) => connection.push(`unreadable: ${e.message}`),
    onAlive: () => alive.push(Date.now()),
    onConnection: (e) => connection.push(e?.message),
  };
  return { snapshots, keys, alive, connection, handlers };
}

test('file backend: a feed starts with its prefix read afresh; an edit saved by rename sends the changed keys to the prefixes covering them, without revisions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-filewatch-'));
  const file = join(dir, 'keys.yaml');
  writeFileSync(file, 'app:\n  a: one\n  b: gone\nother:\n  x: 1\n');
  const backend = createFileBackend({ files: [file] });
  try {
    const snap = await backend.getValues(['/app']);
    assert.equal(snap.revision, 0);
    const app = recorder();
    const other = recorder();
    backend.watchChanges('/app', app.handlers);
    backend.watchChanges('/other', other.handlers);
    await until('the first snapshots', () => app.snapshots.length === 1 && other.snapshots.length === 1, 5_000);
    assert.deepEqual(app.snapshots[0], [
      { key: '/app/a', value: 'one' },
      { key: '/app/b', value: 'gone' },
    ]);
    assert.deepEqual(other.snapshots[0], [{ key: '/other/x', value: '1' }]);
    await new Promise((r) => setTimeout(r, 300)); // chokidar's initial scan
    writeFileSync(`${file}.tmp`, 'app:\n  a: two\n  c: new\nother:\n  x: 1\n');
    renameSync(`${file}.tmp`, file);
    await until('the change', () => app.keys.length >= 3, 5_000, () => JSON.stringify(app));
    assert.deepEqual(app.keys, [
      { key: '/app/a', value: 'two' },
      { key: '/app/b', value: undefined },
      { key: '/app/c', value: 'new' },
    ]);
    assert.deepEqual(other.keys, []);
    backend.requestProgress();
    await until('liveness answered', () => other.alive.length > 0, 2_000);
    // A read gives the new keys, and no revision is made up.
    assert.deepEqual(await backend.getValues(['/app']), { kvs: [{ key: '/app/a', value: 'two' }, { key: '/app/c', value: 'new' }], revision: 0 });
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file backend: a broken file is reported on the feeds; the fix arrives as a fresh snapshot', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-filewatch-'));
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir);
  writeFileSync(join(keysDir, 'a.yaml'), 'app:\n  a: one\n');
  const backend = createFileBackend({ files: [keysDir] });
  try {
    const app = recorder();
    backend.watchChanges('/app', app.handlers);
    await until('the first snapshot', () => app.snapshots.length === 1, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(keysDir, 'a.yaml'), 'app: [\n');
    await until('the error', () => app.connection.some((c) => c !== undefined), 5_000, () => JSON.stringify(app));
    assert.equal(app.keys.length, 0, 'keys from a broken file');
    // A file added in a new subdirectory of a -file directory counts too.
    mkdirSync(join(keysDir, 'sub'));
    writeFileSync(join(keysDir, 'sub', 'b.yaml'), 'app:\n  b: two\n');
    writeFileSync(join(keysDir, 'a.yaml'), 'app:\n  a: fixed\n');
    await until('the fix', () => app.snapshots.length >= 2 && app.snapshots.at(-1)!.length === 2, 5_000, () => JSON.stringify(app));
    assert.equal(app.connection.at(-1), undefined);
    assert.deepEqual(app.snapshots.at(-1), [
      { key: '/app/a', value: 'fixed' },
      { key: '/app/b', value: 'two' },
    ]);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file backend: a Kubernetes ConfigMap ..data symlink swap is seen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-filewatch-'));
  mkdirSync(join(dir, '..v1'));
  writeFileSync(join(dir, '..v1', 'keys.yaml'), 'app:\n  a: one\n');
  symlinkSync('..v1', join(dir, '..data'));
  symlinkSync('..data/keys.yaml', join(dir, 'keys.yaml'));
  const backend = createFileBackend({ files: [join(dir, 'keys.yaml')] });
  try {
    const app = recorder();
    backend.watchChanges('/app', app.handlers);
    await until('the first snapshot', () => app.snapshots.length === 1, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    mkdirSync(join(dir, '..v2'));
    writeFileSync(join(dir, '..v2', 'keys.yaml'), 'app:\n  a: two\n');
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await until('the swap', () => app.keys.length >= 1, 5_000, () => JSON.stringify(app));
    assert.deepEqual(app.keys, [{ key: '/app/a', value: 'two' }]);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('env backend: static (no change feed): -watch reads it once through the core, and liveness is always answered', async () => {
  const backend = createEnvBackend({ APP_X: '1' });
  assert.equal(backend.changeFeed, 'none');
  assert.equal('watchPrefix' in backend || 'watchChanges' in backend, false, 'a static backend watches nothing itself');
  const feed = staticFeed(backend);
  const app = recorder();
  const w = feed.watchChanges('/app', app.handlers);
  await until('the read', () => app.snapshots.length === 1, 2_000);
  assert.deepEqual(app.snapshots[0], [{ key: '/app/x', value: '1' }]);
  feed.requestProgress();
  await until('liveness', () => app.alive.length === 1, 2_000);
  assert.deepEqual(app.keys, []);
  await w.cancel();
  await feed.close();
});

test('file backend: feeds subscribed together share one read; files that cannot be read are read again without a file event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-filewatch-'));
  let reads = 0;
  let readable = false;
  const backend = watchableFiles({
    files: [join(dir, 'missing', 'keys.yaml')],
    read: async () => {
      reads++;
      if (!readable) throw new Error('not there yet');
      return new Map([['/p0/k', 'v']]);
    },
  });
  try {
    const feeds = Array.from({ length: 50 }, (_, i) => {
      const r = recorder();
      backend.watchChanges(`/p${i}`, r.handlers);
      return r;
    });
    await until('the failure reported', () => feeds.every((f) => f.connection.length > 0), 5_000);
    // One read for the fifty subscriptions, and one once the file system watch is live (a change between the two would be missed).
    assert.ok(reads <= 2, `fifty feeds subscribed at once made ${reads} reads`);
    readable = true;
    await until('the retry', () => feeds.every((f) => f.snapshots.length === 1), 5_000, () => `reads: ${reads}`);
    assert.deepEqual(feeds[0]!.snapshots[0], [{ key: '/p0/k', value: 'v' }]);
    assert.deepEqual(feeds[1]!.snapshots[0], []);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file backend: its debounce runs on the TimerSource the runtime hands it, not on its own clock', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-filewatch-'));
  const file = join(dir, 'keys.yaml');
  writeFileSync(file, 'app:\n  a: one\n');
  const asked: number[] = [];
  const timers = {
    after: (ms: number, fn: () => void) => {
      asked.push(ms);
      return hostTimers.after(ms, fn);
    },
    every: hostTimers.every,
    soon: hostTimers.soon,
    sleep: hostTimers.sleep,
  };
  const backend = createFileBackend({ files: [file], timers });
  try {
    const app = recorder();
    backend.watchChanges('/app', app.handlers);
    await until('the first snapshot', () => app.snapshots.length === 1, 5_000);
    await new Promise((r) => setTimeout(r, 300)); // chokidar's initial scan
    writeFileSync(file, 'app:\n  a: two\n');
    await until('the change', () => app.keys.length >= 1, 5_000, () => JSON.stringify(app));
    assert.ok(asked.length >= 1 && asked.every((ms) => ms === 20 || ms === 70), `asked the scheduler for ${JSON.stringify(asked)}`);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file backend: a second save within chokidar\'s 50 ms change throttle is not lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-filewatch-'));
  const file = join(dir, 'keys.yaml');
  const save = (v: string) => {
    writeFileSync(`${file}.tmp`, `app:\n  a: "${v}"\n`);
    renameSync(`${file}.tmp`, file);
  };
  save('0');
  const backend = createFileBackend({ files: [file] });
  try {
    const app = recorder();
    backend.watchChanges('/app', app.handlers);
    await until('the first snapshot', () => app.snapshots.length === 1, 5_000);
    await new Promise((r) => setTimeout(r, 300)); // chokidar's initial scan
    const latest = () => app.keys.at(-1)?.value;
    for (let i = 1; i <= 5; i++) {
      save(`${i}a`);
      await until(`save ${i}a seen`, () => latest() === `${i}a`, 5_000, () => JSON.stringify(app.keys));
      // At once: chokidar saw the first save a few ms ago and drops this one's event.
      save(`${i}b`);
      await until(`save ${i}b seen`, () => latest() === `${i}b`, 2_000, () => JSON.stringify(app.keys));
    }
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
