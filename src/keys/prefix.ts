// Prefixes and the keys they cover, as confd reads them: the prefix "/app" stands for the key
// "/app" and every key below it ("/app/x"), never for "/apple".
import { compareByKey, compareBytes } from './order.js';

/** True when `key` is `prefix` itself or lies below it: "/app" covers "/app" and "/app/x", not "/apple". */
export function covers(prefix: string, key: string): boolean {
  if (key === prefix) return true;
  return key.startsWith(prefix) && (prefix.endsWith('/') || key.charCodeAt(prefix.length) === 0x2f);
}

/** True when any of `prefixes` covers `key`. */
export function coversAny(prefixes: readonly string[], key: string): boolean {
  for (const p of prefixes) if (covers(p, key)) return true;
  return false;
}

/**
 * The smallest set of prefixes that covers every key the given ones cover: distinct, without
 * those another one covers ("/app/x" goes with "/app"; "/apple" stays), in byte order.
 */
export function minimalCover(prefixes: readonly string[]): string[] {
  const set = new Set(prefixes);
  const out: string[] = [];
  for (const p of set) {
    // covers(q, p) for q !== p means q is p cut just before or just after one of its "/" (O(depth)
    // lookups instead of comparing every pair: "/a-b" sorts between "/a" and "/a/b").
    let covered = false;
    for (let i = p.indexOf('/'); i >= 0 && !covered; i = p.indexOf('/', i + 1)) {
      covered = set.has(p.slice(0, i)) || (i + 1 < p.length && set.has(p.slice(0, i + 1)));
    }
    if (!covered) out.push(p);
  }
  return out.sort(compareBytes);
}

/** The entries of `all` covered by any of the prefixes, sorted by key bytes. */
export function selectCovered(all: ReadonlyMap<string, string>, prefixes: readonly string[]): Array<{ key: string; value: string }> {
  const kvs: Array<{ key: string; value: string }> = [];
  for (const [key, value] of all) if (coversAny(prefixes, key)) kvs.push({ key, value });
  return kvs.sort(compareByKey);
}

/** confd's redis and zookeeper clients remove every "/*" from a key before reading it (strings.Replace(key, "/*", "", -1)). */
export function stripWildcard(key: string): string {
  return key.replaceAll('/*', '');
}
