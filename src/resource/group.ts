// Commit groups (commit_group = "nginx"): files that are only valid together are rendered,
// staged and checked together, then all renamed into place, or none.
//   1. every member renders in memory (one failure: the group is not committed);
//   2. when nothing differs from the destinations, stop (no stage files, no commands);
//   3. every member's file goes into a staging tree that mirrors the destinations
//      (<root>/etc/nginx/conf.d/a.conf), and each changed one into a stage file beside its
//      destination, as for a single resource;
//   4. members' own check_cmd ({{.src}} = their stage file), then the group_check_cmd with
//      {{.root}} = the staging root (shell-quoted);
//   5. every changed file is renamed into place; should a rename fail midway, the files
//      already renamed get their old content back (or are removed if they were new);
//   6. each distinct reload_cmd of the members runs once.
// The steps are the single resource's (candidate.ts, staged-file.ts, check-and-reload.ts); the
// staging tree, the group check and the roll-back are the group's own.
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KeyStore } from '../template/confd/store.js';
import { logChange, redactSecrets } from './audit.js';
import { groupStagingPrefix } from './stage-cleanup.js';
import { renderCandidate, writeNoopDiff, type Candidate } from './candidate.js';
import { ReloadError, reloadAfterCommit, renderCheckCmd, renderGroupCheckCmd, runCheck } from './check-and-reload.js';
import { checkKeyCount, ResourceError, type GroupInfo, type ProcessOptions, type ResourceStatus, type TemplateResource } from './model.js';
import { replaceFile, StagedFile } from './staged-file.js';

export interface GroupOutcome {
  readonly resource: TemplateResource;
  readonly status: ResourceStatus | 'failed';
  readonly error?: string;
  readonly stage?: ResourceError['stage'];
}

interface Member extends Candidate {
  staged?: StagedFile;
}

/** Every key any member of r's group reads (r's own keys when r is in no group). */
export function groupKeys(r: TemplateResource): string[] {
  const g = r.ext?.group;
  if (!g) return [...r.keys];
  return [...new Set(g.members.flatMap((m) => m.keys))];
}

/** Processes a whole commit group; one outcome per member. Errors are logged here. */
export async function processGroup(
  group: GroupInfo,
  storeFor: (r: TemplateResource) => KeyStore,
  opts: ProcessOptions,
): Promise<GroupOutcome[]> {
  const outcomes = await processGroupOnce(group, storeFor, opts);
  // Logged once the stage files and tree are gone, so the log describes the final state.
  const failed = outcomes.find((o) => o.status === 'failed' && o.stage !== 'reload');
  if (failed) opts.log.error(failed.error!);
  return outcomes;
}

