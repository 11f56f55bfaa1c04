// How Go values are represented in JavaScript. Go's output depends on static types
// (an int prints "1", a float64 1e6 prints "1e+06"; eq of int and string is an error),
// so the representation keeps the distinctions that change bytes or errors:
//
//   Go                         JavaScript
//   string                     string
//   int                        number (always an integer) when a safe integer (|x| <= 2^53 - 1);
//                              bigint only outside that range, so one int has one representation
//                              (=== equality, Map keys and printing need no bigint case on the
//                              common path); produce ints beyond 2^53 with goInt()
//   float64                    GoFloat
//   uint8 (index of a string)  GoUint8
//   bool                       boolean
//   nil (interface/pointer)    null
//   invalid reflect.Value      undefined   ("<no value>": nil data, a missing map key)
//   []T                        Array, with its element type in goTypeOf (default []interface {})
//   map[string]T               Map<string, unknown> (printed with sorted keys)
//   struct                     plain object or class instance; own enumerable properties
//                              are the fields, in order; functions on the prototype are methods
//   func                       GoFunction or a plain JS function (taken as func(...interface{}) interface{})
//
// Arrays, Maps and structs may carry their Go type name under GO_TYPE (for %T, error texts and
// argument type checks such as a []string parameter refusing a []interface {}).

export const GO_TYPE: unique symbol = Symbol.for('tsconfd.goType');

export class GoFloat {
  constructor(readonly value: number) {}
}

export class GoUint8 {
  constructor(readonly value: number) {}
}

/** A Go type name as Go prints it: "string", "int", "[]string", "map[string]interface {}", "memkv.KVPair". */
export type GoTypeName = string;

export const ANY: GoTypeName = 'interface {}';

/** A function of a template's function map, with the Go signature the engine checks arguments against. */
export interface GoFunction {
  readonly kind: 'gofunc';
  /** Declared parameter types, not counting the variadic one. */
  readonly params: readonly GoTypeName[];
  /** Element type of a trailing ...parameter, if any. */
  readonly variadic?: GoTypeName;
  /** Go returns (value, error): the implementation throws to return the error. */
  readonly returnsError: boolean;
  readonly call: (...args: any[]) => unknown;
}

export type FuncMap = Record<string, GoFunction | ((...args: any[]) => unknown)>;

export function goFunc(
  params: readonly GoTypeName[],
  call: (...args: any[]) => unknown,
  opts: { variadic?: GoTypeName; returnsError?: boolean } = {},
): GoFunction {
  return { kind: 'gofunc', params, variadic: opts.variadic, returnsError: opts.returnsError ?? false, call };
}

export function isGoFunction(v: unknown): v is GoFunction {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'gofunc';
}

/** Tags an array, Map or struct with its Go type name and returns it. */
export function withGoType<T extends object>(value: T, type: GoTypeName): T {
  Object.defineProperty(value, GO_TYPE, { value: type, enumerable: false, configurable: true, writable: true });
  return value;
}

const MIN_INT64 = -(1n << 63n);
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * A Go int from a bigint: a number when it is a safe integer, else the bigint (the one representation
 * of each int, see the table above). The caller keeps it within int64 (BigInt.asIntN(64, x) wraps as Go).
 */
export function goInt(x: bigint): number | bigint {
  return x >= -0x1fffffffffffffn && x <= 0x1fffffffffffffn ? Number(x) : x;
}

/** Whether v is a Go int of the value model (an integral number or a bigint). */
export function isGoInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** Whether a bigint is within Go's int64 range. */
export function fitsInt64(x: bigint): boolean {
  return x >= MIN_INT64 && x <= MAX_INT64;
}

/** The Go type name of a value, as %T prints it. */
export function goTypeOf(v: unknown): GoTypeName {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
    case 'bigint':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return '<nil>';
    case 'function':
      return 'func(...interface {}) interface {}';
  }
  if (v === null) return '<nil>';
  if (v instanceof GoFloat) return 'float64';
  if (v instanceof GoUint8) return 'uint8';
  const tagged = (v as { [GO_TYPE]?: GoTypeName })[GO_TYPE];
  if (tagged) return tagged;
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Map) return 'map[string]interface {}';
  if (isGoFunction(v)) return 'func';
  return 'struct';
}

/** The Go signature of a method (see GO_METHODS). */
export interface GoMethodSignature {
  readonly params: readonly GoTypeName[];
  readonly variadic?: GoTypeName;
  readonly returnsError?: boolean;
}

/**
 * Go signatures of the methods of a class, keyed by method name, set on its prototype:
 * `(KV.prototype as any)[GO_METHODS] = { Pair: { params: ['string'] } }`. The engine checks
 * method arguments against them; a method without one is func(...interface {}) interface {}.
 */
export const GO_METHODS: unique symbol = Symbol.for('tsconfd.goMethods');

/** Marks an empty slice or map as Go's nil slice/map (eq compares it equal to nil; it prints as empty). */
export const GO_NIL: unique symbol = Symbol.for('tsconfd.goNil');

/** A nil slice of the given type (for example what `var out []int` returns when nothing is appended). */
export function nilSlice<T = unknown>(type: GoTypeName): T[] {
  const a = withGoType([] as T[], type);
  Object.defineProperty(a, GO_NIL, { value: true, enumerable: false });
  return Object.freeze(a) as T[];
}

/** Whether v is a nil slice or map made by nilSlice (or marked with GO_NIL). */
export function isNilCollection(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { [GO_NIL]?: boolean })[GO_NIL] === true;
}
