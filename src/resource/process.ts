// One resource's whole life, in confd's order: mode → template → render in memory → compare with
// the destination → (unchanged: stop, no stage file, no commands) → stage file → check_cmd →
// rename → reload_cmd. Any failure leaves the destination as it was (the reload runs after the
// rename, so a failed reload leaves the new file, as in confd).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { KeyStore } from '../template/confd/store.js';
import type { Logger } from '../log.js';
import { commitStageFile, writeStageFile, type FileAttrs } from './atomic-write.js';
import type { DirSync } from './dir-sync.js';
import { CommandError, runCommand, ShellCommand, type CommandEnd, type RunOptions } from './commands.js';
import { errnoText, goQuote } from './errors.js';
import { requiredKeys, type TemplateResource } from './model.js';
import { modeString } from './mode.js';
import { compileTemplate, readTemplate } from './render.js';
import { logChange, noopDiff, redactSecrets } from './audit.js';
import { decodeBytes, encodeString } from '../bytes.js';

export interface ProcessOptions {
  /** Render and compare only: print a diff, write nothing, run nothing. */
  noop: boolean;
  /** Write files but skip check_cmd and reload_cmd. */
  syncOnly: boolean;
  keepStageFile: boolean;
  /** Timeout for check_cmd and reload_cmd, in milliseconds. */
  commandTimeoutMs: number;
  log: Logger;
  /** Where -noop's diffs go (stdout in the CLI). */
  writeDiff: (text: string) => void;
  /** -log-diff: log a (secret-redacted) diff of every real change (audit.ts). */
  logDiff?: boolean;
  /** -max-output-bytes: a larger render fails, located, and writes nothing (render.ts). */
  maxOutputBytes?: number;
  /** Long-running modes (runtime/reloads.ts); without it commands run inline with commandTimeoutMs, as confd. */
  commands?: CommandHooks;
  /** -onetime's SIGTERM/SIGINT (runtime/onetime.ts): an inline command in flight is killed, none starts. */
  stopping?: AbortSignal;
  /** -onetime: a directory is fsynced once per pass, not per file (dir-sync.ts); flushed here before a reload. */
  dirSync?: DirSync;
}

/** How the long-running runtime takes over a resource's commands. */
export interface CommandHooks {
  /** The resource's command_timeout, else -command-timeout, in ms. */
  timeoutMs(resource: TemplateResource): number;
  /** Aborted at shutdown: a running check is killed (dest stays as it was) and no command starts. */
  readonly signal: AbortSignal;
  /** A check command ended (after `durationMs`): 0 or how it failed. */
  checked(resource: TemplateResource, durationMs: number, end: CommandEnd): void;
  /** dest was replaced: the reload is queued rather than run here (one run per pass per distinct command). */
  queueReload(resource: TemplateResource): void;
}

export type ResourceStatus = 'unchanged' | 'updated' | 'noop';

/** What an outcome means for the caller; the message is already confd's text. */
export class ResourceError extends Error {
  constructor(
    message: string,
    readonly stage: 'mode' | 'template' | 'render' | 'write' | 'check' | 'reload' | 'min_keys',
  ) {
    super(message);
  }
}

/**
 * The never-blank-a-config guard: a render from fewer keys than the resource's min_keys must not
 * replace its destination, whatever the mode; allow_empty = true lifts it. Without min_keys
 * whatever came renders, as in confd. Throws ResourceError (stage min_keys) saying so.
 */
export function checkKeyCount(resource: TemplateResource, store: KeyStore): void {
  const minKeys = requiredKeys(resource, 0);
  if (store.size >= minKeys) return;
  throw new ResourceError(
    `${resource.dest}: not rendered: its keys (${resource.keys.join(', ')}) give ${store.size} key(s), fewer than min_keys ${minKeys}; ` +
      `keeping the current file (set allow_empty = true in ${resource.file} to allow it)`,
    'min_keys',
  );
}

