// Key helpers shared by the backends that build a snapshot in memory.
import type { KeyValue } from './types.js';

/** True when `key` is `prefix` itself or lies below it: "/app" covers "/app" and "/app/x", not "/apple". */
export function covers(prefix: string, key: string): boolean {
  if (key === prefix) return true;
  return key.startsWith(prefix.endsWith('/') ? prefix : prefix + '/');
}

/** Orders strings as their UTF-8 bytes (what etcd returns), not by UTF-16 code units. */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800..DFFF) stand for code points above U+FFFF, so they sort after U+E000..FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** The entries of `all` covered by any of the prefixes, sorted by key bytes, without duplicates. */
export function selectCovered(all: Map<string, string>, prefixes: readonly string[]): KeyValue[] {
  const kvs: KeyValue[] = [];
  for (const [key, value] of all) {
    if (prefixes.some((p) => covers(p, key))) kvs.push({ key, value });
  }
  kvs.sort((a, b) => compareBytes(a.key, b.key));
  return kvs;
}
