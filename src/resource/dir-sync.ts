// Directory fsyncs: one now (fsyncDir), or shared by a pass (DirSync). A rename is durable once its
// directory is fsynced; -onetime fsyncs each directory once after its renames instead of once per
// file (100 resources in one directory: 1 fsync instead of 100), and always before a reload that
// depends on the new files runs and before the pass ends. The files themselves are fsynced one by
// one, before their rename (atomic-write.ts).
import { closeSync, constants, openSync } from 'node:fs';
import { fsyncIn } from './fsync.js';

export class DirSync {
  private readonly pending = new Set<string>();

  constructor(private readonly fsync: (dir: string) => Promise<void> = fsyncDir) {}

  /** `dir` holds a rename that is not durable yet. */
  add(dir: string): void {
    this.pending.add(dir);
  }

  /** fsyncs every directory added so far; a directory added meanwhile waits for the next flush. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const dirs = [...this.pending];
    this.pending.clear();
    await Promise.all(dirs.map((dir) => this.fsync(dir)));
  }
}

/** Makes a rename durable: the directory entry is on disk once this returns. */
export async function fsyncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await fsyncIn(dir, fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
