// Go's encoding/json Unmarshal (Go 1.19) into map[string]interface{} and []interface{}, the two
// targets confd's json and jsonArray use: the same syntax errors (Go's scanner, byte by byte,
// run over the whole input before decoding), the same type errors, and Go's values: numbers are
// float64 (GoFloat), objects map[string]interface {} (Map), arrays []interface {} (Array),
// null is nil, invalid UTF-8 and lone surrogates become U+FFFD.

import { GoFloat, withGoType } from '../go/value.js';
import { quote as goQuote } from '../go/strconv.js';
import { decodeBytes, encodeString, replaceRawBytes } from '../../bytes.js';

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'SyntaxError';
  }
}

export class JsonTypeError extends Error {
  constructor(value: string, type: string) {
    super(`json: cannot unmarshal ${value} into Go value of type ${type}`);
    this.name = 'UnmarshalTypeError';
  }
}

const MAX_DEPTH = 10000;

// The scanner's states (encoding/json/scanner.go), as numbers for a switch.
const enum S {
  BeginValueOrEmpty,
  BeginValue,
  BeginStringOrEmpty,
  BeginString,
  EndValue,
  EndTop,
  InString,
  InStringEsc,
  InStringEscU,
  InStringEscU1,
  InStringEscU12,
  InStringEscU123,
  Neg,
  One,
  Zero,
  Dot,
  Dot0,
  E,
  ESign,
  E0,
  T,
  Tr,
  Tru,
  F,
  Fa,
  Fal,
  Fals,
  N,
  Nu,
  Nul,
  Error,
}

const enum P {
  ObjectKey,
  ObjectValue,
  ArrayValue,
}

