// A resource's commands as steps of its life: check_cmd (and a commit group's group_check_cmd)
// rendered with the stage file's path and run against it before the commit, reload_cmd after it.
// Without the runtime's hooks (-onetime) they run here with -command-timeout, as in confd; the
// long-running runtime times checks with each resource's command_timeout and takes the reloads
// over (runtime/reloads.ts). Output goes to the log with the resource's secrets masked.
import { ResourceError, type ProcessOptions, type TemplateResource } from './model.js';
import { CommandError, runCommand, ShellCommand, type RunOptions } from './commands.js';
import { goQuote } from './errors.js';

/** check_cmd is itself a Go template (no confd functions) with data {src: <stage path>}, passed as $TSCONFD_SRC. */
export function renderCheckCmd(checkCmd: string, stagePath: string): ShellCommand {
  return ShellCommand.fromTemplate('checkcmd', checkCmd, { src: stagePath });
}

/** group_check_cmd is a Go template with data {root: <staging root>}, passed as $TSCONFD_ROOT. */
export function renderGroupCheckCmd(cmd: string, root: string): ShellCommand {
  return ShellCommand.fromTemplate('group_check_cmd', cmd, { root });
}

/**
 * Runs a check command on behalf of `resource` (its timeout; the runtime told how it ended).
 * Throws CommandError when it fails, times out or is not run because the process is stopping.
 */
export async function runCheck(cmd: ShellCommand, resource: TemplateResource, opts: ProcessOptions, redact: (output: string) => string): Promise<void> {
  const hooks = opts.commands;
  if (!hooks) return run(cmd, opts, inline(opts), redact);
  if (hooks.signal.aborted) throw new CommandError('not run: shutting down', '', 'aborted');
  const started = performance.now();
  try {
    await run(cmd, opts, { timeoutMs: hooks.timeoutMs(resource), signal: hooks.signal }, redact);
    hooks.checked(resource, performance.now() - started, 0);
  } catch (e) {
    hooks.checked(resource, performance.now() - started, e instanceof CommandError ? e.end : 'error');
    throw e;
  }
}

/** A reload_cmd that failed (its message is the command's end: "exit status 1"). */
export class ReloadError extends ResourceError {
  constructor(
    message: string,
    /** The reload_cmd that failed. */
    readonly command: string,
  ) {
    super(message, 'reload');
  }
}

/**
 * The reloads after the destinations of `changed` were replaced (nothing with -sync-only): the
 * renames are made durable first (a reload may rely on the new files surviving a crash), then
 * the runtime queues them, or each distinct reload_cmd runs once, in order, here. Throws
 * ReloadError for the first that fails; the ones after it do not run.
 */
export async function reloadAfterCommit(changed: readonly TemplateResource[], opts: ProcessOptions): Promise<void> {
  if (opts.syncOnly) return;
  const hooks = opts.commands;
  const reloading = changed.filter((r) => r.reloadCmd !== '' || (hooks !== undefined && r.reloadAction !== ''));
  if (reloading.length === 0) return;
  await opts.dirSync?.flush();
  if (hooks) {
    for (const r of reloading) hooks.queueReload(r);
    return;
  }
  for (const cmd of new Set(reloading.map((r) => r.reloadCmd))) {
    try {
      await run(ShellCommand.literal(cmd), opts, inline(opts));
    } catch (e) {
      throw new ReloadError((e as Error).message, cmd);
    }
  }
}

/** confd's way: -command-timeout, and -onetime's stop signal. */
function inline(opts: ProcessOptions): RunOptions {
  return { timeoutMs: opts.commandTimeoutMs, signal: opts.stopping };
}

async function run(cmd: ShellCommand, opts: ProcessOptions, runOpts: RunOptions, redact: (output: string) => string = (o) => o): Promise<void> {
  opts.log.debug(`Running ${cmd}`);
  if (runOpts.signal?.aborted) throw new CommandError('not run: shutting down', '', 'aborted');
  try {
    opts.log.debug(redact(goQuote(await runCommand(cmd, runOpts))));
  } catch (e) {
    if (e instanceof CommandError) opts.log.error(redact(goQuote(e.output)));
    throw e;
  }
}
