// The data model of a template resource: what load.ts reads from a TOML file (with tsconfd's own
// keys from extensions.ts), what the pipeline (process.ts, group.ts, fanout.ts and the steps they
// compose) takes from the runtime, and what it gives back. Types and the rules that read them
// only: nothing here reads files or imports the loader or a step.
import type { Logger } from '../log.js';
import type { CommandEnd } from './commands.js';
import type { DirSync } from './dir-sync.js';

export type Engine = 'go' | 'handlebars';

export interface TemplateResource {
  /** The TOML file this resource was read from. */
  readonly file: string;
  /** Absolute path of the template (<confdir>/templates/<src>). */
  readonly src: string;
  /** <confdir>/templates: where `include` names are resolved (unset in hand-built resources: dirname(src)). */
  readonly templatesDir?: string;
  /** base(src): the template's name in error messages. */
  readonly name: string;
  readonly dest: string;
  /** Effective prefix: -prefix if given, else the TOML prefix, always starting with "/". */
  readonly prefix: string;
  /** The keys to fetch: path.Join(prefix, key) for each listed key. */
  readonly keys: readonly string[];
  /** Permission bits from `mode`; undefined means 0644 for a new file and the current mode for an existing one. */
  readonly mode: number | undefined;
  /** confd reports a bad `mode` when it processes the resource, not when it loads it. */
  readonly modeError: string | undefined;
  readonly uid: number;
  readonly gid: number;
  readonly checkCmd: string;
  readonly reloadCmd: string;
  readonly engine: Engine;
  /** Whether a destination that cannot be renamed over (a bind mount) may be rewritten in place. */
  readonly inPlace: boolean;
  /** -watch quiescence window for this resource ("min:max", e.g. "50ms:1s"); "" means -wait's. */
  readonly wait: string;
  /** -watch: fewest keys a render may come from before it replaces the destination; undefined: the default rule. */
  readonly minKeys: number | undefined;
  /** -watch: an empty key set may replace the destination. */
  readonly allowEmpty: boolean;
  /**
   * -watch/-interval: the largest fraction (0 to 1) of the keys of the last render that may disappear at once
   * before a render is held (a sharply shrunken key set); undefined: no such limit.
   */
  readonly maxShrink?: number;
  /** tsconfd key `reload`: a built-in reload action ("signal:HUP:/run/nginx.pid", runtime/reload-actions.ts); "" for none. */
  readonly reloadAction: string;
  /** tsconfd key `min_reload_interval` (Go duration): a later reload waits (deferred, never dropped); "" for none. */
  readonly minReloadInterval: string;
  /** tsconfd key `command_timeout` (Go duration) for this resource's check and reload; "" means -command-timeout. */
  readonly commandTimeout: string;
  /** tsconfd's own keys (fan-out, discover_keys, commit groups, secret_keys); see extensions.ts. */
  readonly ext?: ResourceExtensions;
}

export interface GroupInfo {
  readonly name: string;
  /** The group's check_cmd (one per group; every member that sets it must agree). */
  checkCmd: string;
  /** Every member, in load order (filled by linkGroups). */
  readonly members: TemplateResource[];
}

export interface ResourceExtensions {
  /** Fan-out key pattern (as the template sees keys: prefix stripped), e.g. "/sites/*". */
  readonly range: string | undefined;
  readonly discoverKeys: boolean;
  readonly group: GroupInfo | undefined;
  /** Key patterns (path.Match, prefix stripped) whose values -log-diff and -noop redact. */
  readonly secretKeys: readonly string[];
  /** Fan-out: the KVPair rendered as dot for one generated file. */
  readonly dot?: unknown;
  /** left_delimiter / right_delimiter ("" for Go's default of that side); undefined: {{ }}. */
  readonly delims?: readonly [string, string];
}

/**
 * The fewest keys `r` may render from before it replaces its destination: allow_empty = true lifts
 * the guard, min_keys sets it, else `defaultMin` (the caller's rule: 0 for a onetime pass, as in
 * confd; 1 in -watch for a resource that had keys at start-up; 1 for a fan-out that wrote files).
 */
export function requiredKeys(r: Pick<TemplateResource, 'allowEmpty' | 'minKeys'>, defaultMin: number): number {
  return r.allowEmpty ? 0 : (r.minKeys ?? defaultMin);
}

/**
 * The never-blank-a-config guard: a render from fewer keys than the resource's min_keys must not
 * replace its destination, whatever the mode; allow_empty = true lifts it. Without min_keys
 * whatever came renders, as in confd. Throws ResourceError (stage min_keys) saying so.
 */
export function checkKeyCount(resource: TemplateResource, store: { readonly size: number }): void {
  const minKeys = requiredKeys(resource, 0);
  if (store.size >= minKeys) return;
  throw new ResourceError(
    `${resource.dest}: not rendered: its keys (${resource.keys.join(', ')}) give ${store.size} key(s), fewer than min_keys ${minKeys}; ` +
      `keeping the current file (set allow_empty = true in ${resource.file} to allow it)`,
    'min_keys',
  );
}

/** How the runtime has a resource processed (process.ts, group.ts, fanout.ts). */
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
  /** -onetime: a directory is fsynced once per pass, not per file (dir-sync.ts); flushed before a reload. */
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
