// Go's package path (Go 1.19): Clean, Join, Base, Dir and Match, with Go's results for every
// input. Clean/Join/Base/Dir only look at the ASCII bytes '/' and '.', which UTF-16 code units
// and UTF-8 bytes agree on, so they run on JS strings directly. Match decodes runes and skips
// bytes one at a time, so it runs on "byte strings": the UTF-8 bytes of a string, one byte per
// char (latin1). For ASCII text the byte string is the string itself.

import { decodeBytes, encodeString } from '../bytes.js';

export class BadPatternError extends Error {
  constructor() {
    super('syntax error in pattern');
    this.name = 'ErrBadPattern';
  }
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

export function isAscii(s: string): boolean {
  return ASCII_ONLY.test(s);
}

/** The UTF-8 bytes of s as a latin1 string (s itself when s is ASCII). */
export function toByteString(s: string): string {
  return ASCII_ONLY.test(s) ? s : encodeString(s).toString('latin1');
}

/** Inverse of toByteString. */
export function fromByteString(b: string): string {
  return ASCII_ONLY.test(b) ? b : decodeBytes(Buffer.from(b, 'latin1'));
}

/** path.Clean */
export function clean(path: string): string {
  if (path === '') return '.';
  const rooted = path.charCodeAt(0) === 47;
  const n = path.length;
  if (isCleanFast(path, rooted)) return path;
  let r = 0;
  let dotdot = 0; // w never backtracks below this length
  if (rooted) {
    r = 1;
    dotdot = 1;
  }
  // A char array standing in for Go's lazybuf.
  const w: string[] = rooted ? ['/'] : [];
  while (r < n) {
    const c = path.charCodeAt(r);
    if (c === 47) {
      r++;
    } else if (c === 46 && (r + 1 === n || path.charCodeAt(r + 1) === 47)) {
      r++;
    } else if (c === 46 && path.charCodeAt(r + 1) === 46 && (r + 2 === n || path.charCodeAt(r + 2) === 47)) {
      r += 2;
      if (w.length > dotdot) {
        let popped = w.pop();
        while (w.length > dotdot && popped !== '/') popped = w.pop();
      } else if (!rooted) {
        if (w.length > 0) w.push('/');
        w.push('.', '.');
        dotdot = w.length;
      }
    } else {
      if ((rooted && w.length !== 1) || (!rooted && w.length !== 0)) w.push('/');
      for (; r < n && path.charCodeAt(r) !== 47; r++) w.push(path[r]!);
    }
  }
  if (w.length === 0) return '.';
  return w.join('');
}

// Most keys are already clean; recognising that avoids rebuilding them.
function isCleanFast(p: string, rooted: boolean): boolean {
  const n = p.length;
  if (n === 1) return true;
  if (p.charCodeAt(n - 1) === 47) return false;
  let segStart = rooted ? 1 : 0;
  for (let i = segStart; i <= n; i++) {
    if (i === n || p.charCodeAt(i) === 47) {
      const len = i - segStart;
      if (len === 0) return false;
      if (len === 1 && p.charCodeAt(segStart) === 46) return false;
      if (len === 2 && p.charCodeAt(segStart) === 46 && p.charCodeAt(segStart + 1) === 46) return false;
      segStart = i + 1;
    }
  }
  return true;
}

/** True if p is absolute and path.Clean(p) === p. */
export function isCleanAbs(p: string): boolean {
  return p.length > 0 && p.charCodeAt(0) === 47 && (p.length === 1 || isCleanFast(p, true));
}

/** path.Join */
export function join(...elem: string[]): string {
  let size = 0;
  for (const e of elem) size += e.length;
  if (size === 0) return '';
  let buf = '';
  for (const e of elem) {
    if (buf.length > 0 || e !== '') {
      if (buf.length > 0) buf += '/';
      buf += e;
    }
  }
  return clean(buf);
}

/** path.Base */
export function base(path: string): string {
  if (path === '') return '.';
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  if (end === 0) return '/';
  const p = path.slice(0, end);
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

/** path.Dir */
export function dir(path: string): string {
  const i = path.lastIndexOf('/');
  return clean(path.slice(0, i + 1));
}

/** path.Match on JS strings. Throws BadPatternError for a malformed pattern. */
export function match(pattern: string, name: string): boolean {
  return matchBytes(toByteString(pattern), toByteString(name));
}

/** Throws BadPatternError if pattern is malformed (Go reports that whatever the name). */
export function checkPattern(bytePattern: string): void {
  matchBytes(bytePattern, '');
}

/**
 * The bytes every match must start with: the pattern up to its first '*', '?', '[' or '\\'.
 * Keys outside that prefix range can never match.
 */
export function literalPrefix(bytePattern: string): string {
  for (let i = 0; i < bytePattern.length; i++) {
    const c = bytePattern.charCodeAt(i);
    if (c === 42 || c === 63 || c === 91 || c === 92) return bytePattern.slice(0, i);
  }
  return bytePattern;
}

/** path.Match on byte strings (see toByteString). */
export function matchBytes(pattern: string, name: string): boolean {
  Pattern: while (pattern.length > 0) {
    let star = false;
    let p = 0;
    while (p < pattern.length && pattern.charCodeAt(p) === 42) {
      p++;
      star = true;
    }
    const rest = pattern.slice(p);
    const end = scanChunkEnd(rest);
    const chunk = rest.slice(0, end);
    pattern = rest.slice(end);
    if (star && chunk === '') {
      return name.indexOf('/') < 0;
    }
    const t = matchChunk(chunk, name);
    if (t !== null && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name.charCodeAt(i) !== 47; i++) {
        const t2 = matchChunk(chunk, name.slice(i + 1));
        if (t2 !== null) {
          if (pattern.length === 0 && t2.length > 0) continue;
          name = t2;
          continue Pattern;
        }
      }
    }
    while (pattern.length > 0) {
      let q = 0;
      while (q < pattern.length && pattern.charCodeAt(q) === 42) q++;
      const r = pattern.slice(q);
      const e = scanChunkEnd(r);
      matchChunk(r.slice(0, e), '');
      pattern = r.slice(e);
    }
    return false;
  }
  return name.length === 0;
}

function scanChunkEnd(pattern: string): number {
  let inrange = false;
  let i: number;
  for (i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 92) {
      if (i + 1 < pattern.length) i++;
    } else if (c === 91) {
      inrange = true;
    } else if (c === 93) {
      inrange = false;
    } else if (c === 42) {
      if (!inrange) break;
    }
  }
  return i;
}

