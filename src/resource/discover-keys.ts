// discover_keys = true: the keys a resource fetches, read from its template instead of `keys`.
// Every call of confd's key functions must name its key with a string literal; a key built at
// run time (printf, a variable) cannot be known before the keys are fetched, so it is refused
// with its position and a request to list the keys.
import { goFunc, parse } from '../template/go/index.js';
import { confdFuncMap } from '../template/confd/funcs.js';
import { KeyStore } from '../template/confd/store.js';
import type { Engine } from './model.js';
import { minimalCover } from '../keys/index.js';
import { readIncluded, resolveIncludeName } from './include.js';

/** confd functions whose first argument is a key or a key pattern. */
export const KEY_FUNCS: ReadonlySet<string> = new Set(['get', 'gets', 'getv', 'getvs', 'exists', 'ls', 'lsdir']);
/** Of those, the ones taking a path.Match pattern. */
const PATTERN_FUNCS: ReadonlySet<string> = new Set(['gets', 'getvs']);

const META = /[*?[\\]/;

/**
 * The directory a pattern can match under: everything before the first meta character, up to
 * its last "/" ("/sites/*" → "/sites", "/a/b*" → "/a", "/x" → "/x"). A pattern with no meta
 * character is a key of its own.
 */
export function literalDir(pattern: string): string {
  const m = META.exec(pattern);
  if (!m) return pattern;
  const literal = pattern.slice(0, m.index);
  const slash = literal.lastIndexOf('/');
  return slash <= 0 ? '/' : literal.slice(0, slash);
}

export interface DiscoverOptions {
  /** The resource's left/right delimiters. */
  delims?: [string, string];
  /** Where `include` names are resolved; without it an include is refused. */
  templatesDir?: string;
  /** The template's own file (a cycle back to it is reported). */
  file?: string;
}

/**
 * The keys (prefix not applied, as the template writes them) the template reads, deduplicated,
 * keys under another listed key dropped, sorted. Included templates (`include "x.tmpl"`) are
 * scanned too. Throws naming each non-literal call, and an include cycle.
 */
export function discoverKeys(name: string, text: string, engine: Engine, opts: DiscoverOptions = {}): string[] {
  if (engine !== 'go') throw new Error(`${name}: only Go templates can be scanned; list the keys in keys = [...]`);
  // include only has to exist for the parser; nothing is executed here.
  const funcs = { ...confdFuncMap(new KeyStore([])), include: goFunc(['string'], () => '', { variadic: 'interface {}' }) };
  const found: string[] = [];
  const refused: string[] = [];
  const scanned = new Set<string>();
  type Link = { name: string; file: string };
  const scan = (tname: string, ttext: string, chain: Link[]): void => {
    const file = chain.at(-1)!.file;
    if (scanned.has(file)) return;
    scanned.add(file);
    const t = parse(tname, ttext, { funcs, delims: opts.delims });
    for (const call of t.listCalls(new Set([...KEY_FUNCS, 'include']))) {
      const arg = call.args[0];
      const where = `${tname}:${call.line}:${call.col}`;
      if (arg === undefined || arg === null) {
        const what = call.func === 'include' ? 'include has no string literal name' : `${call.func} has no string literal key`;
        refused.push(`${where}: ${what}`);
        continue;
      }
      if (call.func !== 'include') {
        found.push(PATTERN_FUNCS.has(call.func) ? literalDir(arg) : arg);
        continue;
      }
      if (opts.templatesDir === undefined) throw new Error(`${where}: include cannot be followed here`);
      const target = resolveIncludeName(opts.templatesDir, arg);
      if (chain.some((l) => l.file === target)) throw new Error(`${where}: include cycle: ${[...chain.map((l) => l.name), arg].join(' → ')}`);
      let included: string;
      try {
        included = readIncluded(opts.templatesDir, arg);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      scan(arg, included, [...chain, { name: arg, file: target }]);
    }
  };
  scan(name, text, [{ name, file: opts.file ?? name }]);
  if (refused.length > 0) {
    throw new Error(`${refused.join('; ')}; the keys cannot be discovered, list them in keys = [...]`);
  }
  return discoveredCover(found);
}

/** Distinct keys, without those already below another ("/a" covers "/a/b"), in byte order; "/a/" counts as "/a". */
export function discoveredCover(keys: readonly string[]): string[] {
  return minimalCover(keys.map((k) => (k.length > 1 && k.endsWith('/') ? k.slice(0, -1) : k)));
}
