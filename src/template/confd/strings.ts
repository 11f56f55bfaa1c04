// The Go string functions confd exposes (strings.*), with Go's results where JavaScript's
// built-ins differ: simple per-rune case mapping, Split on "" by runes, Replace with an empty
// old string. strconv.Quote is the engine's (template/go/strconv.ts). Escaped bytes (invalid UTF-8,
// src/bytes.ts) are handled as Go handles invalid bytes.

import { canonicalBytes, hasRawBytes } from '../../bytes.js';

const ASCII_ONLY = /^[\x00-\x7f]*$/;

// Runes whose full (SpecialCasing) uppercase has several runes but whose simple uppercase,
// which is what Go's unicode.ToUpper uses, is a single different rune.
function simpleUpperException(cp: number): number | undefined {
  if ((cp >= 0x1f80 && cp <= 0x1f87) || (cp >= 0x1f90 && cp <= 0x1f97) || (cp >= 0x1fa0 && cp <= 0x1fa7)) return cp + 8;
  if (cp === 0x1fb3) return 0x1fbc;
  if (cp === 0x1fc3) return 0x1fcc;
  if (cp === 0x1ff3) return 0x1ffc;
  return undefined;
}

// Letters that gained case mappings after Unicode 13.0, the version of Go 1.19's tables: Node's
// ICU maps them, Go leaves them unchanged. Found by comparing every rune with Go's results.
const NEWER_THAN_GO: ReadonlyArray<readonly [number, number]> = [[0x19b, 0x19b], [0x264, 0x264], [0x1c89, 0x1c8a], [0x2c2f, 0x2c2f], [0x2c5f, 0x2c5f], [0xa7c0, 0xa7c1], [0xa7cb, 0xa7dc], [0x10570, 0x1057a], [0x1057c, 0x1058a], [0x1058c, 0x10592], [0x10594, 0x10595], [0x10597, 0x105a1], [0x105a3, 0x105b1], [0x105b3, 0x105b9], [0x105bb, 0x105bc], [0x10d50, 0x10d65], [0x10d70, 0x10d85], [0x16ea0, 0x16eb8], [0x16ebb, 0x16ed3]];

function newerThanGo(cp: number): boolean {
  for (const [lo, hi] of NEWER_THAN_GO) if (cp >= lo && cp <= hi) return true;
  return false;
}

const upperCache = new Map<string, string>();
const lowerCache = new Map<string, string>();

function mapRune(ch: string, upper: boolean): string {
  const cache = upper ? upperCache : lowerCache;
  const hit = cache.get(ch);
  if (hit !== undefined) return hit;
  const cp = ch.codePointAt(0)!;
  let out: string;
  if ((cp >= 0xd800 && cp <= 0xdfff) || newerThanGo(cp)) {
    // An escaped byte (invalid UTF-8, src/bytes.ts) is U+FFFD to Go, and strings.Map writes that rune;
    // a rune unknown to Go's Unicode 13 tables stays as it is.
    out = cp >= 0xd800 && cp <= 0xdfff ? '\ufffd' : ch;
  } else {
    const full = upper ? ch.toUpperCase() : ch.toLowerCase();
    const n = full.length === 1 || (full.length === 2 && full.codePointAt(0)! > 0xffff) ? 1 : 2;
    if (n === 1) {
      out = full;
    } else if (upper) {
      const e = simpleUpperException(cp);
      out = e === undefined ? ch : String.fromCodePoint(e);
    } else {
      // Only U+0130 İ lowercases to several runes; its simple lowercase is 'i'.
      out = cp === 0x130 ? 'i' : ch;
    }
  }
  cache.set(ch, out);
  return out;
}

/** strings.ToUpper: unicode.ToUpper rune by rune (ß stays ß, ﬁ stays ﬁ). */
export function goToUpper(s: string): string {
  if (ASCII_ONLY.test(s)) return s.toUpperCase();
  let out = '';
  for (const ch of s) out += mapRune(ch, true);
  return out;
}

/** strings.ToLower: unicode.ToLower rune by rune (no final sigma, İ → i). */
export function goToLower(s: string): string {
  if (ASCII_ONLY.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) out += mapRune(ch, false);
  return out;
}

/** strings.Split(s, sep) */
export function goSplit(s: string, sep: string): string[] {
  if (sep === '') return explode(s);
  return s.split(sep);
}

/**
 * strings.Split(s, ""): one string per UTF-8 sequence. Go's explode writes an invalid byte as
 * U+FFFD, except in the last piece, which is the rest of s as it is.
 */
export function explode(s: string): string[] {
  const runes = Array.from(s);
  if (!hasRawBytes(s)) return runes;
  for (let i = 0; i < runes.length - 1; i++) if (hasRawBytes(runes[i]!)) runes[i] = '\ufffd';
  return runes;
}

/** strings.Replace(s, old, new, n) */
export function goReplace(s: string, old: string, repl: string, n: number): string {
  if (old === repl || n === 0) return s;
  if (old === '') {
    const runes = Array.from(s);
    let m = runes.length + 1;
    if (n < 0 || m < n) n = m;
    let out = '';
    let i = 0;
    for (; i < n; i++) {
      out += repl;
      if (i < runes.length) out += runes[i];
    }
    for (; i < runes.length; i++) out += runes[i];
    // When n <= len(runes), the remaining runes were appended by the second loop.
    return canonicalBytes(out);
  }
  let out = '';
  let start = 0;
  let done = 0;
  while (n < 0 || done < n) {
    const j = s.indexOf(old, start);
    if (j < 0) break;
    out += s.slice(start, j) + repl;
    start = j + old.length;
    done++;
  }
  return canonicalBytes(out + s.slice(start));
}
