// The data model of a template resource: what load.ts reads from a TOML file (with tsconfd's own
// keys from extensions.ts), and what the pipeline (process.ts, fanout.ts, group.ts) and the runtime
// take. Types and the rules that read them only: nothing here reads files or imports the loader.

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
