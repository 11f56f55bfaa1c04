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
import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KeyStore } from '../template/confd/store.js';
import { commitStageFile, writeStageFile, type FileAttrs } from './atomic-write.js';
import { logChange, noopDiff, redactSecrets } from './audit.js';
import { CommandError, runCommand, ShellCommand } from './commands.js';
import { goQuote } from './errors.js';
import type { GroupInfo } from './model.js';
import type { TemplateResource } from './model.js';
import { checkKeyCount, renderCheckCmd, ResourceError, type ProcessOptions, type ResourceStatus } from './process.js';
import { compileTemplate, readTemplate } from './render.js';
import { decodeBytes, encodeString } from '../bytes.js';

export interface GroupOutcome {
  readonly resource: TemplateResource;
  readonly status: ResourceStatus | 'failed';
  readonly error?: string;
  readonly stage?: ResourceError['stage'];
}

interface Member {
  resource: TemplateResource;
  store: KeyStore;
  rendered: Buffer;
  current: { content: Buffer; mode: number; uid: number; gid: number } | undefined;
  attrs: FileAttrs;
  changed: boolean;
  stagePath?: string;
}

/** Every key any member of r's group reads (r's own keys when r is in no group). */
export function groupKeys(r: TemplateResource): string[] {
  const g = r.ext?.group;
  if (!g) return [...r.keys];
  return [...new Set(g.members.flatMap((m) => m.keys))];
}

/** group_check_cmd is a Go template with data {root: <staging root>}, passed as $TSCONFD_ROOT. */
export function renderGroupCheckCmd(cmd: string, root: string): ShellCommand {
  return ShellCommand.fromTemplate('group_check_cmd', cmd, { root });
}

async function readDest(dest: string): Promise<Member['current']> {
  try {
    const st = await stat(dest);
    return { content: await readFile(dest), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function run(cmd: ShellCommand, opts: ProcessOptions, timeoutFor?: TemplateResource, redact: (output: string) => string = (o) => o): Promise<void> {
  opts.log.debug(`Running ${cmd}`);
  const hooks = opts.commands;
  const signal = hooks?.signal ?? opts.stopping;
  if (signal?.aborted) throw new CommandError('not run: shutting down', '', 'aborted');
  const timeoutMs = hooks && timeoutFor ? hooks.timeoutMs(timeoutFor) : opts.commandTimeoutMs;
  try {
    opts.log.debug(redact(goQuote(await runCommand(cmd, { timeoutMs, signal }))));
  } catch (e) {
    if (e instanceof CommandError) opts.log.error(redact(goQuote(e.output)));
    throw e;
  }
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
    if (resource.modeError) return failAll(resource, new Error(resource.modeError), 'mode');
    const store = storeFor(resource);
    // One member short of keys keeps the whole group as it is (all or nothing).
    try {
      checkKeyCount(resource, store);
    } catch (e) {
      return failAll(undefined, e, 'min_keys');
    }
    let rendered: Buffer;
    let current: Member['current'];
    try {
      current = await readDest(resource.dest);
      const compiled = await compileTemplate(resource, await readTemplate(resource), store);
      rendered = encodeString(compiled.execute({ maxOutputBytes: opts.maxOutputBytes }));
    } catch (e) {
      return failAll(resource, new Error(redactSecrets((e as Error).message, resource, store)), 'render');
    }
    const mode = resource.mode ?? current?.mode ?? 0o644;
    const attrs = { mode, uid: resource.uid, gid: resource.gid };
    const changed =
      !current || !current.content.equals(rendered) || current.mode !== mode || current.uid !== attrs.uid || current.gid !== attrs.gid;
    members.push({ resource, store, rendered, current, attrs, changed });
  }

  const changed = members.filter((m) => m.changed);
  if (changed.length === 0) {
    log.debug(`commit group "${group.name}": every file in sync`);
    return members.map((m) => ({ resource: m.resource, status: 'unchanged' }));
  }
  if (opts.noop) {
    for (const m of changed) {
      log.warning(`Noop mode enabled. ${m.resource.dest} will not be modified`);
      const diff = await noopDiff(m.resource, m.store, m.current ? decodeBytes(m.current.content) : '', decodeBytes(m.rendered));
      opts.writeDiff(diff);
    }
    return members.map((m) => ({ resource: m.resource, status: 'noop' }));
  }
  log.info(`commit group "${group.name}": ${changed.map((m) => m.resource.dest).join(', ')} out of sync`);

  let root: string | undefined;
  const cleanup = async () => {
    for (const m of changed) {
      if (m.stagePath === undefined) continue;
      if (opts.keepStageFile) log.info(`Keeping staged file: ${m.stagePath}`);
      else await unlink(m.stagePath).catch(() => {});
      m.stagePath = undefined;
    }
    if (root === undefined) return;
    if (opts.keepStageFile) log.info(`Keeping staging tree: ${root}`);
    else await rm(root, { recursive: true, force: true });
  };

  try {
    try {
      root = await mkdtemp(join(tmpdir(), `tsconfd-group-${group.name.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
      for (const m of members) {
        const path = join(root, m.resource.dest);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, m.rendered, { mode: m.attrs.mode });
      }
      for (const m of changed) m.stagePath = await writeStageFile(m.resource.dest, m.rendered, m.attrs);
    } catch (e) {
      return failAll(undefined, e, 'write');
    }

    if (!opts.syncOnly) {
      for (const m of changed) {
        if (m.resource.checkCmd === '') continue;
        try {
          await run(renderCheckCmd(m.resource.checkCmd, m.stagePath!), opts, m.resource, (o) => redactSecrets(o, m.resource, m.store));
        } catch (e) {
          return failAll(m.resource, new Error(`Config check failed: ${(e as Error).message}`), 'check');
        }
      }
      if (group.checkCmd !== '') {
        try {
          // It checks every member's file: any member's secrets are masked in its output.
          const redact = (o: string) => members.reduce((text, m) => redactSecrets(text, m.resource, m.store), o);
          await run(renderGroupCheckCmd(group.checkCmd, root), opts, group.members[0], redact);
        } catch (e) {
          return failAll(undefined, new Error(`group check failed: ${(e as Error).message}`), 'check');
        }
      }
    }

    const done: Member[] = [];
    for (const m of changed) {
      try {
        await commitStageFile(m.stagePath!, m.resource.dest, m.attrs, { allowInPlace: m.resource.inPlace, keepStageFile: opts.keepStageFile });
        m.stagePath = undefined;
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
  if (!opts.syncOnly && opts.commands) {
    // Long-running modes: queued; the scheduler runs each distinct command once per pass.
    for (const r of group.members) if (r.reloadCmd !== '' || r.reloadAction !== '') opts.commands.queueReload(r);
  } else if (!opts.syncOnly) {
    const reloads = [...new Set(group.members.map((r) => r.reloadCmd).filter((c) => c !== ''))];
    for (const cmd of reloads) {
      try {
        await run(ShellCommand.literal(cmd), opts);
      } catch (e) {
        const error = (e as Error).message;
        log.error(error);
        return outcomes.map((o) => (o.resource.reloadCmd === cmd ? { ...o, status: 'failed', error, stage: 'reload' } : o));
      }
    }
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
        const stage = await writeStageFile(m.resource.dest, m.current.content, attrs);
        await commitStageFile(stage, m.resource.dest, attrs, { allowInPlace: m.resource.inPlace, keepStageFile: false });
      }
      opts.log.warning(`commit group: restored ${m.resource.dest} after a failed commit`);
    } catch (e) {
      opts.log.error(`commit group: could not restore ${m.resource.dest}: ${(e as Error).message}`);
    }
  }
}