function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const s = goQuote(String.fromCharCode(c));
  return "'" + s.slice(1, -1) + "'";
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** checkValid: throws JsonSyntaxError exactly where and how Go's scanner does. */
export function checkValid(data: Uint8Array): void {
  let step = S.BeginValue;
  const stack: P[] = [];
  let endTop = false;
  let bytes = 0;
  let err: JsonSyntaxError | null = null;

  const fail = (c: number, context: string): void => {
    step = S.Error;
    err = new JsonSyntaxError(`invalid character ${quoteChar(c)} ${context}`, bytes);
  };
  const push = (c: number, p: P): void => {
    stack.push(p);
    if (stack.length > MAX_DEPTH) fail(c, 'exceeded max depth');
  };
  const pop = (): void => {
    stack.pop();
    if (stack.length === 0) {
      step = S.EndTop;
      endTop = true;
    } else {
      step = S.EndValue;
    }
  };

  const run = (c: number): void => {
    for (;;) {
      switch (step) {
        case S.BeginValueOrEmpty:
          if (isSpace(c)) return;
          if (c === 0x5d) {
            step = S.EndValue;
            continue;
          }
          step = S.BeginValue;
          continue;
        case S.BeginValue:
          if (isSpace(c)) return;
          switch (c) {
            case 0x7b:
              step = S.BeginStringOrEmpty;
              return push(c, P.ObjectKey);
            case 0x5b:
              step = S.BeginValueOrEmpty;
              return push(c, P.ArrayValue);
            case 0x22:
              step = S.InString;
              return;
            case 0x2d:
              step = S.Neg;
              return;
            case 0x30:
              step = S.Zero;
              return;
            case 0x74:
              step = S.T;
              return;
            case 0x66:
              step = S.F;
              return;
            case 0x6e:
              step = S.N;
              return;
          }
          if (c >= 0x31 && c <= 0x39) {
            step = S.One;
            return;
          }
          return fail(c, 'looking for beginning of value');
        case S.BeginStringOrEmpty:
          if (isSpace(c)) return;
          if (c === 0x7d) {
            stack[stack.length - 1] = P.ObjectValue;
            step = S.EndValue;
            continue;
          }
          step = S.BeginString;
          continue;
        case S.BeginString:
          if (isSpace(c)) return;
          if (c === 0x22) {
            step = S.InString;
            return;
          }
          return fail(c, 'looking for beginning of object key string');
        case S.EndValue: {
          const n = stack.length;
          if (n === 0) {
            step = S.EndTop;
            endTop = true;
            continue;
          }
          if (isSpace(c)) return;
          const ps = stack[n - 1];
          if (ps === P.ObjectKey) {
            if (c === 0x3a) {
              stack[n - 1] = P.ObjectValue;
              step = S.BeginValue;
              return;
            }
            return fail(c, 'after object key');
          }
          if (ps === P.ObjectValue) {
            if (c === 0x2c) {
              stack[n - 1] = P.ObjectKey;
              step = S.BeginString;
              return;
            }
            if (c === 0x7d) return pop();
            return fail(c, 'after object key:value pair');
          }
          if (c === 0x2c) {
            step = S.BeginValue;
            return;
          }
          if (c === 0x5d) return pop();
          return fail(c, 'after array element');
        }
        case S.EndTop:
          if (!isSpace(c)) fail(c, 'after top-level value');
          return;
        case S.InString:
          if (c === 0x22) step = S.EndValue;
          else if (c === 0x5c) step = S.InStringEsc;
          else if (c < 0x20) fail(c, 'in string literal');
          return;
        case S.InStringEsc:
          if ('bfnrt\\/"'.includes(String.fromCharCode(c))) step = S.InString;
          else if (c === 0x75) step = S.InStringEscU;
          else fail(c, 'in string escape code');
          return;
        case S.InStringEscU:
        case S.InStringEscU1:
        case S.InStringEscU12:
        case S.InStringEscU123:
          if (isHex(c)) step = step === S.InStringEscU123 ? S.InString : step + 1;
          else fail(c, 'in \\u hexadecimal character escape');
          return;
        case S.Neg:
          if (c === 0x30) step = S.Zero;
          else if (c >= 0x31 && c <= 0x39) step = S.One;
          else fail(c, 'in numeric literal');
          return;
        case S.One:
          if (isDigit(c)) return;
          step = S.Zero;
          continue;
        case S.Zero:
          if (c === 0x2e) {
            step = S.Dot;
            return;
          }
          if (c === 0x65 || c === 0x45) {
            step = S.E;
            return;
          }
          step = S.EndValue;
          continue;
        case S.Dot:
          if (isDigit(c)) step = S.Dot0;
          else fail(c, 'after decimal point in numeric literal');
          return;
        case S.Dot0:
          if (isDigit(c)) return;
          if (c === 0x65 || c === 0x45) {
            step = S.E;
            return;
          }
          step = S.EndValue;
          continue;
        case S.E:
          if (c === 0x2b || c === 0x2d) {
            step = S.ESign;
            return;
          }
          step = S.ESign;
          continue;
        case S.ESign:
          if (isDigit(c)) step = S.E0;
          else fail(c, 'in exponent of numeric literal');
          return;
        case S.E0:
          if (isDigit(c)) return;
          step = S.EndValue;
          continue;
        case S.T:
          return c === 0x72 ? void (step = S.Tr) : fail(c, "in literal true (expecting 'r')");
        case S.Tr:
          return c === 0x75 ? void (step = S.Tru) : fail(c, "in literal true (expecting 'u')");
        case S.Tru:
          return c === 0x65 ? void (step = S.EndValue) : fail(c, "in literal true (expecting 'e')");
        case S.F:
          return c === 0x61 ? void (step = S.Fa) : fail(c, "in literal false (expecting 'a')");
        case S.Fa:
          return c === 0x6c ? void (step = S.Fal) : fail(c, "in literal false (expecting 'l')");
        case S.Fal:
          return c === 0x73 ? void (step = S.Fals) : fail(c, "in literal false (expecting 's')");
        case S.Fals:
          return c === 0x65 ? void (step = S.EndValue) : fail(c, "in literal false (expecting 'e')");
        case S.N:
          return c === 0x75 ? void (step = S.Nu) : fail(c, "in literal null (expecting 'u')");
        case S.Nu:
          return c === 0x6c ? void (step = S.Nul) : fail(c, "in literal null (expecting 'l')");
        case S.Nul:
          return c === 0x6c ? void (step = S.EndValue) : fail(c, "in literal null (expecting 'l')");
        case S.Error:
          return;
      }
    }
  };

  for (let i = 0; i < data.length; i++) {
    bytes++;
    run(data[i]!);
    if (err) throw err;
  }
  // eof
  if (endTop) return;
  run(0x20);
  if (err) throw err;
  if (endTop) return;
  throw new JsonSyntaxError('unexpected end of JSON input', bytes);
}

/** Decodes input already accepted by checkValid. */
class Decoder {
  private i = 0;
  private firstError: Error | null = null;
  constructor(private readonly d: Uint8Array) {}

  get error(): Error | null {
    return this.firstError;
  }

  private ws(): void {
    while (this.i < this.d.length && isSpace(this.d[this.i]!)) this.i++;
  }

  peek(): number {
    this.ws();
    return this.d[this.i]!;
  }

