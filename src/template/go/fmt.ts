// Go's fmt package (Go 1.19 print.go and format.go) over the value model of value.ts: Sprint, Sprintln,
// Sprintf and what a template action prints. The code follows Go's structure (pp.printArg, pp.printValue,
// fmt.fmtInteger, ...) closely so that it can be checked line by line against the Go source; the golden
// file test/template/go/fmt-golden.json, recorded from real Go, checks the bytes.
//
// Where the model has no Go counterpart: undefined operands of Sprint/Sprintf are nil interfaces (a
// template passes a missing value to a function that way); a fractional JS number is a float64; an
// integral one beyond 2^53 prints the exact value of the double (value.ts keeps such ints as bigint).
//
// Not reproduced: %p and the %v of funcs print pointers in Go; here they print 0x0. Formatter,
// complex numbers, unsized ints other than int and uint8, and pointers do not exist in the value model.
// Map keys of different types in one map are ordered by a fixed type rank (Go orders them by type
// address, which varies). A Go string with invalid UTF-8 holds escaped bytes (src/bytes.ts): %x, %q
// and padding see its bytes as Go does.

import { GoFloat, GoUint8, goTypeOf, isGoFunction, isNilCollection } from './value.js';
import { canonicalBytes, decodeBytes, encodeString, hasRawBytes } from '../../bytes.js';
import { compareBytes } from '../../keys/index.js';
import {
  canBackquote,
  decodeRune,
  formatFloat,
  quoteBytes,
  quote,
  quoteRuneToASCII,
  quoteRune,
  quoteToASCII,
  runeCount,
  runeString,
  truncateRunes,
  isPrint,
  validRune,
} from './strconv.js';

const LDIGITS = '0123456789abcdefx';
const UDIGITS = '0123456789ABCDEFX';

// Verbs are compared as char codes.
const V_PERCENT = 0x25;
const V_T = 0x54; // T
const V_U = 0x55; // U
const V_X = 0x58; // X
const V_E = 0x45; // E
const V_F = 0x46; // F
const V_G = 0x47; // G
const V_O = 0x4f; // O
const V_b = 0x62;
const V_c = 0x63;
const V_d = 0x64;
const V_e = 0x65;
const V_f = 0x66;
const V_g = 0x67;
const V_o = 0x6f;
const V_p = 0x70;
const V_q = 0x71;
const V_s = 0x73;
const V_t = 0x74;
const V_v = 0x76;
const V_w = 0x77;
const V_x = 0x78;

/** Thrown by formatValue for values a template cannot print (funcs), as Go's printableValue refuses them. */
export class UnprintableValueError extends Error {
  constructor(readonly goType: string) {
    super(`can't print value of type ${goType}`);
    this.name = 'UnprintableValueError';
  }
}

/** The Go type name fmt shows for v (%T, error markers); a fractional JS number is taken as a float64. */
function typeName(v: unknown): string {
  return typeof v === 'number' && !Number.isInteger(v) ? 'float64' : goTypeOf(v);
}

function isFunc(v: unknown): boolean {
  return typeof v === 'function' || isGoFunction(v);
}

/** Whether a template action can print v (Go's printableValue: everything but funcs and chans). */
export function isPrintable(v: unknown): boolean {
  return !isFunc(v);
}

/**
 * What a template action `{{x}}` writes for the value x: Go text/template's printValue. undefined (an
 * invalid reflect.Value: nil data, a missing map key) prints "<no value>"; everything else prints as
 * fmt.Fprint prints it, including String() and Error() methods. Throws UnprintableValueError for funcs.
 */
export function formatValue(v: unknown): string {
  // The hot path of every render: strings and ints need no printer.
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (v instanceof GoFloat) return formatFloat(v.value, 'g', -1);
  if (isFunc(v)) throw new UnprintableValueError(goTypeOf(v));
  const p = new Printer();
  p.printArg(v, V_v);
  return p.buf;
}

/** Go's fmt.Sprint: operands printed with %v, a space between two operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  const p = new Printer();
  let prevString = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(arg, V_v);
    prevString = isString;
  }
  return mayJoinRawBytes(undefined, args) ? canonicalBytes(p.buf) : p.buf;
}

/** Go's fmt.Sprintln: operands printed with %v, always separated by spaces, then a newline. */
export function sprintln(args: readonly unknown[]): string {
  const p = new Printer();
  for (let i = 0; i < args.length; i++) {
    if (i > 0) p.buf += ' ';
    p.printArg(args[i], V_v);
  }
  return mayJoinRawBytes(undefined, args) ? canonicalBytes(p.buf + '\n') : p.buf + '\n';
}