/** Go's utf8.DecodeRuneInString on a byte string: [rune, size]; [0xFFFD, 1] for bad input. */
export function decodeRune(s: string, i: number): [number, number] {
  const n = s.length - i;
  if (n < 1) return [0xfffd, 0];
  const c0 = s.charCodeAt(i);
  if (c0 < 0x80) return [c0, 1];
  const inRange = (c: number, lo = 0x80, hi = 0xbf) => c >= lo && c <= hi;
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    if (n < 2 || !inRange(s.charCodeAt(i + 1))) return [0xfffd, 1];
    return [((c0 & 0x1f) << 6) | (s.charCodeAt(i + 1) & 0x3f), 2];
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const lo = c0 === 0xe0 ? 0xa0 : 0x80;
    const hi = c0 === 0xed ? 0x9f : 0xbf;
    if (n < 2 || !inRange(s.charCodeAt(i + 1), lo, hi)) return [0xfffd, 1];
    if (n < 3 || !inRange(s.charCodeAt(i + 2))) return [0xfffd, 1];
    return [((c0 & 0x0f) << 12) | ((s.charCodeAt(i + 1) & 0x3f) << 6) | (s.charCodeAt(i + 2) & 0x3f), 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const lo = c0 === 0xf0 ? 0x90 : 0x80;
    const hi = c0 === 0xf4 ? 0x8f : 0xbf;
    if (n < 2 || !inRange(s.charCodeAt(i + 1), lo, hi)) return [0xfffd, 1];
    if (n < 3 || !inRange(s.charCodeAt(i + 2))) return [0xfffd, 1];
    if (n < 4 || !inRange(s.charCodeAt(i + 3))) return [0xfffd, 1];
    return [
      ((c0 & 0x07) << 18) |
        ((s.charCodeAt(i + 1) & 0x3f) << 12) |
        ((s.charCodeAt(i + 2) & 0x3f) << 6) |
        (s.charCodeAt(i + 3) & 0x3f),
      4,
    ];
  }
  return [0xfffd, 1];
}

/**
 * The body of a character class, from chunk[c] (after '[' and any '^') to its ']': returns
 * (index after ']') * 2, plus 1 when rune r is in the class. getEsc throws on a malformed class.
 * Shared by matchChunk and matchChunkAt so both read classes as Go's path.Match does.
 */
function scanClass(chunk: string, c: number, r: number): number {
  let matched = false;
  let nrange = 0;
  for (;;) {
    if (chunk.charCodeAt(c) === 93 && nrange > 0) return (c + 1) * 2 + (matched ? 1 : 0);
    const lo = getEsc(chunk, c);
    c = lo[1];
    let hi = lo[0];
    if (chunk.charCodeAt(c) === 45) {
      const h = getEsc(chunk, c + 1);
      hi = h[0];
      c = h[1];
    }
    if (lo[0] <= r && r <= hi) matched = true;
    nrange++;
  }
}

