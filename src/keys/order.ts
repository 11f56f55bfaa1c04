// Key order and searching a sorted list of keys. Keys are compared as Go and etcd compare them: by
// the bytes of their UTF-8 encoding (compareBytes). Where a caller has already turned its keys into
// byte strings (one char a byte, template/confd/store.ts) or knows they hold no surrogate, plain
// JS string order is that byte order and the string searches below use it directly.
import { encodeString, isEscapedByte } from '../bytes.js';

/**
 * Go's string comparison: byte order of the UTF-8 encodings (etcd's key order). Negative, zero or
 * positive. UTF-16 order agrees with it except where surrogates meet U+E000..U+FFFF, and where an
 * escaped byte is compared (then the rest is compared as bytes).
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if ((x >= 0xdc80 && x <= 0xdcff && isEscapedByte(a, i)) || (y >= 0xdc80 && y <= 0xdcff && isEscapedByte(b, i))) {
      return Buffer.compare(encodeString(a.slice(i)), encodeString(b.slice(i)));
    }
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates stand for code points above U+FFFF, so they sort after U+E000..U+FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

const SURROGATE = /[\ud800-\udfff]/;

/** Sorts `a` in place by compareBytes and returns it. */
export function sortByBytes(a: string[]): string[] {
  // Without surrogates, UTF-16 order is code point order, which is UTF-8 byte order.
  for (const s of a) if (SURROGATE.test(s)) return a.sort(compareBytes);
  return a.sort();
}

/** Byte order of the `key` fields: for sorting backend key/value pairs. */
export function compareByKey(a: { readonly key: string }, b: { readonly key: string }): number {
  return compareBytes(a.key, b.key);
}

/**
 * The first index in [lo, hi) whose element is not before `needle`, in JS string order (byte order
 * for byte strings and for strings without surrogates). The tight loop the store lookups run.
 */
export function lowerBound(sorted: readonly string[], needle: string, lo = 0, hi = sorted.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < needle) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * lowerBound when the answer is likely close to lo (a service's few keys): probes lo+1, lo+3,
 * lo+7, ... first, so k matches cost about 2·log2(k) comparisons instead of log2(n).
 */
export function gallopBound(sorted: readonly string[], needle: string, lo: number, hi: number): number {
  let step = 1;
  while (lo + step < hi && sorted[lo + step]! < needle) {
    lo += step;
    step *= 2;
  }
  return lowerBound(sorted, needle, lo, Math.min(lo + step, hi));
}

/** The first index in [lo, hi) for which `before(i)` is false (`before` true then false along the range). */
export function partitionPoint(lo: number, hi: number, before: (i: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Lower bound of `key` among byte-ordered key/value pairs (a loop of its own: through partitionPoint's closure it cost SnapshotStores.storeFor ~10%). */
export function lowerBoundKey(entries: ReadonlyArray<{ readonly key: string }>, key: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(entries[mid]!.key, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest string greater than every string that starts with p (p non-empty), in JS string order. */
export function prefixEnd(p: string): string {
  return p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
}
