// Template resources: conf.d/**/*toml, read the way confd reads them. Discovery is a recursive
// walk in byte order taking every regular file whose base name matches `*toml` (so `dtoml` and
// dotfiles count). Any file that cannot be read as a resource stops the whole run, before
// anything is written; faults that confd only finds while processing (a bad `mode`, a missing
// template) are kept on the resource and reported for it alone.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join as joinFs } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { join as goJoin } from '../keys/gopath.js';
import { compareBytes, stripWildcard } from '../keys/index.js';
import { errnoText } from './errors.js';
import { parseMode } from './mode.js';
import { lookupGid, lookupUid } from './owner.js';
import type { Logger } from '../log.js';
import { EXTENSION_KEYS, extendResource, linkGroups } from './extensions.js';
import type { Engine, TemplateResource } from './model.js';
import { closest } from '../suggest.js';

export interface LoadOptions {
  confdir: string;
  /** The -prefix flag ("" when not given). */
  prefix: string;
  log: Logger;
  /**
   * Remove every "/*" from each key, as confd's redis and zookeeper clients do before reading it
   * ("/app/*" reads "/app"); etcd reads "/app/*" as it is.
   */
  stripKeyWildcards?: boolean;
}

export class ResourceLoadError extends Error {}

export const EMPTY_SRC = 'empty src template';

/**
 * Finds and reads every template resource. Returns [] (with confd's warning) when confdir
 * does not exist; throws ResourceLoadError when a resource cannot be read.
 */
export function loadResources(opts: LoadOptions): TemplateResource[] {
  const { confdir, log } = opts;
  if (!existsSync(confdir)) {
    log.warning(`Cannot load template resources: confdir '${confdir}' does not exist`);
    return [];
  }
  const confD = joinFs(confdir, 'conf.d');
  const files = findResourceFiles(confD);
  if (files.length === 0) log.warning('Found no templates');
  const resources: TemplateResource[] = [];
  let lastError: ResourceLoadError | undefined;
  for (const file of files) {
    log.debug(`Found template: ${file}`);
    try {
      resources.push(readResource(file, opts));
    } catch (e) {
      if (!(e instanceof ResourceLoadError)) throw e;
      // confd keeps loading to report the last failure; nothing is processed either way.
      log.debug(e.message);
      lastError = e;
    }
  }
  if (lastError) throw lastError;
  linkGroups(resources, (file, detail) => {
    throw new ResourceLoadError(`Cannot process template resource ${file} - ${detail}`);
  });
  return resources;
}

/**
 * The resources `load` gives (loadResources by default), or undefined once its ResourceLoadError has
 * been logged as FATAL: the caller then exits 1, before anything is fetched or written.
 */
export function loadResourcesOrFatal(
  opts: LoadOptions,
  load: (opts: LoadOptions) => TemplateResource[] = loadResources,
): TemplateResource[] | undefined {
  try {
    return load(opts);
  } catch (e) {
    if (!(e instanceof ResourceLoadError)) throw e;
    opts.log.fatal(e.message);
    return undefined;
  }
}

/** confd's recursiveFindFiles(conf.d, "*toml"): filepath.Walk order, symlinks not followed into. */
export function findResourceFiles(root: string): string[] {
  try {
    statSync(root);
  } catch (e) {
    throw new ResourceLoadError(`stat ${root}: ${errnoText(e)}`);
  }
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => compareBytes(a.name, b.name));
    for (const entry of entries) {
      const full = joinFs(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('toml')) out.push(full);
    }
  };
  walk(root);
  return out;
}

type TomlTable = Record<string, unknown>;