// matchChunk: the rest of s after chunk matched its beginning, or null. Throws on a bad chunk,
// after the match has failed too, so that a malformed pattern is always reported.
function matchChunk(chunk: string, s: string): string | null {
  let failed = false;
  let c = 0;
  let si = 0;
  const cn = chunk.length;
  while (c < cn) {
    if (!failed && si >= s.length) failed = true;
    const ch = chunk.charCodeAt(c);
    if (ch === 91) {
      let r = 0;
      if (!failed) {
        const [rr, n] = decodeRune(s, si);
        r = rr;
        si += n;
      }
      c++;
      let negated = false;
      if (c < cn && chunk.charCodeAt(c) === 94) {
        negated = true;
        c++;
      }
      const scan = scanClass(chunk, c, r);
      c = scan >> 1;
      if ((scan & 1) === 1 === negated) failed = true;
    } else if (ch === 63) {
      if (!failed) {
        if (s.charCodeAt(si) === 47) failed = true;
        si += decodeRune(s, si)[1];
      }
      c++;
    } else {
      if (ch === 92) {
        c++;
        if (c >= cn) throw new BadPatternError();
      }
      if (!failed) {
        if (chunk.charCodeAt(c) !== s.charCodeAt(si)) failed = true;
        si++;
      }
      c++;
    }
  }
  if (failed) return null;
  return s.slice(si);
}

// getEsc: a possibly escaped character of a class: [rune, next index].
function getEsc(chunk: string, c: number): [number, number] {
  if (c >= chunk.length || chunk.charCodeAt(c) === 45 || chunk.charCodeAt(c) === 93) throw new BadPatternError();
  if (chunk.charCodeAt(c) === 92) {
    c++;
    if (c >= chunk.length) throw new BadPatternError();
  }
  const [r, n] = decodeRune(chunk, c);
  if (r === 0xfffd && n === 1) throw new BadPatternError();
  const next = c + n;
  if (next >= chunk.length) throw new BadPatternError();
  return [r, next];
}

/** A pattern checked and split into chunks once, to match many names (see compilePattern). */
export interface CompiledPattern {
  readonly chunks: ReadonlyArray<{ readonly star: boolean; readonly chunk: string; readonly literal: boolean }>;
}

/** Checks a byte-string pattern (throws BadPatternError) and splits it as Go's scanChunk does. */
export function compilePattern(bytePattern: string): CompiledPattern {
  checkPattern(bytePattern);
  const chunks: Array<{ star: boolean; chunk: string; literal: boolean }> = [];
  let pattern = bytePattern;
  while (pattern.length > 0) {
    let p = 0;
    while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
    const rest = pattern.slice(p);
    const end = scanChunkEnd(rest);
    const chunk = rest.slice(0, end);
    chunks.push({ star: p > 0, chunk, literal: !/[[?\\]/.test(chunk) });
    pattern = rest.slice(end);
  }
  return { chunks };
}

/** matchBytes for a compiled (hence valid) pattern, without copying the name. */
export function matchCompiled(cp: CompiledPattern, name: string): boolean {
  const chunks = cp.chunks;
  let pos = 0;
  Chunks: for (let ci = 0; ci < chunks.length; ci++) {
    const { star, chunk, literal } = chunks[ci]!;
    const last = ci === chunks.length - 1;
    if (star && chunk === '') return name.indexOf('/', pos) < 0;
    if (star && literal) {
      // The loop below tries the chunk at pos, pos+1, ... up to the first '/' (inclusive) and
      // takes the first fit: for a literal chunk that is one indexOf (or, last, the name's end).
      let slash = name.indexOf('/', pos);
      if (slash < 0) slash = name.length;
      const j = last ? name.length - chunk.length : name.indexOf(chunk, pos);
      if (j < pos || j > slash || (last && !name.startsWith(chunk, j))) return false;
      pos = j + chunk.length;
      continue;
    }
    const t = literal ? (name.startsWith(chunk, pos) ? pos + chunk.length : -1) : matchChunkAt(chunk, name, pos);
    if (t >= 0 && (t === name.length || !last)) {
      pos = t;
      continue;
    }
    if (star) {
      for (let i = pos; i < name.length && name.charCodeAt(i) !== 47; i++) {
        const t2 = literal ? (name.startsWith(chunk, i + 1) ? i + 1 + chunk.length : -1) : matchChunkAt(chunk, name, i + 1);
        if (t2 >= 0) {
          if (last && t2 < name.length) continue;
          pos = t2;
          continue Chunks;
        }
      }
    }
    return false;
  }
  return pos === name.length;
}

// matchChunk for a valid chunk at s[si:]: the index after the match, or -1.
function matchChunkAt(chunk: string, s: string, si: number): number {
  let c = 0;
  const cn = chunk.length;
  while (c < cn) {
    if (si >= s.length) return -1;
    const ch = chunk.charCodeAt(c);
    if (ch === 91) {
      const [r, n] = decodeRune(s, si);
      si += n;
      c++;
      let negated = false;
      if (chunk.charCodeAt(c) === 94) {
        negated = true;
        c++;
      }
      const scan = scanClass(chunk, c, r);
      c = scan >> 1;
      if ((scan & 1) === 1 === negated) return -1;
    } else if (ch === 63) {
      if (s.charCodeAt(si) === 47) return -1;
      si += decodeRune(s, si)[1];
      c++;
    } else {
      if (ch === 92) c++;
      if (chunk.charCodeAt(c) !== s.charCodeAt(si)) return -1;
      si++;
      c++;
    }
  }
  return si;
}
