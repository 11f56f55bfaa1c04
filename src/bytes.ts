// Go strings are bytes; ours are UTF-16. A backend value or key that is not valid UTF-8 (Latin-1
// text from a legacy tool, a binary blob) must reach the written file byte for byte, and `len`,
// `printf "%x"`, `slice`, sorting and comparisons must see its bytes, as confd's do.
//
// The bridge is Python's "surrogateescape": each byte of 0x80..0xFF that is not part of a valid
// UTF-8 sequence (by Go's utf8.DecodeRune rules: one invalid byte at a time) decodes to the lone
// low surrogate U+DC80..U+DCFF. Valid UTF-8 never decodes to a lone surrogate, so the mapping is
// unambiguous and round-trips: encodeString(decodeBytes(b)) equals b for every b. A code unit of
// that range is an "escaped byte" only when it is not the second half of a surrogate pair.
//
// Every function has a fast path for the common case (all valid UTF-8): until this process has
// decoded a byte that is not UTF-8 (escapesMade), none of them looks at its string at all (a
// String.prototype.isWellFormed call costs ~15 ns, 50% of a short sprintf); after that, one native
// check, and the escape handling runs only for strings that hold escaped bytes. A lone surrogate
// that is not an escaped byte reads and writes as U+FFFD on both paths, as Node writes it.
//
// This module is a leaf: backends, the template engine, resources and the runtime import it. Byte
// order (compareBytes) lives with the other key logic in src/keys/.
import { isUtf8 } from 'node:buffer';

declare global {
  interface String {
    /** ES2024, in Node 20 (V8 11.3); O(1) for one-byte strings, which cannot hold a surrogate. */
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

const REPLACEMENT = 0xfffd;

/** Set once decodeEscaped made an escaped byte: before that no string can hold one. */
let escapesMade = false;

/** Whether the code unit at i of s is an escaped byte (a lone U+DC80..U+DCFF). */
export function isEscapedByte(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 0xdc80 || c > 0xdcff) return false;
  if (i === 0) return true;
  const p = s.charCodeAt(i - 1);
  return p < 0xd800 || p > 0xdbff;
}

/** Whether s holds an escaped byte (or any other lone surrogate). O(1) for one-byte strings. */
export function hasRawBytes(s: string): boolean {
  return escapesMade && !s.isWellFormed();
}

/** The string for buf[start, end): UTF-8 decoded, each invalid byte escaped (see the top). */
export function decodeBytes(buf: Buffer, start = 0, end = buf.length): string {
  const s = buf.toString('utf8', start, end);
  // Node replaces every invalid sequence with U+FFFD; one-byte strings never hold it (O(1) check).
  if (s.indexOf('\ufffd') === -1) return s;
  const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
  if (isUtf8(view)) return s; // a real U+FFFD in valid text
  return decodeEscaped(view);
}

/**
 * Go's utf8.DecodeRune over bytes: [rune, size], with (U+FFFD, 1) for an invalid or short sequence.
 */
export function decodeRune(b: Uint8Array, i: number): [rune: number, size: number] {
  const b0 = b[i]!;
  if (b0 < 0x80) return [b0, 1];
  let size: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) size = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    size = 3;
    if (b0 === 0xe0) lo = 0xa0;
    else if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    size = 4;
    if (b0 === 0xf0) lo = 0x90;
    else if (b0 === 0xf4) hi = 0x8f;
  } else return [0xfffd, 1];
  if (i + size > b.length) return [0xfffd, 1];
  const b1 = b[i + 1]!;
  if (b1 < lo || b1 > hi) return [0xfffd, 1];
  if (size === 2) return [((b0 & 0x1f) << 6) | (b1 & 0x3f), 2];
  const b2 = b[i + 2]!;
  if (b2 < 0x80 || b2 > 0xbf) return [0xfffd, 1];
  if (size === 3) return [((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f), 3];
  const b3 = b[i + 3]!;
  if (b3 < 0x80 || b3 > 0xbf) return [0xfffd, 1];
  return [((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f), 4];
}

function decodeEscaped(b: Uint8Array): string {
  escapesMade = true;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < b.length) {
    const [rune, size] = decodeRune(b, i);
    if (size > 1 || rune !== REPLACEMENT) {
      i += size;
      continue;
    }
    if (runStart < i) out += buf.toString('utf8', runStart, i);
    out += String.fromCharCode(0xdc00 + b[i]!);
    i++;
    runStart = i;
  }
  if (runStart < b.length) out += buf.toString('utf8', runStart, b.length);
  return out;
}

/** The bytes of s: UTF-8, escaped bytes restored; other lone surrogates become EF BF BD (as Node writes them). */
export function encodeString(s: string): Buffer {
  if (!hasRawBytes(s)) return Buffer.from(s, 'utf8');
  return encodeEscaped(s);
}

function encodeEscaped(s: string): Buffer {
  const out = Buffer.allocUnsafe(s.length * 3);
  let pos = 0;
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    // A lone surrogate: write the run before it, then its byte(s).
    if (runStart < i) pos += out.write(s.slice(runStart, i), pos, 'utf8');
    if (c >= 0xdc80 && c <= 0xdcff) out[pos++] = c - 0xdc00;
    else {
      out[pos++] = 0xef;
      out[pos++] = 0xbf;
      out[pos++] = 0xbd;
    }
    runStart = i + 1;
  }
  if (runStart < s.length) pos += out.write(s.slice(runStart), pos, 'utf8');
  return out.subarray(0, pos);
}

/** Go's len(s): the number of bytes encodeString(s) gives. */
export function byteLength(s: string): number {
  if (!hasRawBytes(s)) return Buffer.byteLength(s, 'utf8');
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else if (c >= 0xdc80 && c <= 0xdcff && isEscapedByte(s, i)) n += 1;
    else n += 3;
  }
  return n;
}

/**
 * One spelling for one byte sequence. Joining strings can put escaped bytes next to each other
 * that together are valid UTF-8 (slice "é" 0 1 followed by slice "é" 1); decoding the bytes again
 * makes the result equal (===) to the same text read whole, as Go's == on bytes would.
 */
export function canonicalBytes(s: string): string {
  return hasRawBytes(s) ? decodeBytes(encodeEscaped(s)) : s;
}

/** s with each escaped byte (and any other lone surrogate) replaced by U+FFFD, as Go's decoders do. */
export function replaceRawBytes(s: string): string {
  return hasRawBytes(s) ? s.toWellFormed() : s;
}
