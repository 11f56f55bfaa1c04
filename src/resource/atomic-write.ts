// Writing a destination so that readers see the old file or the new one, never a mix:
// a stage file beside the destination (same filesystem, so rename is atomic), explicit mode
// and owner (umask and root's ownership would win otherwise), fsync, rename, fsync of the
// directory. A destination that is a bind-mounted single file cannot be renamed over (EBUSY,
// or EXDEV); confd writes those in place, and so do we unless the resource forbids it.
import { open, unlink, readFile } from 'node:fs/promises';
import { closeSync, constants, fchmodSync, fchownSync, openSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomInt } from 'node:crypto';
import { pathError } from './errors.js';
import { fsyncIn } from './fsync.js';
import { fsyncDir, type DirSync } from './dir-sync.js';

export interface FileAttrs {
  /** Permission bits (and setuid/setgid/sticky) given to the file. */
  mode: number;
  uid: number;
  gid: number;
}

/** Go's os.CreateTemp(dir, "." + base(dest)): `.<destbase><random digits>` in the destination's directory. */
export function stagePathFor(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}${randomInt(0, 2 ** 32 - 1)}`);
}

/**
 * Writes content to a new stage file with the given attributes, fsynced. Returns its path.
 * Only the fsync is awaited: open, write (into the page cache), chmod, chown and close return in
 * microseconds, while each awaited call costs a thread-pool round trip (-onetime with 100
 * resources: ~25 ms of CPU, bench/onetime-profile.md). fsync can take milliseconds on a disk, so
 * it stays off the event loop.
 */
export async function writeStageFile(dest: string, content: Buffer, attrs: FileAttrs): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const path = stagePathFor(dest);
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 100) continue;
      throw pathError('open', path, e);
    }
    try {
      writeAllSync(fd, content);
      fchmodSync(fd, attrs.mode);
      try {
        fchownSync(fd, attrs.uid, attrs.gid);
      } catch {
        /* ignored on purpose, as confd does */
      }
      await fsyncIn(dirname(path), fd);
    } catch (e) {
      try {
        closeSync(fd);
      } catch {
        /* the write error is the one to report */
      }
      await unlink(path).catch(() => {});
      throw pathError('write', path, e);
    }
    closeSync(fd);
    return path;
  }
}

/** write(2) may write fewer bytes than asked (a filesystem filling up): keep going until all are written or it fails. */
function writeAllSync(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) {
    const n = writeSync(fd, bytes, done, bytes.length - done);
    if (n <= 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    done += n;
  }
}

/** confd ignores chown errors (a non-root agent writing its own files). */
async function chownQuietly(fh: { chown(uid: number, gid: number): Promise<void> }, attrs: FileAttrs): Promise<void> {
  try {
    await fh.chown(attrs.uid, attrs.gid);
  } catch {
    /* ignored on purpose, as confd does */
  }
}

export interface CommitResult {
  /** True when the destination was rewritten in place because rename was refused. */
  inPlace: boolean;
  renameError?: string;
}

/**
 * Moves the stage file over dest. When rename is refused with EBUSY or EXDEV and in-place
 * writes are allowed, rewrites dest's content in place, reads it back to verify, and removes
 * the stage file (unless keepStageFile).
 */
export async function commitStageFile(
  stagePath: string,
  dest: string,
  attrs: FileAttrs,
  opts: { allowInPlace: boolean; keepStageFile: boolean; dirSync?: DirSync },
): Promise<CommitResult> {
  try {
    renameSync(stagePath, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EBUSY' && code !== 'EXDEV') throw renameError(stagePath, dest, e);
    if (!opts.allowInPlace) {
      throw new Error(`${renameError(stagePath, dest, e).message}; in_place = false forbids writing the file in place`);
    }
    const content = await readFile(stagePath);
    await writeInPlace(dest, content, attrs);
    if (!opts.keepStageFile) await unlink(stagePath).catch(() => {});
    return { inPlace: true, renameError: renameError(stagePath, dest, e).message };
  }
  // A pass that shares directory fsyncs (dir-sync.ts) makes the rename durable later, before anything depends on it.
  if (opts.dirSync) opts.dirSync.add(dirname(dest));
  else await fsyncDir(dirname(dest));
  return { inPlace: false };
}

function renameError(from: string, to: string, e: unknown): Error {
  const base = pathError('rename', from, e);
  return new Error(base.message.replace(`rename ${from}:`, `rename ${from} ${to}:`));
}

/**
 * Overwrites dest's bytes without replacing the inode. The new bytes past the old length go
 * first: on a full filesystem that is where space runs out, and cutting them off again leaves
 * the old content untouched. Only then is the old part overwritten (which needs no new blocks on
 * most filesystems) and any old tail cut, so the file is never empty. Should any step fail,
 * or the read-back differ, the old bytes are written back before the error is reported.
 */
export async function writeInPlace(dest: string, content: Buffer, attrs: FileAttrs): Promise<void> {
  const fh = await open(dest, 'r+').catch((e) => {
    throw pathError('open', dest, e);
  });
  let old: Buffer;
  try {
    old = await fh.readFile();
  } catch (e) {
    await fh.close();
    throw pathError('read', dest, e);
  }
  try {
    try {
      if (content.length > old.length) {
        await writeAllAt(fh, content.subarray(old.length), old.length);
        await fh.sync();
      }
      await writeAllAt(fh, content.subarray(0, Math.min(old.length, content.length)), 0);
      if (content.length < old.length) await fh.truncate(content.length);
      await fh.sync();
      const back = await readAllAt(fh, content.length + 1);
      if (!back.equals(content)) {
        throw new Error(`could not be verified: read back ${back.length} bytes, wrote ${content.length}`);
      }
    } catch (e) {
      const restored = await restore(fh, old);
      const why = e instanceof Error && e.message.startsWith('could not be verified') ? e.message : pathError('write', dest, e).message;
      throw new Error(`in-place write of ${dest} failed (${why}); ${restored}`);
    }
    await fh.chmod(attrs.mode);
    await chownQuietly(fh, attrs);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

type Handle = Awaited<ReturnType<typeof open>>;

/** write(2) may write fewer bytes than asked (a filesystem filling up): keep going until all are written or it fails. */
async function writeAllAt(fh: Handle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

/** Reads the file from offset 0, at most limit bytes (limit one past the expected size tells a longer file apart). */
async function readAllAt(fh: Handle, limit: number): Promise<Buffer> {
  const buf = Buffer.alloc(limit);
  let got = 0;
  while (got < limit) {
    const { bytesRead } = await fh.read(buf, got, limit - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Puts the old bytes back after a failed in-place write; cuts first so the space it took is free again. */
async function restore(fh: Handle, old: Buffer): Promise<string> {
  try {
    await fh.truncate(old.length);
    await writeAllAt(fh, old, 0);
    await fh.sync();
    const back = await readAllAt(fh, old.length + 1);
    return back.equals(old) ? 'the old content was kept' : 'the old content could NOT be restored';
  } catch (e) {
    return `the old content could NOT be restored: ${(e as Error).message}`;
  }
}