interface DestState {
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

// Synchronous: a stat and a read of a local file cost microseconds, a thread-pool round trip of
// each awaited call far more (-onetime, 100 resources: ~25 ms CPU; bench/onetime-profile.md).
function readDest(dest: string): DestState | undefined {
  try {
    const st = statSync(dest);
    const content = readFileSync(dest);
    return { content, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

/**
 * The last content whose md5 was logged per destination: in watch mode the file on disk is
 * usually what we wrote last time, so its md5 (logged on every change) is not computed twice.
 */
const lastDigest = new Map<string, { content: Buffer; digest: string }>();

function md5Of(dest: string, content: Buffer, remember: boolean): string {
  const last = lastDigest.get(dest);
  if (last && last.content.equals(content)) return last.digest;
  const digest = md5(content);
  if (remember) lastDigest.set(dest, { content, digest });
  return digest;
}

/** Processes one resource against its store. Throws ResourceError with the message confd would log. */
export async function processResource(
  resource: TemplateResource,
  store: KeyStore,
  opts: ProcessOptions,
): Promise<ResourceStatus> {
  const { log } = opts;
  const dest = resource.dest;
  if (resource.modeError) throw new ResourceError(resource.modeError, 'mode');
  if (dest === '') throw new ResourceError(`${resource.file}: dest is empty`, 'write');

  let current: DestState | undefined;
  try {
    current = readDest(dest);
  } catch (e) {
    throw new ResourceError(`stat ${dest}: ${errnoText(e)}`, 'write');
  }
  // confd: without `mode`, a new file gets 0644 whatever the umask, an existing one keeps its mode.
  const mode = resource.mode ?? current?.mode ?? 0o644;
  const attrs: FileAttrs = { mode, uid: resource.uid, gid: resource.gid };

  log.debug(`Using source template ${resource.src}`);
  let compiled;
  try {
    const text = await readTemplate(resource);
    log.debug(`Compiling source template ${resource.src}`);
    compiled = await compileTemplate(resource, text, store);
  } catch (e) {
    throw new ResourceError((e as Error).message, 'template');
  }

  // confd creates its stage file before executing, so a missing directory is reported first.
  // An existing dest proves its directory (the stat just before found it through that directory).
  const destDir = dirname(dest);
  if (!current) {
    try {
      const st = statSync(destDir);
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (e) {
      throw new ResourceError(`open ${join(destDir, '.' + basename(dest))}${fakeDigits()}: ${errnoText(e)}`, 'write');
    }
  }

  let rendered: Buffer;
  try {
    rendered = encodeString(compiled.execute({ maxOutputBytes: opts.maxOutputBytes }));
  } catch (e) {
    // Go's errors quote the value they choke on (`strconv.Atoi: parsing "..."`), a secret's too.
    throw new ResourceError(redactSecrets((e as Error).message, resource, store), 'render');
  }

  log.debug(`Comparing candidate config to ${dest}`);
  const changed = isChanged(current, rendered, attrs, dest, log, opts.commands !== undefined);

  if (opts.noop) {
    log.warning(`Noop mode enabled. ${dest} will not be modified`);
    if (changed) {
      const diff = await noopDiff(resource, store, current ? decodeBytes(current.content) : '', decodeBytes(rendered));
      const attrNote =
        current && (current.mode !== mode || current.uid !== attrs.uid || current.gid !== attrs.gid)
          ? `${dest}: mode ${octal(current.mode)} → ${octal(mode)}, owner ${current.uid}:${current.gid} → ${attrs.uid}:${attrs.gid}\n`
          : '';
      opts.writeDiff(attrNote + (diff === '' && !current ? `--- /dev/null\n+++ ${dest} (new, empty)\n` : diff));
    }
    return 'noop';
  }
  if (!changed) {
    log.debug(`Target config ${dest} in sync`);
    return 'unchanged';
  }

  log.info(`Target config ${dest} out of sync`);
  let stagePath: string;
  try {
    stagePath = await writeStageFile(dest, rendered, attrs);
  } catch (e) {
    throw new ResourceError((e as Error).message, 'write');
  }
  let staged = true;
  const removeStage = async () => {
    if (!staged) return;
    staged = false;
    if (opts.keepStageFile) log.info(`Keeping staged file: ${stagePath}`);
    else await unlink(stagePath).catch(() => {});
  };
  try {
    if (!opts.syncOnly && resource.checkCmd !== '') {
      try {
        // nginx -t and its kind quote the lines they reject, which may hold a secret.
        await check(resource, stagePath, opts, (output) => redactSecrets(output, resource, store));
      } catch (e) {
        throw new ResourceError(`Config check failed: ${(e as Error).message}`, 'check');
      }
    }
    log.debug(`Overwriting target config ${dest}`);
    let result;
    try {
      result = await commitStageFile(stagePath, dest, attrs, {
        allowInPlace: resource.inPlace,
        keepStageFile: opts.keepStageFile,
        dirSync: opts.dirSync,
      });
    } catch (e) {
      throw new ResourceError((e as Error).message, 'write');
    }
    staged = false;
    if (result.inPlace) {
      log.warning(`${result.renameError}: ${dest} is likely a mount point; wrote it in place (not atomic) and verified its content`);
    }
  } finally {
    await removeStage();
  }
  if (opts.logDiff) await logChange(resource, store, current?.content, rendered, opts);

  // A reload may rely on the new file surviving a crash: its directory entry is made durable first.
  if (opts.commands) {
    if (!opts.syncOnly && (resource.reloadCmd !== '' || resource.reloadAction !== '')) {
      await opts.dirSync?.flush();
      opts.commands.queueReload(resource);
    }
  } else if (!opts.syncOnly && resource.reloadCmd !== '') {
    try {
      await opts.dirSync?.flush();
      await run(ShellCommand.literal(resource.reloadCmd), opts);
    } catch (e) {
      throw new ResourceError((e as Error).message, 'reload');
    }
  }
  log.info(`Target config ${dest} has been updated`);
  return 'updated';
}

/**
 * confd's IsConfigChanged: uid, gid, mode or content differ (with its INFO lines). longRunning:
 * remember the rendered content's md5 for the next render (see lastDigest).
 */
function isChanged(current: DestState | undefined, rendered: Buffer, attrs: FileAttrs, dest: string, log: Logger, longRunning: boolean): boolean {
  if (!current) return true;
  let changed = false;
  if (current.uid !== attrs.uid) {
    log.info(`${dest} has UID ${current.uid} should be ${attrs.uid}`);
    changed = true;
  }
  if (current.gid !== attrs.gid) {
    log.info(`${dest} has GID ${current.gid} should be ${attrs.gid}`);
    changed = true;
  }
  if (current.mode !== attrs.mode) {
    log.info(`${dest} has mode ${modeString(current.mode)} should be ${modeString(attrs.mode)}`);
    changed = true;
  }
  if (!current.content.equals(rendered)) {
    // Two md5s of the whole file: only when the line is written.
    if (log.enabled('info'))
      log.info(`${dest} has md5sum ${md5Of(dest, current.content, false)} should be ${md5Of(dest, rendered, longRunning)}`);
    changed = true;
  }
  return changed;
}

/** check_cmd is itself a Go template (no confd functions) with data {src: <stage path>}, passed as $TSCONFD_SRC. */
export function renderCheckCmd(checkCmd: string, stagePath: string): ShellCommand {
  return ShellCommand.fromTemplate('checkcmd', checkCmd, { src: stagePath });
}

async function check(resource: TemplateResource, stagePath: string, opts: ProcessOptions, redact: (output: string) => string): Promise<void> {
  const hooks = opts.commands;
  if (!hooks) return run(renderCheckCmd(resource.checkCmd, stagePath), opts, undefined, redact);
  if (hooks.signal.aborted) throw new CommandError('not run: shutting down', '', 'aborted');
  const started = performance.now();
  try {
    await run(renderCheckCmd(resource.checkCmd, stagePath), opts, { timeoutMs: hooks.timeoutMs(resource), signal: hooks.signal }, redact);
    hooks.checked(resource, performance.now() - started, 0);
  } catch (e) {
    hooks.checked(resource, performance.now() - started, e instanceof CommandError ? e.end : 'error');
    throw e;
  }
}

async function run(
  cmd: ShellCommand,
  opts: ProcessOptions,
  runOpts: RunOptions = { timeoutMs: opts.commandTimeoutMs, signal: opts.stopping },
  redact: (output: string) => string = (o) => o,
): Promise<void> {
  opts.log.debug(`Running ${cmd}`);
  if (runOpts.signal?.aborted) throw new CommandError('not run: shutting down', '', 'aborted');
  try {
    const output = await runCommand(cmd, runOpts);
    opts.log.debug(redact(goQuote(output)));
  } catch (e) {
    if (e instanceof CommandError) opts.log.error(redact(goQuote(e.output)));
    throw e;
  }
}

function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

/** The random digits of the stage file confd would have tried to create (only named in the error). */
function fakeDigits(): string {
  return String(Math.floor(Math.random() * 2 ** 32));
}
