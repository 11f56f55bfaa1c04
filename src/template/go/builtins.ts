// The builtin functions of Go's text/template (funcs.go) over the value model of value.ts.
// Parameters typed reflect.Value receive undefined for an invalid value (nil, a missing key)
// and null for a nil interface; both are "nil" to these functions, as indirectInterface makes
// them in Go. A builtin signals Go's error result by throwing.

import { sprint, sprintf, sprintln } from './fmt.js';
import { htmlEscaper, jsEscaper, urlQueryEscaper } from './escape.js';
import { ANY, GO_TYPE, GoFloat, GoUint8, goFunc, goTypeOf, isGoFunction, isNilCollection } from './value.js';
import type { GoFunction } from './value.js';
import { byteLength, decodeBytes, encodeString } from '../../bytes.js';
import { compareBytes } from '../../keys/index.js';

/** The parameter type of builtins that take any value unconverted (Go's reflect.Value). */
export const REFLECT = 'reflect.Value';

/** A reflect.Value of static type interface {}, as the slice builtin receives its indexes. */
export class IfaceBox {
  constructor(readonly value: unknown) {}
}

/** Go's isTrue/truth: the value is not the zero value of its type. */
export function isTrue(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'bigint':
      return true; // beyond 2^53 (value.ts), never 0
    case 'boolean':
      return v;
    case 'undefined':
      return false;
    case 'function':
      return true;
  }
  if (v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (v instanceof GoFloat || v instanceof GoUint8) return v.value !== 0;
  return true;
}

/** The bytes of a Go string (escaped bytes restored, src/bytes.ts). */
function utf8(s: string): Buffer {
  return encodeString(s);
}

function indexArg(index: unknown, cap: number): number {
  let x: number;
  if (typeof index === 'number') x = index;
  else if (typeof index === 'bigint') throw new Error(`index out of range: ${index}`);
  else if (index instanceof GoUint8) x = index.value;
  else if (index === undefined || index === null) throw new Error('cannot index slice/array with nil');
  else if (index instanceof IfaceBox) throw new Error(`cannot index slice/array with type ${ANY}`);
  else throw new Error(`cannot index slice/array with type ${goTypeOf(index)}`);
  if (x < 0 || x > cap) throw new Error(`index out of range: ${x}`);
  return x;
}

/** The Go type of the elements of a slice or map value ("interface {}" when untagged). */
function elemType(container: object): string {
  const tag = (container as { [GO_TYPE]?: string })[GO_TYPE];
  if (tag === undefined) return ANY;
  if (tag.startsWith('[]')) return tag.slice(2);
  if (tag.startsWith('map[')) {
    let depth = 0;
    for (let i = 3; i < tag.length; i++) {
      if (tag[i] === '[') depth++;
      else if (tag[i] === ']' && --depth === 0) return tag.slice(i + 1);
    }
  }
  return ANY;
}

