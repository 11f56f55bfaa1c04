// -onetime's shared directory fsyncs (resource/dir-sync.ts): each directory once per flush, nothing
// added during a flush lost, and a reload never runs before its file's directory entry is durable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { quietLogger } from '../helpers/log.js';
import { DirSync } from '../../src/resource/dir-sync.js';
import { loadResources } from '../../src/resource/load.js';
import { processFanout } from '../../src/resource/fanout.js';
import { processResource } from '../../src/resource/process.js';
import { KeyStore } from '../../src/template/confd/store.js';

test('each directory is fsynced once per flush; one added while a flush runs waits for the next', async () => {
  const synced: string[] = [];
  let release: () => void = () => undefined;
  const sync = new DirSync(async (dir) => {
    synced.push(dir);
    if (dir === '/a') await new Promise<void>((r) => (release = r));
  });
  sync.add('/a');
  sync.add('/b');
  sync.add('/a');
  const first = sync.flush();
  sync.add('/c');
  release();
  await first;
  assert.deepEqual(synced.sort(), ['/a', '/b']);
  await sync.flush();
  assert.deepEqual(synced.sort(), ['/a', '/b', '/c']);
  await sync.flush();
  assert.equal(synced.length, 3);
});

function confdir(extra: string): { root: string; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'dir-sync-'));
  const out = join(root, 'out');
  mkdirSync(join(root, 'conf.d'));
  mkdirSync(join(root, 'templates'));
  mkdirSync(out);
  writeFileSync(join(root, 'conf.d/app.toml'), `[template]\nsrc = "app.tmpl"\ndest = "${out}/app.conf"\nkeys = ["/a"]\n${extra}`);
  writeFileSync(join(root, 'templates/app.tmpl'), 'a={{getv "/a"}}\n');
  return { root, out };
}

const opts = (dirSync: DirSync) => ({ noop: false, syncOnly: false, keepStageFile: false, commandTimeoutMs: 5000, log: quietLogger(), writeDiff: () => undefined, dirSync });

test('a written file leaves its directory to the pass flush; with a reload_cmd the directory is fsynced before the reload runs', async () => {
  const plain = confdir('');
  const reloading = confdir('reload_cmd = "touch RELOADED"\n');
  try {
    const synced: Array<{ dir: string; reloadedYet: boolean }> = [];
    const marker = join(reloading.out, 'reloaded');
    writeFileSync(join(reloading.root, 'conf.d/app.toml'), readFileSync(join(reloading.root, 'conf.d/app.toml'), 'utf8').replace('RELOADED', marker));
    const dirSync = new DirSync(async (dir) => void synced.push({ dir, reloadedYet: existsSync(marker) }));
    const store = new KeyStore([['/a', '1']]);

    const [p] = loadResources({ confdir: plain.root, prefix: '', log: quietLogger() });
    assert.equal(await processResource(p!, store, opts(dirSync)), 'updated');
    assert.equal(readFileSync(join(plain.out, 'app.conf'), 'utf8'), 'a=1\n');
    assert.equal(synced.length, 0, 'no directory fsync before the flush');

    const [r] = loadResources({ confdir: reloading.root, prefix: '', log: quietLogger() });
    assert.equal(await processResource(r!, store, opts(dirSync)), 'updated');
    assert.ok(existsSync(marker), 'the reload ran');
    assert.deepEqual(
      synced.map((s) => s.dir).sort(),
      [plain.out, reloading.out].sort(),
      'the reload flushed every pending directory, the earlier resource\'s too',
    );
    assert.ok(synced.every((s) => !s.reloadedYet), 'fsynced before the reload');
    assert.equal(dirname(r!.dest), reloading.out);
  } finally {
    rmSync(plain.root, { recursive: true, force: true });
    rmSync(reloading.root, { recursive: true, force: true });
  }
});

test('a fan-out\'s reload_cmd, like a single resource\'s, runs only once its files\' directory is fsynced', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dir-sync-'));
  const out = join(root, 'out');
  const marker = join(root, 'reloaded');
  try {
    mkdirSync(join(root, 'conf.d'));
    mkdirSync(join(root, 'templates'));
    mkdirSync(out);
    writeFileSync(
      join(root, 'conf.d/sites.toml'),
      `[template]\nsrc = "site.tmpl"\ndest = "${out}/{{base .Key}}.conf"\nrange = "/sites/*"\nreload_cmd = "touch ${marker}"\n`,
    );
    writeFileSync(join(root, 'templates/site.tmpl'), '{{.Value}}\n');
    const synced: Array<{ dir: string; reloadedYet: boolean }> = [];
    const dirSync = new DirSync(async (dir) => void synced.push({ dir, reloadedYet: existsSync(marker) }));
    const [r] = loadResources({ confdir: root, prefix: '', log: quietLogger() });
    assert.equal(await processFanout(r!, new KeyStore([['/sites/a', '1']]), opts(dirSync)), 'updated');
    assert.equal(readFileSync(join(out, 'a.conf'), 'utf8'), '1\n');
    assert.ok(existsSync(marker), 'the reload ran');
    assert.ok(synced.some((s) => s.dir === out && !s.reloadedYet), `the file's directory fsynced before the reload: ${JSON.stringify(synced)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