async function processGroupOnce(
  group: GroupInfo,
  storeFor: (r: TemplateResource) => KeyStore,
  opts: ProcessOptions,
): Promise<GroupOutcome[]> {
  const { log } = opts;
  const members: Member[] = [];
  const failAll = (culprit: TemplateResource | undefined, e: unknown, stage: ResourceError['stage']): GroupOutcome[] => {
    const why = (e as Error).message;
    const error = culprit
      ? `commit group "${group.name}" not committed: ${culprit.dest}: ${why}`
      : `commit group "${group.name}" not committed: ${why}`;
    return group.members.map((resource) => ({ resource, status: 'failed', error, stage }));
  };

  for (const resource of group.members) {
    const store = storeFor(resource);
    // One member short of keys keeps the whole group as it is (all or nothing).
    try {
      checkKeyCount(resource, store);
    } catch (e) {
      return failAll(undefined, e, 'min_keys');
    }
    try {
      members.push(await renderCandidate(resource, store, { log, maxOutputBytes: opts.maxOutputBytes, reportDifferences: false, longRunning: false }));
    } catch (e) {
      return failAll(resource, e, e instanceof ResourceError ? e.stage : 'render');
    }
  }

  const changed = members.filter((m) => m.changed);
  if (changed.length === 0) {
    log.debug(`commit group "${group.name}": every file in sync`);
    return members.map((m) => ({ resource: m.resource, status: 'unchanged' }));
  }
  if (opts.noop) {
    for (const m of changed) {
      log.warning(`Noop mode enabled. ${m.resource.dest} will not be modified`);
      await writeNoopDiff(m, opts);
    }
    return members.map((m) => ({ resource: m.resource, status: 'noop' }));
  }
  log.info(`commit group "${group.name}": ${changed.map((m) => m.resource.dest).join(', ')} out of sync`);

  let root: string | undefined;
  const cleanup = async () => {
    for (const m of changed) await m.staged?.discard(opts);
    if (root === undefined) return;
    if (opts.keepStageFile) log.info(`Keeping staging tree: ${root}`);
    else await rm(root, { recursive: true, force: true });
  };

  try {
    try {
      root = await mkdtemp(join(tmpdir(), groupStagingPrefix(group.name)));
      for (const m of members) {
        const path = join(root, m.resource.dest);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, m.rendered, { mode: m.attrs.mode });
      }
      for (const m of changed) m.staged = await StagedFile.write(m.resource.dest, m.rendered, m.attrs);
    } catch (e) {
      return failAll(undefined, e, 'write');
    }

    if (!opts.syncOnly) {
      for (const m of changed) {
        if (m.resource.checkCmd === '') continue;
        try {
          await runCheck(renderCheckCmd(m.resource.checkCmd, m.staged!.path), m.resource, opts, (o) => redactSecrets(o, m.resource, m.store));
        } catch (e) {
          return failAll(m.resource, new Error(`Config check failed: ${(e as Error).message}`), 'check');
        }
      }
      if (group.checkCmd !== '') {
        try {
          // It checks every member's file: any member's secrets are masked in its output.
          const redact = (o: string) => members.reduce((text, m) => redactSecrets(text, m.resource, m.store), o);
          await runCheck(renderGroupCheckCmd(group.checkCmd, root), group.members[0]!, opts, redact);
        } catch (e) {
          return failAll(undefined, new Error(`group check failed: ${(e as Error).message}`), 'check');
        }
      }
    }

    const done: Member[] = [];
    for (const m of changed) {
      try {
        await m.staged!.commit({ allowInPlace: m.resource.inPlace, keepStageFile: opts.keepStageFile });
        done.push(m);
      } catch (e) {
        await rollBack(done, opts);
        return failAll(m.resource, e, 'write');
      }
    }
  } finally {
    await cleanup();
  }

  for (const m of changed) {
    if (opts.logDiff) await logChange(m.resource, m.store, m.current?.content, m.rendered, opts);
    log.info(`Target config ${m.resource.dest} has been updated`);
  }
  const outcomes: GroupOutcome[] = members.map((m) => ({ resource: m.resource, status: m.changed ? 'updated' : 'unchanged' }));
  // Each distinct reload_cmd of the members, once (long-running modes: queued for the scheduler).
  try {
    await reloadAfterCommit(group.members, opts);
  } catch (e) {
    if (!(e instanceof ReloadError)) throw e;
    log.error(e.message);
    return outcomes.map((o) => (o.resource.reloadCmd === e.command ? { ...o, status: 'failed', error: e.message, stage: 'reload' } : o));
  }
  return outcomes;
}

/** Puts back the files a half-done commit already replaced. */
async function rollBack(done: readonly Member[], opts: ProcessOptions): Promise<void> {
  for (const m of done) {
    try {
      if (!m.current) {
        await unlink(m.resource.dest);
      } else {
        const attrs = { mode: m.current.mode, uid: m.current.uid, gid: m.current.gid };
        await replaceFile(m.resource.dest, m.current.content, attrs, { allowInPlace: m.resource.inPlace });
      }
      opts.log.warning(`commit group: restored ${m.resource.dest} after a failed commit`);
    } catch (e) {
      opts.log.error(`commit group: could not restore ${m.resource.dest}: ${(e as Error).message}`);
    }
  }
}