/** Go's fmt.Sprintf. undefined operands are nil interfaces, as Go receives a missing value. */
export function sprintf(format: string, args: readonly unknown[]): string {
  const plain = sprintfStrings(format, args);
  if (plain !== undefined) return plain;
  const p = new Printer();
  p.doPrintf(format, args);
  return mayJoinRawBytes(format, args) ? canonicalBytes(p.buf) : p.buf;
}

/**
 * The commonest call, `printf "/svc/%s/port" $name`: a format whose only verbs are plain %s, one
 * string argument for each (Go prints such a string as it is). Anything else (flags, widths, %%,
 * other verbs, a missing or extra argument, a non-string, escaped bytes): undefined, for the Printer.
 * It skips the Printer's set-up, the verb parser and the result check: ~2 us of cold code per call,
 * thousands of calls in a large render (bench/onetime-profile.md).
 */
function sprintfStrings(format: string, args: readonly unknown[]): string | undefined {
  let out = '';
  let from = 0;
  let n = 0;
  for (let i = format.indexOf('%'); i >= 0; i = format.indexOf('%', from)) {
    if (format.charCodeAt(i + 1) !== 0x73 || n === args.length) return undefined;
    const a = args[n++];
    if (typeof a !== 'string' || hasRawBytes(a)) return undefined;
    out += format.slice(from, i) + a;
    from = i + 2;
  }
  if (n !== args.length || hasRawBytes(format)) return undefined;
  return out + format.slice(from);
}

/**
 * Whether printing these may have put escaped bytes (src/bytes.ts) side by side, so the result
 * needs canonicalBytes. Strings and the format are checked (O(1) for one-byte strings); slices,
 * maps and structs are assumed to (a []byte prints its bytes). The common case, ints and
 * UTF-8 strings, skips the check of the result, which would flatten every result string.
 */