/** Reads one resource file. Throws ResourceLoadError with confd's prefix and a file:line:col location. */
export function readResource(file: string, opts: LoadOptions): TemplateResource {
  const fail = (detail: string): never => {
    throw new ResourceLoadError(`Cannot process template resource ${file} - ${detail}`);
  };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return fail(`${(e as Error).message}`);
  }
  let doc: TomlTable;
  try {
    doc = parseToml(text) as TomlTable;
  } catch (e) {
    if (e instanceof TomlError) {
      const msg = e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      return fail(`${file}:${e.line}:${e.column}: ${msg}`);
    }
    return fail((e as Error).message);
  }
  const table = lookupKey(doc, 'template');
  const t: TomlTable = isTable(table) ? table : {};
  const known = new Set<string>(EXTENSION_KEYS);
  const field = <T>(name: string, want: string, check: (v: unknown) => v is T): T | undefined => {
    known.add(name);
    const v = lookupKey(t, name);
    if (v === undefined) return undefined;
    if (!check(v)) {
      const { line, col } = locate(text, name);
      return fail(`${file}:${line}:${col}: template.${name} must be ${want}, not ${describe(v)}`);
    }
    return v;
  };
  const src = field('src', 'a string', isString) ?? '';
  const dest = field('dest', 'a string', isString) ?? '';
  const keys = field('keys', 'an array of strings', isStringArray) ?? [];
  const tomlPrefix = field('prefix', 'a string', isString) ?? '';
  const modeText = field('mode', 'a string', isString) ?? '';
  const uidField = field('uid', 'an integer', isInteger);
  const gidField = field('gid', 'an integer', isInteger);
  const owner = field('owner', 'a string', isString) ?? '';
  const group = field('group', 'a string', isString) ?? '';
  const checkCmd = field('check_cmd', 'a string', isString) ?? '';
  const reloadCmd = field('reload_cmd', 'a string', isString) ?? '';
  const engineText = field('engine', 'a string', isString) ?? '';
  const inPlace = field('in_place', 'a boolean', isBoolean) ?? true;
  const wait = field('wait', 'a string like "50ms:1s"', isString) ?? '';
  const minKeys = field('min_keys', 'an integer', isInteger);
  const allowEmpty = field('allow_empty', 'a boolean', isBoolean) ?? false;
  const maxShrink = field('max_shrink', 'a number from 0 to 1 (0.5: half the keys may go at once)', isFraction);
  // Checked (syntax, durations) by the long-running runtime (runtime/reloads.ts), which owns their meaning.
  const reloadAction = field('reload', 'a string like "signal:HUP:/run/nginx.pid"', isString) ?? '';
  const minReloadInterval = field('min_reload_interval', 'a duration string like "5s"', isString) ?? '';
  // An integer is seconds, like -command-timeout.
  const commandTimeoutField = field('command_timeout', 'a duration like "30s" or an integer of seconds', isStringOrInteger);
  const commandTimeout = commandTimeoutField === undefined ? '' : String(commandTimeoutField);
  warnUnknownKeys(file, text, doc, t, known, opts.log);

  if (src === '') throw new ResourceLoadError(EMPTY_SRC + ` (in ${file})`);

  let engine: Engine;
  if (engineText === '') engine = src.endsWith('.hbs') ? 'handlebars' : 'go';
  else if (engineText === 'go' || engineText === 'handlebars') engine = engineText;
  else {
    const { line, col } = locate(text, 'engine');
    return fail(`${file}:${line}:${col}: template.engine must be "go" or "handlebars", not ${JSON.stringify(engineText)}`);
  }

  let mode: number | undefined;
  let modeError: string | undefined;
  if (modeText !== '') {
    try {
      const parsed = parseMode(modeText);
      mode = parsed.perm;
      if (parsed.decimalWarning) opts.log.warning(`${file}: ${parsed.decimalWarning}`);
    } catch (e) {
      modeError = (e as Error).message;
    }
  }

  let uid = uidField ?? -1;
  let gid = gidField ?? -1;
  if (uidField === undefined && owner !== '') {
    const id = lookupUid(owner);
    if (id === undefined) opts.log.warning(`${file}: unknown owner "${owner}"; the file will be owned by uid ${process.geteuid!()}`);
    else uid = id;
  }
  if (gidField === undefined && group !== '') {
    const id = lookupGid(group);
    if (id === undefined) opts.log.warning(`${file}: unknown group "${group}"; the file will get gid ${process.getegid!()}`);
    else gid = id;
  }
  // confd: uid and gid default to the effective ids.
  if (uid === -1) uid = process.geteuid!();
  if (gid === -1) gid = process.getegid!();

  let prefix = opts.prefix !== '' ? opts.prefix : tomlPrefix;
  if (!prefix.startsWith('/')) prefix = '/' + prefix;

  const absSrc = joinFs(opts.confdir, 'templates', src);
  return extendResource({
    file,
    src: absSrc,
    templatesDir: joinFs(opts.confdir, 'templates'),
    name: basename(absSrc),
    dest,
    prefix,
    keys: keys.map((k) => (opts.stripKeyWildcards ? stripWildcard(goJoin(prefix, k)) || '/' : goJoin(prefix, k))),
    mode,
    modeError,
    uid,
    gid,
    checkCmd,
    reloadCmd,
    engine,
    inPlace,
    wait,
    minKeys,
    allowEmpty,
    ...(maxShrink !== undefined && { maxShrink }),
    reloadAction,
    minReloadInterval,
    commandTimeout,
  }, t, fail);
}

