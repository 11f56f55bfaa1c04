// discover_keys = true: the keys a resource fetches, read from its template instead of `keys`.
// Every call of confd's key functions must name its key with a string literal; a key built at
// run time (printf, a variable) cannot be known before the keys are fetched, so it is refused
// with its position and a request to list the keys.
import { parse } from '../template/go/index.js';
import { confdFuncMap } from '../template/confd/funcs.js';
import { KeyStore } from '../template/confd/store.js';
import type { Engine } from './load.js';
import { compareBytes, covers } from '../backends/keys.js';

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

/**
 * The keys (prefix not applied, as the template writes them) the template reads, deduplicated,
 * keys under another listed key dropped, sorted. Throws naming each non-literal call.
 */
export function discoverKeys(name: string, text: string, engine: Engine): string[] {
  if (engine !== 'go') throw new Error(`${name}: only Go templates can be scanned; list the keys in keys = [...]`);
  const t = parse(name, text, { funcs: confdFuncMap(new KeyStore([])) });
  const found: string[] = [];
  const refused: string[] = [];
  for (const call of t.listCalls(new Set(KEY_FUNCS))) {
    const arg = call.args[0];
    if (arg === undefined || arg === null) {
      refused.push(`${name}:${call.line}:${call.col}: ${call.func} has no string literal key`);
      continue;
    }
    found.push(PATTERN_FUNCS.has(call.func) ? literalDir(arg) : arg);
  }
  if (refused.length > 0) {
    throw new Error(`${refused.join('; ')}; the keys cannot be discovered, list them in keys = [...]`);
  }
  return minimalCover(found);
}

/** Distinct keys, without those already below another ("/a" covers "/a/b"), in byte order. */
export function minimalCover(keys: readonly string[]): string[] {
  // Checked against every key, not only the previous one: "/a-b" sorts between "/a" and "/a/b".
  const distinct = [...new Set(keys.map((k) => (k.length > 1 && k.endsWith('/') ? k.slice(0, -1) : k)))].sort(compareBytes);
  return distinct.filter((k) => !distinct.some((other) => other !== k && covers(other, k)));
}