function mayJoinRawBytes(format: string | undefined, args: readonly unknown[]): boolean {
  if (format !== undefined && hasRawBytes(format)) return true;
  for (const a of args) {
    if (typeof a === 'string') {
      if (hasRawBytes(a)) return true;
    } else if (typeof a === 'object' && a !== null && !(a instanceof GoFloat) && !(a instanceof GoUint8)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Value classification

/** The method named `name` of v, if v's prototype chain (not v's own fields) has one. */
function method(v: unknown, name: 'String' | 'Error' | 'GoString'): (() => unknown) | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = (v as Record<string, unknown>)[name];
  if (typeof m !== 'function' || Object.prototype.hasOwnProperty.call(v, name)) return undefined;
  return m as () => unknown;
}

function isByteSliceType(type: string): boolean {
  return type === '[]uint8' || type === '[]byte';
}

function byteOf(v: unknown): number {
  return v instanceof GoUint8 ? v.value : Number(v) & 0xff;
}

function bytesOf(a: readonly unknown[]): Uint8Array {
  const b = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) b[i] = byteOf(a[i]);
  return b;
}

const strictUTF8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Go's string(b): invalid bytes stay bytes (escaped, src/bytes.ts). */
function bytesToString(b: Uint8Array): string {
  return decodeBytes(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** The bytes as a JS string if they are valid UTF-8 (so no information is lost), else undefined. */
function validUTF8String(b: Uint8Array): string | undefined {
  try {
    return strictUTF8Decoder.decode(b);
  } catch {
    return undefined;
  }
}

/** A struct's fields in declaration order. */
function structFields(v: object): string[] {
  return Object.keys(v);
}

// fmtsort: keys of one map sorted as Go's internal/fmtsort sorts them.
function typeRank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  switch (typeof v) {
    case 'boolean':
      return 1;
    case 'number':
    case 'bigint':
      return 2;
    case 'string':
      return 5;
  }
  if (v instanceof GoUint8) return 3;
  if (v instanceof GoFloat) return 4;
  return 6;
}

/** Go's fmtsort.compare for the key kinds of the value model: -1, 0 or 1. */
export function compareKeys(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return a === b ? 0 : a ? 1 : -1;
    case 2:
    case 3: {
      // JS compares a number with a bigint exactly.
      const x = ra === 2 ? (a as number | bigint) : (a as GoUint8).value;
      const y = ra === 2 ? (b as number | bigint) : (b as GoUint8).value;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 4: {
      const x = (a as GoFloat).value;
      const y = (b as GoFloat).value;
      if (x < y) return -1;
      if (x > y) return 1;
      if (x === y) return 0;
      // NaN sorts before everything, and equal to NaN.
      if (x !== x && y !== y) return 0;
      return x !== x ? -1 : 1;
    }
    case 5: {
      const c = compareBytes(a as string, b as string);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
  }
  return 0;
}

/** The keys of a map in Go's printing (and range) order. */
export function sortedMapKeys<K>(m: ReadonlyMap<K, unknown>): K[] {
  const keys = Array.from(m.keys());
  if (keys.length > 1) {
    if (typeof keys[0] === 'string' && keys.every((k) => typeof k === 'string')) {
      (keys as unknown as string[]).sort(compareBytes);
    } else keys.sort(compareKeys);
  }
  return keys;
}

function tooLarge(x: number): boolean {
  return x > 1e6 || x < -1e6;
}

// ---------------------------------------------------------------------------------------------
// The printer: Go's pp and fmt in one object.

class Printer {
  buf = '';

  // fmt.fmtFlags
  widPresent = false;
  precPresent = false;
  minus = false;
  plus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  prec = 0;

  erroring = false;
  panicking = false;
  reordered = false;
  goodArgNum = true;

  clearflags(): void {
    this.widPresent = this.precPresent = this.minus = this.plus = this.sharp = false;
    this.space = this.zero = this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
  }

  // --- format.go ---

  writePadding(n: number): void {
    if (n <= 0) return;
    this.buf += (this.zero ? '0' : ' ').repeat(n);
  }

  /** Go's fmt.pad and fmt.padString (the same for JS strings). */
  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.wid - runeCount(s);
    if (!this.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  fmtBoolean(v: boolean): void {
    this.pad(v ? 'true' : 'false');
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.precPresent && this.prec > 4) prec = this.prec;
    let tail = '';
    if (this.sharp && u <= 0x10ffffn && isPrint(Number(u))) tail = " '" + String.fromCodePoint(Number(u)) + "'";
    let hex = u.toString(16).toUpperCase();
    if (hex.length < prec) hex = '0'.repeat(prec - hex.length) + hex;
    const oldZero = this.zero;
    this.zero = false;
    this.pad('U+' + hex + tail);
    this.zero = oldZero;
  }

  /**
   * Go's fmt.fmtInteger. The magnitude arrives as a non-negative number or bigint (bigint only beyond
   * 2^53) with its sign apart.
   */
  fmtInteger(mag: number | bigint, negative: boolean, base: number, verb: number, digits: string): void {
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      if (prec === 0 && (mag === 0 || mag === 0n)) {
        const oldZero = this.zero;
        this.zero = false;
        this.writePadding(this.wid);
        this.zero = oldZero;
        return;
      }
    } else if (this.zero && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--;
    }
    let s = mag.toString(base);
    if (digits === UDIGITS && base === 16) s = s.toUpperCase();
    if (prec > s.length) s = '0'.repeat(prec - s.length) + s;
    if (this.sharp) {
      if (base === 2) s = '0b' + s;
      else if (base === 8) {
        if (s.charCodeAt(0) !== 0x30) s = '0' + s;
      } else if (base === 16) s = '0' + digits[16] + s;
    }
    if (verb === V_O) s = '0o' + s;
    if (negative) s = '-' + s;
    else if (this.plus) s = '+' + s;
    else if (this.space) s = ' ' + s;
    const oldZero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = oldZero;
  }

  fmtS(s: string): void {
    if (this.precPresent) s = truncateRunes(s, this.prec);
    this.pad(s);
  }

  /** Go's fmt.fmtSbx over UTF-8 bytes. */
  fmtSbx(b: Uint8Array, digits: string): void {
    let length = b.length;
    if (this.precPresent && this.prec < length) length = this.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) width += 2;
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    let out = '';
    if (this.sharp) out += '0' + digits[16];
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) {
        out += ' ';
        if (this.sharp) out += '0' + digits[16];
      }
      const c = b[i]!;
      out += digits[c >> 4]! + digits[c & 15]!;
    }
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  fmtQ(s: string): void {
    if (hasRawBytes(s)) {
      this.fmtQBytes(encodeString(s));
      return;
    }
    if (this.precPresent) s = truncateRunes(s, this.prec);
    if (this.sharp && canBackquote(s)) {
      this.pad('`' + s + '`');
      return;
    }
    this.pad(this.plus ? quoteToASCII(s) : quote(s));
  }

  /** fmtQ of string(b) where b may hold invalid UTF-8, which Go quotes byte by byte as \\xHH. */
  fmtQBytes(b: Uint8Array): void {
    const s = validUTF8String(b);
    if (s !== undefined) {
      this.fmtQ(s);
      return;
    }
    if (this.precPresent) {
      let i = 0;
      for (let n = this.prec; n > 0 && i < b.length; n--) i += decodeRune(b, i)[1];
      b = b.subarray(0, i);
    }
    // Invalid UTF-8 can never be backquoted, so the # flag changes nothing here.
    this.pad(quoteBytes(b, this.plus));
  }

  /** The rune for %c and %q of an integer: beyond Unicode (or negative) it is U+FFFD. */
  static runeOf(mag: number | bigint, negative: boolean): number {
    if (negative || mag > 0x10ffff) return 0xfffd;
    return Number(mag);
  }

  fmtC(r: number): void {
    this.pad(runeString(r));
  }

  fmtQc(r: number): void {
    if (!validRune(r)) r = 0xfffd;
    this.pad(this.plus ? quoteRuneToASCII(r) : quoteRune(r));
  }

  fmtFloat(v: number, verb: string, prec: number): void {
    if (this.precPresent) prec = this.prec;
    const formatted = formatFloat(v, verb as 'e', prec);
    let num = formatted.charCodeAt(0) === 0x2d || formatted.charCodeAt(0) === 0x2b ? formatted : '+' + formatted;
    if (this.space && num[0] === '+' && !this.plus) num = ' ' + num.slice(1);
    const c1 = num.charCodeAt(1);
    if (c1 === 0x49 || c1 === 0x4e) {
      // Inf and NaN: no zero padding, and NaN gets a sign only when asked for.
      const oldZero = this.zero;
      this.zero = false;
      if (c1 === 0x4e && !this.space && !this.plus) num = num.slice(1);
      this.pad(num);
      this.zero = oldZero;
      return;
    }
    if (this.sharp && verb !== 'b') {
      let digits = 0;
      if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') {
        digits = prec;
        if (digits === -1) digits = 6;
      }
      let tail = '';
      let hasDecimalPoint = false;
      let sawNonzeroDigit = false;
      for (let i = 1; i < num.length; i++) {
        const ch = num[i]!;
        if (ch === '.') {
          hasDecimalPoint = true;
          continue;
        }
        if (ch === 'p' || ch === 'P' || ((ch === 'e' || ch === 'E') && verb !== 'x' && verb !== 'X')) {
          tail = num.slice(i);
          num = num.slice(0, i);
          break;
        }
        if (ch !== '0') sawNonzeroDigit = true;
        if (sawNonzeroDigit) digits--;
      }
      if (!hasDecimalPoint) {
        if (num.length === 2 && num[1] === '0') digits--;
        num += '.';
      }
      if (digits > 0) num += '0'.repeat(digits);
      num += tail;
    }
    if (this.plus || num[0] !== '+') {
      if (this.zero && this.widPresent && this.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  // --- print.go ---

  badVerb(verb: number, arg: unknown, hasArg: boolean): void {
    this.erroring = true;
    this.buf += '%!' + String.fromCodePoint(verb) + '(';
    if (hasArg && arg !== null && arg !== undefined) {
      this.buf += typeName(arg) + '=';
      this.printArg(arg, V_v);
    } else {
      this.buf += '<nil>';
    }
    this.buf += ')';
    this.erroring = false;
  }

  fmtBool(v: boolean, verb: number): void {
    if (verb === V_t || verb === V_v) this.fmtBoolean(v);
    else this.badVerb(verb, v, true);
  }

  fmt0x64(v: number | bigint, leading0x: boolean): void {
    const sharp = this.sharp;
    this.sharp = leading0x;
    this.fmtInteger(v, false, 16, V_v, LDIGITS);
    this.sharp = sharp;
  }

  /** Go's pp.fmtInteger for an int (signed; a bigint beyond 2^53) or uint8 (unsigned) value. */
  fmtIntegerVerb(v: number | bigint, isSigned: boolean, verb: number, arg: unknown): void {
    const negative = v < 0;
    let mag: number | bigint = negative ? -v : v;
    if (typeof mag === 'number' && mag > Number.MAX_SAFE_INTEGER) mag = BigInt(mag);
    switch (verb) {
      case V_v:
        if (this.sharpV && !isSigned) this.fmt0x64(mag, true);
        else this.fmtInteger(mag, negative, 10, verb, LDIGITS);
        return;
      case V_d:
        this.fmtInteger(mag, negative, 10, verb, LDIGITS);
        return;
      case V_b:
        this.fmtInteger(mag, negative, 2, verb, LDIGITS);
        return;
      case V_o:
      case V_O:
        this.fmtInteger(mag, negative, 8, verb, LDIGITS);
        return;
      case V_x:
        this.fmtInteger(mag, negative, 16, verb, LDIGITS);
        return;
      case V_X:
        this.fmtInteger(mag, negative, 16, verb, UDIGITS);
        return;
      case V_c:
        this.fmtC(Printer.runeOf(mag, negative));
        return;
      case V_q:
        this.fmtQc(Printer.runeOf(mag, negative));
        return;
      case V_U:
        // %U shows the two's-complement bits of a negative int, as Go's uint64 conversion does.
        this.fmtUnicode(negative ? BigInt.asUintN(64, BigInt(v)) : BigInt(mag));
        return;
      default:
        this.badVerb(verb, arg, true);
    }
  }

  fmtFloatVerb(v: number, verb: number, arg: unknown): void {
    switch (verb) {
      case V_v:
        this.fmtFloat(v, 'g', -1);
        return;
      case V_b:
      case V_g:
      case V_G:
      case V_x:
      case V_X:
        this.fmtFloat(v, String.fromCharCode(verb), -1);
        return;
      case V_f:
      case V_e:
      case V_E:
        this.fmtFloat(v, String.fromCharCode(verb), 6);
        return;
      case V_F:
        this.fmtFloat(v, 'f', 6);
        return;
      default:
        this.badVerb(verb, arg, true);
    }
  }

  fmtString(v: string, verb: number, arg: unknown): void {
    switch (verb) {
      case V_v:
        if (this.sharpV) this.fmtQ(v);
        else this.fmtS(v);
        return;
      case V_s:
        this.fmtS(v);
        return;
      case V_x:
        this.fmtSbx(encodeString(v), LDIGITS);
        return;
      case V_X:
        this.fmtSbx(encodeString(v), UDIGITS);
        return;
      case V_q:
        this.fmtQ(v);
        return;
      default:
        this.badVerb(verb, arg, true);
    }
  }

  /** Go's pp.fmtBytes: a []byte printed by printArg (typeString "[]byte") or inside a value. */
  fmtBytes(v: readonly unknown[], verb: number, typeString: string): void {
    switch (verb) {
      case V_v:
      case V_d:
        if (this.sharpV) {
          this.buf += typeString + '{';
          for (let i = 0; i < v.length; i++) {
            if (i > 0) this.buf += ', ';
            this.fmt0x64(byteOf(v[i]), true);
          }
          this.buf += '}';
        } else {
          this.buf += '[';
          for (let i = 0; i < v.length; i++) {
            if (i > 0) this.buf += ' ';
            this.fmtInteger(byteOf(v[i]), false, 10, verb, LDIGITS);
          }
          this.buf += ']';
        }
        return;
      case V_s:
        this.fmtS(bytesToString(bytesOf(v)));
        return;
      case V_x:
        this.fmtSbx(bytesOf(v), LDIGITS);
        return;
      case V_X:
        this.fmtSbx(bytesOf(v), UDIGITS);
        return;
      case V_q:
        this.fmtQBytes(bytesOf(v));
        return;
      default:
        this.printValue(v, verb, 0);
    }
  }

  /** Go's pp.fmtPointer for the kinds that have one here (slices, maps, funcs): addresses print as 0. */
  fmtPointer(value: unknown, verb: number): void {
    if (!(Array.isArray(value) || value instanceof Map || isFunc(value))) {
      this.badVerb(verb, value, true);
      return;
    }
    switch (verb) {
      case V_v:
        if (this.sharpV) this.buf += '(' + goTypeOf(value) + ')(nil)';
        else this.pad('0x0');
        return;
      case V_p:
        this.fmt0x64(0, !this.sharp);
        return;
      case V_b:
      case V_o:
      case V_d:
      case V_x:
      case V_X:
        this.fmtIntegerVerb(0, false, verb, value);
        return;
      default:
        this.badVerb(verb, value, true);
    }
  }

  /** Go's catchPanic: a method that throws prints %!v(PANIC=String method: message). */
  catchPanic(err: unknown, verb: number, methodName: string): void {
    if (this.panicking) throw err;
    const saved = this.saveFlags();
    this.clearflags();
    this.buf += '%!' + String.fromCodePoint(verb) + '(PANIC=' + methodName + ' method: ';
    this.panicking = true;
    this.printArg(err instanceof Error ? err.message : err, V_v);
    this.panicking = false;
    this.buf += ')';
    this.restoreFlags(saved);
  }

  saveFlags(): number[] {
    return [
      +this.widPresent,
      +this.precPresent,
      +this.minus,
      +this.plus,
      +this.sharp,
      +this.space,
      +this.zero,
      +this.plusV,
      +this.sharpV,
      this.wid,
      this.prec,
    ];
  }

  restoreFlags(f: number[]): void {
    [this.widPresent, this.precPresent, this.minus, this.plus, this.sharp, this.space, this.zero, this.plusV, this.sharpV] =
      f.slice(0, 9).map(Boolean) as [boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean];
    this.wid = f[9]!;
    this.prec = f[10]!;
  }

  /** Go's handleMethods: Error() and String() for %v %s %x %X %q, GoString() for %#v. */
  handleMethods(arg: unknown, verb: number): boolean {
    if (this.erroring || typeof arg !== 'object' || arg === null) return false;
    if (verb === V_w) {
      // Only Errorf wraps errors; for Sprintf %w is always a bad verb, shown with the whole operand.
      this.badVerb(verb, arg, true);
      return true;
    }
    if (this.sharpV) {
      const goString = method(arg, 'GoString');
      if (goString === undefined) return false;
      let s: unknown;
      try {
        s = goString.call(arg);
      } catch (err) {
        this.catchPanic(err, verb, 'GoString');
        return true;
      }
      this.fmtS(String(s));
      return true;
    }
    if (verb !== V_v && verb !== V_s && verb !== V_x && verb !== V_X && verb !== V_q) return false;
    let name: 'Error' | 'String' = 'Error';
    let m = method(arg, 'Error');
    if (m === undefined) {
      name = 'String';
      m = method(arg, 'String');
      if (m === undefined) return false;
    }
    let s: unknown;
    try {
      s = m.call(arg);
    } catch (err) {
      this.catchPanic(err, verb, name);
      return true;
    }
    this.fmtString(String(s), verb, String(s));
    return true;
  }

  /** Go's pp.printArg: one operand at the top level. */
  printArg(arg: unknown, verb: number): void {
    if (arg === null || arg === undefined) {
      if (verb === V_T || verb === V_v) this.pad('<nil>');
      else this.badVerb(verb, arg, false);
      return;
    }
    if (verb === V_T) {
      this.fmtS(typeName(arg));
      return;
    }
    if (verb === V_p) {
      this.fmtPointer(arg, V_p);
      return;
    }
    switch (typeof arg) {
      case 'string':
        this.fmtString(arg, verb, arg);
        return;
      case 'number':
        if (Number.isInteger(arg)) this.fmtIntegerVerb(arg, true, verb, arg);
        else this.fmtFloatVerb(arg, verb, arg);
        return;
      case 'bigint':
        this.fmtIntegerVerb(arg, true, verb, arg);
        return;
      case 'boolean':
        this.fmtBool(arg, verb);
        return;
    }
    if (arg instanceof GoFloat) {
      this.fmtFloatVerb(arg.value, verb, arg);
      return;
    }
    if (arg instanceof GoUint8) {
      this.fmtIntegerVerb(arg.value, false, verb, arg);
      return;
    }
    // Go's `case []byte` matches only the unnamed type, which has no methods.
    if (Array.isArray(arg) && isByteSliceType(goTypeOf(arg)) && method(arg, 'String') === undefined) {
      this.fmtBytes(arg, verb, '[]byte');
      return;
    }
    if (!this.handleMethods(arg, verb)) this.printValue(arg, verb, 0);
  }

  /** Go's nil interface inside a slice, map or struct. */
  printNilInterface(): void {
    this.buf += this.sharpV ? 'interface {}(nil)' : '<nil>';
  }

  /** Go's pp.printValue: a value reached inside another (depth > 0) or a composite at the top. */
  printValue(v: unknown, verb: number, depth: number): void {
    if (depth > 0 && v !== null && v !== undefined && this.handleMethods(v, verb)) return;
    switch (typeof v) {
      case 'string':
        this.fmtString(v, verb, v);
        return;
      case 'number':
        if (Number.isInteger(v)) this.fmtIntegerVerb(v, true, verb, v);
        else this.fmtFloatVerb(v, verb, v);
        return;
      case 'bigint':
        this.fmtIntegerVerb(v, true, verb, v);
        return;
      case 'boolean':
        this.fmtBool(v, verb);
        return;
      case 'undefined':
        this.printNilInterface();
        return;
      case 'function':
        this.fmtPointer(v, verb);
        return;
    }
    if (v === null) {
      this.printNilInterface();
      return;
    }
    if (v instanceof GoFloat) {
      this.fmtFloatVerb(v.value, verb, v);
      return;
    }
    if (v instanceof GoUint8) {
      this.fmtIntegerVerb(v.value, false, verb, v);
      return;
    }
    if (Array.isArray(v)) {
      this.printSlice(v, verb, depth);
      return;
    }
    if (v instanceof Map) {
      this.printMap(v, verb, depth);
      return;
    }
    if (isGoFunction(v)) {
      this.fmtPointer(v, verb);
      return;
    }
    this.printStruct(v as Record<string, unknown>, verb, depth);
  }

  printSlice(v: readonly unknown[], verb: number, depth: number): void {
    const type = goTypeOf(v);
    if ((verb === V_s || verb === V_q || verb === V_x || verb === V_X) && isByteSliceType(type)) {
      this.fmtBytes(v, verb, type);
      return;
    }
    if (this.sharpV) {
      // print.go: a nil slice under %#v is written as its type and (nil), not as an empty literal.
      if (isNilCollection(v)) {
        this.buf += type + '(nil)';
        return;
      }
      this.buf += type + '{';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.buf += ', ';
        this.printValue(v[i], verb, depth + 1);
      }
      this.buf += '}';
    } else {
      this.buf += '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.buf += ' ';
        this.printValue(v[i], verb, depth + 1);
      }
      this.buf += ']';
    }
  }

  printMap(m: ReadonlyMap<unknown, unknown>, verb: number, depth: number): void {
    if (this.sharpV) {
      if (isNilCollection(m)) {
        this.buf += goTypeOf(m) + '(nil)';
        return;
      }
      this.buf += goTypeOf(m) + '{';
    } else this.buf += 'map[';
    const keys = sortedMapKeys(m);
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
      this.printValue(keys[i], verb, depth + 1);
      this.buf += ':';
      this.printValue(m.get(keys[i]), verb, depth + 1);
    }
    this.buf += this.sharpV ? '}' : ']';
  }

  printStruct(v: Record<string, unknown>, verb: number, depth: number): void {
    if (this.sharpV) this.buf += goTypeOf(v);
    this.buf += '{';
    const fields = structFields(v);
    for (let i = 0; i < fields.length; i++) {
      if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
      if (this.plusV || this.sharpV) this.buf += fields[i] + ':';
      this.printValue(v[fields[i]!], verb, depth + 1);
    }
    this.buf += '}';
  }

  // --- doPrintf ---

  /** Go's intFromArg: a * width or precision operand; [num, isInt, newArgNum]. */
  static intFromArg(a: readonly unknown[], argNum: number): [number, boolean, number] {
    let num = 0;
    let isInt = false;
    let newArgNum = argNum;
    if (argNum < a.length) {
      const arg = a[argNum];
      if (typeof arg === 'number' && Number.isInteger(arg)) {
        num = arg;
        isInt = true;
      } else if (arg instanceof GoUint8) {
        num = arg.value;
        isInt = true;
      } else if (typeof arg === 'bigint') {
        // Beyond 2^53, so tooLarge below refuses it as Go does.
        num = Number(arg);
        isInt = true;
      }
      newArgNum = argNum + 1;
      if (tooLarge(num)) {
        num = 0;
        isInt = false;
      }
    }
    return [num, isInt, newArgNum];
  }

  /** Go's argNumber: an explicit [n] index at format[i]; [newArgNum, newi, found]. */
  argNumber(argNum: number, format: string, i: number, numArgs: number): [number, number, boolean] {
    if (format.length <= i || format.charCodeAt(i) !== 0x5b) return [argNum, i, false];
    this.reordered = true;
    // parseArgNumber on format[i:]
    let index = 0;
    let wid = 1;
    let ok = false;
    if (format.length - i >= 3) {
      for (let j = i + 1; j < format.length; j++) {
        if (format.charCodeAt(j) === 0x5d) {
          const [width, isnum, newj] = parsenum(format, i + 1, j);
          if (!isnum || newj !== j) {
            index = 0;
            wid = j - i + 1;
            ok = false;
          } else {
            index = width - 1;
            wid = j - i + 1;
            ok = true;
          }
          break;
        }
      }
    }
    if (ok && index >= 0 && index < numArgs) return [index, i + wid, true];
    this.goodArgNum = false;
    return [argNum, i + wid, ok];
  }

  doPrintf(format: string, a: readonly unknown[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    this.reordered = false;
    formatLoop: for (let i = 0; i < end; ) {
      this.goodArgNum = true;
      const lasti = i;
      while (i < end && format.charCodeAt(i) !== V_PERCENT) i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++; // skip %

      this.clearflags();
      simpleFormat: for (; i < end; i++) {
        const c = format.charCodeAt(i);
        switch (c) {
          case 0x23: // #
            this.sharp = true;
            break;
          case 0x30: // 0
            this.zero = !this.minus;
            break;
          case 0x2b: // +
            this.plus = true;
            break;
          case 0x2d: // -
            this.minus = true;
            this.zero = false;
            break;
          case 0x20: // space
            this.space = true;
            break;
          default:
            // Fast path for a simple verb with no width, precision or index.
            if (c >= 0x61 && c <= 0x7a && argNum < a.length) {
              if (c === V_v) {
                this.sharpV = this.sharp;
                this.sharp = false;
                this.plusV = this.plus;
                this.plus = false;
              }
              this.printArg(a[argNum], c);
              argNum++;
              i++;
              continue formatLoop;
            }
            break simpleFormat;
        }
      }

      [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);

      if (i < end && format.charCodeAt(i) === 0x2a) {
        i++;
        [this.wid, this.widPresent, argNum] = Printer.intFromArg(a, argNum);
        if (!this.widPresent) this.buf += '%!(BADWIDTH)';
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        [this.wid, this.widPresent, i] = parsenum(format, i, end);
        if (afterIndex && this.widPresent) this.goodArgNum = false;
      }

      if (i + 1 < end && format.charCodeAt(i) === 0x2e) {
        i++;
        if (afterIndex) this.goodArgNum = false;
        [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
        if (i < end && format.charCodeAt(i) === 0x2a) {
          i++;
          [this.prec, this.precPresent, argNum] = Printer.intFromArg(a, argNum);
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          [this.prec, this.precPresent, i] = parsenum(format, i, end);
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }

      if (!afterIndex) [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);

      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }

      const verb = format.codePointAt(i)!;
      i += verb > 0xffff ? 2 : 1;

      if (verb === V_PERCENT) {
        this.buf += '%';
      } else if (!this.goodArgNum) {
        this.buf += '%!' + String.fromCodePoint(verb) + '(BADINDEX)';
      } else if (argNum >= a.length) {
        this.buf += '%!' + String.fromCodePoint(verb) + '(MISSING)';
      } else {
        if (verb === V_v) {
          this.sharpV = this.sharp;
          this.sharp = false;
          this.plusV = this.plus;
          this.plus = false;
        }
        this.printArg(a[argNum], verb);
        argNum++;
      }
    }

    if (!this.reordered && argNum < a.length) {
      this.clearflags();
      this.buf += '%!(EXTRA ';
      for (let k = argNum; k < a.length; k++) {
        if (k > argNum) this.buf += ', ';
        const arg = a[k];
        if (arg === null || arg === undefined) this.buf += '<nil>';
        else {
          this.buf += typeName(arg) + '=';
          this.printArg(arg, V_v);
        }
      }
      this.buf += ')';
    }
  }
}

/** Go's parsenum: [num, isnum, newi]. */
function parsenum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  let newi = start;
  for (; newi < end; newi++) {
    const c = s.charCodeAt(newi);
    if (c < 0x30 || c > 0x39) break;
    if (tooLarge(num)) return [0, false, end];
    num = num * 10 + (c - 0x30);
    isnum = true;
  }
  return [num, isnum, newi];
}