function zeroOf(typ: string): unknown {
  switch (typ) {
    case 'string':
      return '';
    case 'int':
    case 'int64':
    case 'int32':
    case 'uint':
    case 'uint64':
      return 0;
    case 'float64':
      return new GoFloat(0);
    case 'uint8':
      return new GoUint8(0);
    case 'bool':
      return false;
  }
  return null;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('index of untyped nil');
  for (let index of indexes) {
    if (index === null) index = undefined;
    if (item === null || item === undefined) throw new Error('index of nil pointer');
    if (typeof item === 'string') {
      const b = utf8(item);
      const x = indexArg(index, b.length);
      if (x === b.length) throw new Error('reflect: string index out of range');
      item = new GoUint8(b[x]);
    } else if (Array.isArray(item)) {
      const x = indexArg(index, item.length);
      if (x === item.length) throw new Error('reflect: slice index out of range');
      item = item[x];
    } else if (item instanceof Map) {
      if (index === undefined) throw new Error('value is nil; should be of type string');
      if (typeof index !== 'string') throw new Error(`value has type ${goTypeOf(index)}; should be string`);
      item = item.has(index) ? item.get(index) : zeroOf(elemType(item));
    } else {
      throw new Error(`can't index item of type ${goTypeOf(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  let cap: number;
  let len: number;
  let bytes: Buffer | null = null;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    bytes = utf8(item);
    cap = len = bytes.length;
  } else if (Array.isArray(item)) {
    cap = len = item.length;
  } else {
    throw new Error(`can't slice item of type ${goTypeOf(item)}`);
  }
  const idx = [0, len, 0];
  indexes.forEach((index, i) => {
    idx[i] = indexArg(index === null ? undefined : index, cap);
  });
  if (idx[0] > idx[1]) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (bytes !== null) return decodeBytes(bytes, idx[0], idx[1]);
  const out = (item as unknown[]).slice(idx[0], idx[1]);
  const tag = (item as { [GO_TYPE]?: string })[GO_TYPE];
  if (tag !== undefined) Object.defineProperty(out, GO_TYPE, { value: tag, enumerable: false, configurable: true, writable: true });
  return out;
}

function length(item: unknown): number {
  if (item === null) throw new Error('len of nil pointer');
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  if (typeof item === 'string') return byteLength(item);
  if (Array.isArray(item)) return item.length;
  if (item instanceof Map) return item.size;
  throw new Error(`len of type ${goTypeOf(item)}`);
}

const enum Kind {
  Invalid,
  Bool,
  Int,
  Float,
  String,
  Uint,
}

function basicKind(v: unknown): Kind {
  switch (typeof v) {
    case 'boolean':
      return Kind.Bool;
    case 'number':
    case 'bigint':
      return Kind.Int;
    case 'string':
      return Kind.String;
  }
  if (v instanceof GoFloat) return Kind.Float;
  if (v instanceof GoUint8) return Kind.Uint;
  return Kind.Invalid;
}

/**
 * The numeric value of an int, uint8 or float64. An int beyond 2^53 stays a bigint: JS compares a
 * bigint with a number exactly, and === never holds between them, as no int has both forms (value.ts).
 */
function num(v: unknown): number | bigint {
  return v instanceof GoFloat || v instanceof GoUint8 ? v.value : (v as number | bigint);
}

/** reflect Kind name groups that decide comparability in eq's fallback branch. */
function kindOf(v: unknown): string {
  if (v === undefined) return 'invalid';
  if (Array.isArray(v)) return 'slice';
  if (v instanceof Map) return 'map';
  if (typeof v === 'function' || isGoFunction(v)) return 'func';
  return 'struct';
}

function comparable(v: unknown): boolean {
  const k = kindOf(v);
  if (k === 'slice' || k === 'map' || k === 'func') return false;
  if (k === 'struct' && typeof v === 'object' && v !== null) return Object.values(v).every((f) => basicKind(f) !== Kind.Invalid || f === null || comparable(f));
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (basicKind(a) !== Kind.Invalid || basicKind(b) !== Kind.Invalid) return basicKind(a) === basicKind(b) && num(a) === num(b);
  if (a === null || b === null || a === undefined || b === undefined) return a === b;
  if (goTypeOf(a) !== goTypeOf(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameValue((a as any)[k], (b as any)[k]));
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg1 === null) arg1 = undefined;
  if (arg2.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (let arg of arg2) {
    if (arg === null) arg = undefined;
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if ((k1 === Kind.Int && k2 === Kind.Uint) || (k1 === Kind.Uint && k2 === Kind.Int)) truth = num(arg1) === num(arg);
      else if (arg1 !== undefined && arg !== undefined) throw new Error(errBadComparison);
    } else if (k1 !== Kind.Invalid) {
      truth = k1 === Kind.String || k1 === Kind.Bool ? arg1 === arg : num(arg1) === num(arg);
    } else {
      const c1 = kindOf(arg1);
      const c2 = kindOf(arg);
      if (c1 !== c2 && c1 !== 'invalid' && c2 !== 'invalid') {
        throw new Error(sprintf('non-comparable types %s: %v, %s: %v', [arg1, goTypeOf(arg1), goTypeOf(arg), arg]));
      }
      const nil1 = arg1 === undefined || isNilCollection(arg1);
      const nil2 = arg === undefined || isNilCollection(arg);
      if (nil1 || nil2) truth = nil1 === nil2;
      else {
        if (!comparable(arg)) throw new Error(sprintf('non-comparable type %s: %v', [arg, goTypeOf(arg)]));
        truth = sameValue(arg1, arg);
      }
    }
    if (truth) return true;
  }
  return false;
}

function ne(arg1: unknown, arg2: unknown): boolean {
  return !eq(arg1, arg2);
}

function lt(arg1: unknown, arg2: unknown): boolean {
  if (arg1 === null) arg1 = undefined;
  if (arg2 === null) arg2 = undefined;
  const k1 = basicKind(arg1);
  if (k1 === Kind.Invalid) throw new Error(errBadComparisonType);
  const k2 = basicKind(arg2);
  if (k2 === Kind.Invalid) throw new Error(errBadComparisonType);
  if (k1 !== k2) {
    if (k1 === Kind.Int && k2 === Kind.Uint) return num(arg1) < num(arg2);
    if (k1 === Kind.Uint && k2 === Kind.Int) return num(arg2) >= 0 && num(arg1) < num(arg2);
    throw new Error(errBadComparison);
  }
  switch (k1) {
    case Kind.Bool:
      throw new Error(errBadComparisonType);
    case Kind.String:
      return compareStrings(arg1 as string, arg2 as string) < 0;
  }
  return num(arg1) < num(arg2);
}

/** Go compares strings bytewise (UTF-8); JS's < compares UTF-16 units, which differs above U+FFFF. */
function compareStrings(a: string, b: string): number {
  return compareBytes(a, b);
}

function le(arg1: unknown, arg2: unknown): boolean {
  return lt(arg1, arg2) || eq(arg1, arg2);
}

function gt(arg1: unknown, arg2: unknown): boolean {
  return !le(arg1, arg2);
}

function ge(arg1: unknown, arg2: unknown): boolean {
  return !lt(arg1, arg2);
}

function intLike(t: string): boolean {
  return /^u?int(8|16|32|64)?$/.test(t);
}

/** funcs.go prepareArg, for call's arguments. */
function prepareArg(value: unknown, argType: string): unknown {
  if (value === undefined) {
    if (!(argType === ANY || argType.startsWith('[]') || argType.startsWith('map[') || argType.startsWith('*') || argType.startsWith('func'))) {
      throw new Error(`value is nil; should be of type ${argType}`);
    }
    return argType.startsWith('[]') || argType.startsWith('map[') ? undefined : null;
  }
  if (argType === ANY) return value;
  const vt = goTypeOf(value);
  if (vt === argType || (argType === 'float64' && value instanceof GoFloat)) return value;
  if (intLike(vt) && intLike(argType)) return argType === 'uint8' ? new GoUint8(Number(BigInt.asUintN(8, BigInt(num(value))))) : num(value);
  throw new Error(`value has type ${vt}; should be ${argType}`);
}

function call(fn: unknown, ...args: unknown[]): unknown {
  if (fn === null || fn === undefined) throw new Error('call of nil');
  let params: readonly string[];
  let variadic: string | undefined;
  let impl: (...a: any[]) => unknown;
  if (isGoFunction(fn)) {
    params = fn.params;
    variadic = fn.variadic;
    impl = fn.call;
  } else if (typeof fn === 'function') {
    params = [];
    variadic = ANY;
    impl = fn as (...a: any[]) => unknown;
  } else {
    throw new Error(`non-function of type ${goTypeOf(fn)}`);
  }
  const numIn = params.length + (variadic !== undefined ? 1 : 0);
  if (variadic !== undefined) {
    if (args.length < numIn - 1) throw new Error(`wrong number of args: got ${args.length} want at least ${numIn - 1}`);
  } else if (args.length !== numIn) {
    throw new Error(`wrong number of args: got ${args.length} want ${numIn}`);
  }
  const argv = args.map((arg, i) => {
    const argType = variadic === undefined || i < numIn - 1 ? params[i] : variadic;
    try {
      return prepareArg(arg === null ? undefined : arg, argType === 'any' ? ANY : argType);
    } catch (e) {
      throw new Error(`arg ${i}: ${(e as Error).message}`);
    }
  });
  return impl(...argv);
}

function unreachable(): never {
  throw new Error('unreachable');
}

const R = REFLECT;

/** Go's builtins(), by name. and/or are evaluated by the engine itself (they short-circuit). */
export const builtinFuncs: Record<string, GoFunction> = {
  and: goFunc([R], unreachable, { variadic: R }),
  call: goFunc([R], call, { variadic: R, returnsError: true }),
  html: goFunc([], (...a: unknown[]) => htmlEscaper(a), { variadic: ANY }),
  index: goFunc([R], index, { variadic: R, returnsError: true }),
  slice: goFunc([R], slice, { variadic: R, returnsError: true }),
  js: goFunc([], (...a: unknown[]) => jsEscaper(a), { variadic: ANY }),
  len: goFunc([R], length, { returnsError: true }),
  not: goFunc([R], (a: unknown) => !isTrue(a)),
  or: goFunc([R], unreachable, { variadic: R }),
  print: goFunc([], (...a: unknown[]) => sprint(a), { variadic: ANY }),
  printf: goFunc(['string'], (f: string, ...a: unknown[]) => sprintf(f, a), { variadic: ANY }),
  println: goFunc([], (...a: unknown[]) => sprintln(a), { variadic: ANY }),
  urlquery: goFunc([], (...a: unknown[]) => urlQueryEscaper(a), { variadic: ANY }),
  eq: goFunc([R], eq, { variadic: R, returnsError: true }),
  ge: goFunc([R, R], ge, { returnsError: true }),
  gt: goFunc([R, R], gt, { returnsError: true }),
  le: goFunc([R, R], le, { returnsError: true }),
  lt: goFunc([R, R], lt, { returnsError: true }),
  ne: goFunc([R, R], ne, { returnsError: true }),
};