/**
 * confd (BurntSushi/toml) ignores keys it does not know, so `reload_command = "..."` silently does nothing. tsconfd
 * keeps loading too, but says so, with where and what was probably meant.
 */
function warnUnknownKeys(file: string, text: string, doc: TomlTable, t: TomlTable, known: ReadonlySet<string>, log: Logger): void {
  const lowerKnown = new Set([...known].map((k) => k.toLowerCase()));
  for (const key of Object.keys(t)) {
    if (lowerKnown.has(key.toLowerCase())) continue;
    const { line, col } = locate(text, key);
    const guess = closest(key, known);
    log.warning(`${file}:${line}:${col}: unknown key "${key}" in [template] is ignored${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`);
  }
  for (const key of Object.keys(doc)) {
    if (key.toLowerCase() === 'template') continue;
    const { line, col } = locateTable(text, key);
    log.warning(`${file}:${line}:${col}: "${key}" is ignored: a resource's settings go in its [template] table`);
  }
}

/** BurntSushi/toml matches field names exactly first, then case-insensitively. */
function lookupKey(t: TomlTable, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(t, name)) return t[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(t)) if (k.toLowerCase() === lower) return t[k];
  return undefined;
}

function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
function isString(v: unknown): v is string {
  return typeof v === 'string';
}
function isBoolean(v: unknown): v is boolean {
  return typeof v === 'boolean';
}
function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
function isFraction(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= 1;
}
function isStringOrInteger(v: unknown): v is string | number {
  return isString(v) || isInteger(v);
}
function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(isString);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the float ${v}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (v instanceof Date) return 'a date';
  return 'a table';
}

/** Where a top-level `[name]` table or `name =` key appears, 1-based. */
function locateTable(text: string, name: string): { line: number; col: number } {
  const lines = text.split('\n');
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^(\\s*)(?:\\[\\[?\\s*["']?${escaped}["']?\\s*[\\].]|["']?${escaped}["']?\\s*=)`);
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]!);
    if (m) return { line: i + 1, col: m[1]!.length + 1 };
  }
  return { line: 1, col: 1 };
}

/** Where `name =` appears (case-insensitively), 1-based; TOML values carry no positions. */
function locate(text: string, name: string): { line: number; col: number } {
  const lines = text.split('\n');
  const re = new RegExp(`^(\\s*)["']?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*=`, 'i');
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]!);
    if (m) return { line: i + 1, col: m[1]!.length + 1 };
  }
  return { line: 1, col: 1 };
}
