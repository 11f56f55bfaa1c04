// fsync of a file or directory, inline where it costs nothing (tmpfs, ramfs), awaited elsewhere.
import { fsync, fsyncSync, statfsSync } from 'node:fs';
import { promisify } from 'node:util';

const fsyncFd = promisify(fsync);

/** Filesystems that keep files in memory (statfs f_type): TMPFS_MAGIC, RAMFS_MAGIC. */
const IN_MEMORY_FS = new Set([0x01021994, 0x858458f6]);
const inMemoryDirs = new Map<string, boolean>();

/**
 * fsync of a file in `dir`. On tmpfs and ramfs the kernel's fsync returns at once (there is no disk):
 * it is called inline there, where a thread-pool round trip costs ~30 us of CPU and the wake-ups
 * (-onetime, 100 files on /dev/shm: ~10 ms CPU, ~18 ms wall; bench/onetime-profile.md). Anywhere
 * else it stays off the event loop, since it can take milliseconds.
 */
export async function fsyncIn(dir: string, fd: number): Promise<void> {
  let inMemory = inMemoryDirs.get(dir);
  if (inMemory === undefined) {
    try {
      inMemory = IN_MEMORY_FS.has(statfsSync(dir).type);
    } catch {
      inMemory = false;
    }
    inMemoryDirs.set(dir, inMemory);
  }
  if (inMemory) fsyncSync(fd);
  else await fsyncFd(fd);
}