  /** One value; iterative, since Go accepts nesting 10000 deep. */
  value(): unknown {
    type Frame = { arr: unknown[]; map?: undefined; key?: undefined } | { arr?: undefined; map: Map<string, unknown>; key: string };
    const stack: Frame[] = [];
    for (;;) {
      let v: unknown;
      const c = this.peek();
      if (c === 0x7b) {
        this.i++;
        const m = withGoType(new Map<string, unknown>(), 'map[string]interface {}');
        if (this.peek() === 0x7d) {
          this.i++;
          v = m;
        } else {
          stack.push({ map: m, key: this.key() });
          continue;
        }
      } else if (c === 0x5b) {
        this.i++;
        const a: unknown[] = withGoType([], '[]interface {}');
        if (this.peek() === 0x5d) {
          this.i++;
          v = a;
        } else {
          stack.push({ arr: a });
          continue;
        }
      } else if (c === 0x22) {
        v = this.string();
      } else if (c === 0x74) {
        this.i += 4;
        v = true;
      } else if (c === 0x66) {
        this.i += 5;
        v = false;
      } else if (c === 0x6e) {
        this.i += 4;
        v = null;
      } else {
        v = this.number();
      }
      // Hand v to the enclosing containers, closing those that end here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) return v;
        if (top.arr) top.arr.push(v);
        else top.map.set(top.key, v);
        if (this.peek() === 0x2c) {
          this.i++;
          if (top.map) top.key = this.key();
          break;
        }
        this.i++; // ']' or '}'
        v = top.arr ?? top.map;
        stack.pop();
      }
    }
  }

  /** An object key and its ':'. */
  private key(): string {
    this.peek();
    const k = this.string();
    this.peek();
    this.i++;
    return k;
  }

  private number(): GoFloat | null {
    const start = this.i;
    const d = this.d;
    while (this.i < d.length) {
      const c = d[this.i]!;
      if (isDigit(c) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45) this.i++;
      else break;
    }
    const s = Buffer.from(d.subarray(start, this.i)).toString('latin1');
    const f = Number(s);
    if (!Number.isFinite(f)) {
      this.firstError ??= new JsonTypeError(`number ${s}`, 'float64');
      return null;
    }
    return new GoFloat(f);
  }

  private string(): string {
    const d = this.d;
    this.i++; // opening quote
    const start = this.i;
    let plain = true;
    while (d[this.i] !== 0x22) {
      if (d[this.i] === 0x5c || d[this.i]! >= 0x80) plain = false;
      if (d[this.i] === 0x5c) this.i++;
      this.i++;
    }
    const end = this.i;
    this.i++;
    if (plain) return Buffer.from(d.subarray(start, end)).toString('latin1');
    // Escapes and non-ASCII: decode runs of raw bytes as UTF-8 (each bad byte → U+FFFD, as Go).
    let out = '';
    let j = start;
    while (j < end) {
      if (d[j] !== 0x5c) {
        let k = j;
        while (k < end && d[k] !== 0x5c) k++;
        out += replaceRawBytes(decodeBytes(Buffer.from(d.buffer, d.byteOffset + j, k - j)));
        j = k;
        continue;
      }
      const e = d[j + 1]!;
      j += 2;
      switch (e) {
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          const r = parseInt(String.fromCharCode(...d.subarray(j, j + 4)), 16);
          j += 4;
          if (r >= 0xd800 && r < 0xdc00) {
            // A surrogate pair only when a low surrogate escape follows.
            if (d[j] === 0x5c && d[j + 1] === 0x75) {
              const r2 = parseInt(String.fromCharCode(...d.subarray(j + 2, j + 6)), 16);
              if (r2 >= 0xdc00 && r2 < 0xe000) {
                out += String.fromCharCode(r, r2);
                j += 6;
                break;
              }
            }
            out += '\ufffd';
          } else if (r >= 0xdc00 && r < 0xe000) {
            out += '\ufffd';
          } else {
            out += String.fromCharCode(r);
          }
          break;
        }
        default:
          out += String.fromCharCode(e);
      }
    }
    return out;
  }
}

const KIND_NAME: Record<number, string> = { 0x7b: 'object', 0x5b: 'array', 0x22: 'string', 0x74: 'bool', 0x66: 'bool' };

function unmarshal(data: string, want: 'object' | 'array', goType: string): unknown {
  const bytes = encodeString(data);
  checkValid(bytes);
  const dec = new Decoder(bytes);
  const c = dec.peek();
  if (c === 0x6e) return null;
  const kind = KIND_NAME[c] ?? 'number';
  if (kind !== want) throw new JsonTypeError(kind, goType);
  const v = dec.value();
  if (dec.error) throw dec.error;
  return v;
}

/** confd's UnmarshalJsonObject: map[string]interface{} (null gives a nil map). */
export function unmarshalObject(data: string): Map<string, unknown> {
  const v = unmarshal(data, 'object', 'map[string]interface {}');
  return (v as Map<string, unknown> | null) ?? withGoType(new Map<string, unknown>(), 'map[string]interface {}');
}

/** confd's UnmarshalJsonArray: []interface{} (null gives a nil slice). */
export function unmarshalArray(data: string): unknown[] {
  const v = unmarshal(data, 'array', '[]interface {}');
  return (v as unknown[] | null) ?? withGoType([], '[]interface {}');
}
