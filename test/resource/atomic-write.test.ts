import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitStageFile, stagePathFor, writeInPlace, writeStageFile } from '../../src/resource/atomic-write.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tsconfd-aw-'));
}

test('stage files are named .<destbase><digits> in the destination directory', () => {
  assert.match(stagePathFor('/etc/nginx/app.conf'), /^\/etc\/nginx\/\.app\.conf\d+$/);
});

test('the stage file gets exactly the requested mode and owner, whatever the umask', async () => {
  const dir = tmp();
  const old = process.umask(0o077);
  try {
    const dest = join(dir, 'app.conf');
    const stage = await writeStageFile(dest, Buffer.from('hello\n'), { mode: 0o664, uid: process.getuid!(), gid: process.getgid!() });
    const st = statSync(stage);
    assert.equal(st.mode & 0o7777, 0o664);
    assert.equal(readFileSync(stage, 'utf8'), 'hello\n');
    const r = await commitStageFile(stage, dest, { mode: 0o664, uid: 0, gid: 0 }, { allowInPlace: true, keepStageFile: false });
    assert.deepEqual(r, { inPlace: false });
    assert.equal(statSync(dest).mode & 0o7777, 0o664);
    assert.deepEqual(readdirSync(dir), ['app.conf']);
  } finally {
    process.umask(old);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing destination directory is reported like Go\'s open error', async () => {
  await assert.rejects(
    writeStageFile('/nonexistent-dir-xyz/app.conf', Buffer.from('x'), { mode: 0o644, uid: 0, gid: 0 }),
    /^Error: open \/nonexistent-dir-xyz\/\.app\.conf\d+: no such file or directory$/,
  );
});

test('an in-place write keeps the inode, cuts the old tail and verifies', async () => {
  const dir = tmp();
  try {
    const dest = join(dir, 'mounted.conf');
    writeFileSync(dest, 'a much longer old content\n');
    const ino = statSync(dest).ino;
    await writeInPlace(dest, Buffer.from('new\n'), { mode: 0o600, uid: process.getuid!(), gid: process.getgid!() });
    assert.equal(readFileSync(dest, 'utf8'), 'new\n');
    assert.equal(statSync(dest).ino, ino);
    assert.equal(statSync(dest).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an in-place write that grows the file writes every byte, in order', async () => {
  const dir = tmp();
  try {
    const dest = join(dir, 'mounted.conf');
    writeFileSync(dest, 'old\n');
    const content = Buffer.from('0123456789abcdef'.repeat(40_000));
    await writeInPlace(dest, content, { mode: 0o644, uid: process.getuid!(), gid: process.getgid!() });
    assert.ok(readFileSync(dest).equals(content));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
