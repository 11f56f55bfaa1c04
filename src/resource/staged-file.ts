// Staging and commit: a new destination's bytes go to a stage file beside it (written, fsynced:
// atomic-write.ts), which check commands read, and which is then renamed over the destination
// (directory fsynced at once or with the pass's DirSync) or removed. Whatever happens, the stage
// file does not outlive its step, unless -keep-stage-file keeps it.
import { unlink } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { commitStageFile, writeStageFile, type CommitResult, type FileAttrs } from './atomic-write.js';
import type { DirSync } from './dir-sync.js';

export interface CommitOptions {
  /** A destination that cannot be renamed over (a bind mount) may be rewritten in place (the resource's in_place). */
  allowInPlace: boolean;
  keepStageFile: boolean;
  /** -onetime: the directory fsync is shared by the pass (dir-sync.ts); otherwise it is done before commit returns. */
  dirSync?: DirSync;
}

export class StagedFile {
  private pending = true;

  private constructor(
    readonly dest: string,
    /** The stage file: `.<dest base><digits>` in dest's directory. */
    readonly path: string,
    private readonly attrs: FileAttrs,
  ) {}

  /** Writes content with attrs to a new, fsynced stage file for dest. Throws the located write error. */
  static async write(dest: string, content: Buffer, attrs: FileAttrs): Promise<StagedFile> {
    return new StagedFile(dest, await writeStageFile(dest, content, attrs), attrs);
  }

  /** Moves the stage file over dest; once this returns, there is nothing left to discard. */
  async commit(opts: CommitOptions): Promise<CommitResult> {
    const result = await commitStageFile(this.path, this.dest, this.attrs, opts);
    this.pending = false;
    return result;
  }

  /** Removes the stage file unless it was committed; -keep-stage-file keeps it and says where. */
  async discard(keep?: { keepStageFile: boolean; log: Logger }): Promise<void> {
    if (!this.pending) return;
    this.pending = false;
    if (keep?.keepStageFile) keep.log.info(`Keeping staged file: ${this.path}`);
    else await unlink(this.path).catch(() => {});
  }
}

/** Replaces path with content atomically (stage file, fsync, rename, directory fsync); the stage file is removed on failure. */
export async function replaceFile(path: string, content: Buffer, attrs: FileAttrs, opts: { allowInPlace: boolean }): Promise<CommitResult> {
  const staged = await StagedFile.write(path, content, attrs);
  try {
    return await staged.commit({ allowInPlace: opts.allowInPlace, keepStageFile: false });
  } finally {
    await staged.discard();
  }
}
