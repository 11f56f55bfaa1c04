// Key helpers shared by the backends that build a snapshot in memory.
import type { KeyValue } from './types.js';
import { compareBytes } from '../bytes.js';

/** confd's redis and zookeeper clients remove every "/*" from a key before reading it (strings.Replace(key, "/*", "", -1)). */
export function stripWildcard(key: string): string {
  return key.replaceAll('/*', '');
}

/** True when `key` is `prefix` itself or lies below it: "/app" covers "/app" and "/app/x", not "/apple". */
export function covers(prefix: string, key: string): boolean {
  if (key === prefix) return true;
  return key.startsWith(prefix.endsWith('/') ? prefix : prefix + '/');
}

// Byte order (what etcd returns) lives in the leaf module the template engine shares.
export { compareBytes } from '../bytes.js';

/** The entries of `all` covered by any of the prefixes, sorted by key bytes, without duplicates. */
export function selectCovered(all: Map<string, string>, prefixes: readonly string[]): KeyValue[] {
  const kvs: KeyValue[] = [];
  for (const [key, value] of all) {
    if (prefixes.some((p) => covers(p, key))) kvs.push({ key, value });
  }
  kvs.sort((a, b) => compareBytes(a.key, b.key));
  return kvs;
}
