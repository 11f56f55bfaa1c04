// The file and env backends' watch side (-watch), on real files and chokidar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileBackend } from '../../../src/backends/file/index.js';
import { createEnvBackend } from '../../../src/backends/env/index.js';
import type { PrefixWatchHandlers, WatchEvent } from '../../../src/backends/types.js';
import { until } from '../../helpers/wait.js';
import { hostTimers } from '../../../src/time/timers.js';

function recorder() {
  const events: WatchEvent[] = [];
  const progress: number[] = [];
  const connection: Array<string | undefined> = [];
  const compacted: number[] = [];
  const handlers: PrefixWatchHandlers = {
    onEvents: (es) => events.push(...es),
    onProgress: (r) => progress.push(r),
    onCompacted: (r) => compacted.push(r),
    onConnection: (e) => connection.push(e?.message),
  };
  return { events, progress, connection, compacted, handlers };
}

test('file backend: an edit saved by rename becomes puts and deletes at the next revision; other prefixes get progress', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-filewatch-'));
  const file = join(dir, 'keys.yaml');
  writeFileSync(file, 'app:\n  a: one\n  b: gone\nother:\n  x: 1\n');
  const backend = createFileBackend({ files: [file] });
  try {
    const snap = await backend.getValues(['/app']);
    assert.equal(snap.revision, 0);
    const app = recorder();
    const other = recorder();
    backend.watchPrefix('/app', snap.revision + 1, app.handlers);
    backend.watchPrefix('/other', snap.revision + 1, other.handlers);
    await new Promise((r) => setTimeout(r, 300)); // chokidar's initial scan
    writeFileSync(`${file}.tmp`, 'app:\n  a: two\n  c: new\nother:\n  x: 1\n');
    renameSync(`${file}.tmp`, file);
    await until('the change', () => app.events.length >= 3, 5_000, () => JSON.stringify(app));
    assert.deepEqual(app.events, [
      { type: 'put', key: '/app/a', value: 'two', revision: 1 },
      { type: 'delete', key: '/app/b', value: '', revision: 1 },
      { type: 'put', key: '/app/c', value: 'new', revision: 1 },
    ]);
    assert.deepEqual(other.events, []);
    assert.ok(other.progress.includes(1), 'the unaffected prefix did not advance to revision 1');
    // A watch that starts behind (a mirror's read raced the change) is sent what it missed.
    const late = recorder();
    backend.watchPrefix('/app', 1, late.handlers);
    await until('the replay', () => late.events.length === 3, 2_000);
    // A read now is at the new revision.
    assert.equal((await backend.getValues(['/app'])).revision, 1);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file backend: a broken file is reported on the watches and its keys kept; the fix arrives as events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-filewatch-'));
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir);
  writeFileSync(join(keysDir, 'a.yaml'), 'app:\n  a: one\n');
  const backend = createFileBackend({ files: [keysDir] });
  try {
    await backend.getValues(['/app']);
    const app = recorder();
    backend.watchPrefix('/app', 1, app.handlers);
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(keysDir, 'a.yaml'), 'app: [\n');
    await until('the error', () => app.connection.some((c) => c !== undefined), 5_000, () => JSON.stringify(app));
    assert.equal(app.events.length, 0, 'events from a broken file');
    // A file added in a new subdirectory of a -file directory counts too.
    mkdirSync(join(keysDir, 'sub'));
    writeFileSync(join(keysDir, 'sub', 'b.yaml'), 'app:\n  b: two\n');
    writeFileSync(join(keysDir, 'a.yaml'), 'app:\n  a: fixed\n');
    await until('the fix', () => app.events.length >= 2, 5_000, () => JSON.stringify(app));
    assert.equal(app.connection.at(-1), undefined);
    assert.deepEqual(
      app.events.map((e) => [e.type, e.key, e.value]),
      [
        ['put', '/app/a', 'fixed'],
        ['put', '/app/b', 'two'],
      ],
    );
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
    await backend.getValues(['/app']);
    const app = recorder();
    backend.watchPrefix('/app', 1, app.handlers);
    await new Promise((r) => setTimeout(r, 300));
    mkdirSync(join(dir, '..v2'));
    writeFileSync(join(dir, '..v2', 'keys.yaml'), 'app:\n  a: two\n');
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await until('the swap', () => app.events.length >= 1, 5_000, () => JSON.stringify(app));
    assert.deepEqual(app.events, [{ type: 'put', key: '/app/a', value: 'two', revision: 1 }]);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('env backend: watches never send events (the environment cannot change) and answer progress', async () => {
  const backend = createEnvBackend({ APP_X: '1' });
  const app = recorder();
  const w = backend.watchPrefix('/app', 1, app.handlers);
  backend.requestProgress();
  await until('progress', () => app.progress.length === 1, 2_000);
  assert.deepEqual(app.progress, [0]);
  assert.deepEqual(app.events, []);
  await w.cancel();
  await backend.close();
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
    sleep: hostTimers.sleep,
  };
  const backend = createFileBackend({ files: [file], timers });
  try {
    const snap = await backend.getValues(['/app']);
    const app = recorder();
    backend.watchPrefix('/app', snap.revision + 1, app.handlers);
    await new Promise((r) => setTimeout(r, 300)); // chokidar's initial scan
    writeFileSync(file, 'app:\n  a: two\n');
    await until('the change', () => app.events.length >= 1, 5_000, () => JSON.stringify(app));
    assert.ok(asked.length >= 1 && asked.every((ms) => ms === 20), `asked the scheduler for ${JSON.stringify(asked)}`);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
