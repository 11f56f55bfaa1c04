// The TypeScript mirror of testFuncs in tools/gotemplate/main.go: the function map every golden
// case and every fuzz case renders with. Same names, same Go signatures, same results and error
// texts. Change both files together, then regenerate the goldens.
import { quote } from '../../../src/template/go/strconv.js';
import { GO_METHODS, GoFloat, goFunc, goInt, nilSlice, withGoType, type FuncMap } from '../../../src/template/go/value.js';
import { canonicalBytes, hasRawBytes, replaceRawBytes } from '../../../src/bytes.js';

/** Go's main.KV: the struct with methods that kv returns and {"$kv": [k, v]} decodes to. */
export class KV {
  constructor(
    public Key: string,
    public Value: string,
  ) {
    withGoType(this, 'main.KV');
  }
  Joined(): string {
    return this.Key + '=' + this.Value;
  }
  Pair(sep: string): string {
    return this.Key + sep + this.Value;
  }
  Check(): string {
    throw new Error('kv check failed for ' + this.Key);
  }
  Both(a: number, b: string): string {
    return `${this.Key}:${a}:${b}`;
  }
}

/** Go signatures of KV's methods, for an engine that checks method arguments against them. */
export const KV_METHODS = {
  Joined: { params: [], returnsError: false },
  Pair: { params: ['string'], returnsError: false },
  Check: { params: [], returnsError: true },
  Both: { params: ['int', 'string'], returnsError: false },
} as const;
(KV.prototype as unknown as Record<symbol, unknown>)[GO_METHODS] = KV_METHODS;

const floatOf = (v: unknown): number => (v instanceof GoFloat ? v.value : (v as number));

/** Go's path.Base. */
export function goPathBase(p: string): string {
  if (p === '') return '.';
  while (p.length > 0 && p.endsWith('/')) p = p.slice(0, -1);
  const i = p.lastIndexOf('/');
  if (i >= 0) p = p.slice(i + 1);
  return p === '' ? '/' : p;
}

/** Go's strconv.Atoi for the inputs a template passes (base 10, optional sign, int64 range). */
function goAtoi(s: string): number | bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${quote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) {
    throw new Error(`strconv.Atoi: parsing ${quote(s)}: value out of range`);
  }
  return goInt(n);
}

// repeat and seq refuse huge results, as in the Go program: the fuzzer chains them through
// variables, and an exponentially long string would take both engines down.
const MAX_RESULT = 1 << 16;

type Int = number | bigint;

/** Go's int a op b: exact, wrapped to 64 bits. */
const wrap = (x: bigint): Int => goInt(BigInt.asIntN(64, x));

function seq(first: Int, last: Int): Int[] {
  // As the Go program: a difference that wraps, or last = MaxInt64 (the loop never ends), is refused too.
  const d = wrap(BigInt(last) - BigInt(first));
  if (last >= first && (d >= MAX_RESULT || d < 0 || BigInt(last) === (1n << 63n) - 1n)) throw new Error(`seq: more than ${MAX_RESULT} numbers`);
  const out: Int[] = [];
  for (let i = BigInt(first); i <= BigInt(last); i++) out.push(goInt(i));
  // Go's seq appends to a nil slice: nothing appended leaves it nil (eq compares it equal to nil).
  return out.length === 0 ? nilSlice<number>('[]int') : withGoType(out, '[]int');
}

export const testFuncs: FuncMap = {
  add: goFunc(['int', 'int'], (a: Int, b: Int) => wrap(BigInt(a) + BigInt(b))),
  // strings.ToUpper writes each invalid byte as U+FFFD (strings.Map).
  upper: goFunc(['string'], (s: string) => replaceRawBytes(s).toUpperCase()),
  fail: goFunc(
    ['string'],
    (s: string) => {
      throw new Error('fail: ' + s);
    },
    { returnsError: true },
  ),
  check: goFunc(
    ['string'],
    (s: string) => {
      if (s === 'bad') throw new Error('bad value');
      return 'checked ' + s;
    },
    { returnsError: true },
  ),
  split: goFunc(['string', 'string'], (s: string, sep: string) => withGoType(goSplit(s, sep), '[]string')),
  join: goFunc(['[]string', 'string'], (a: string[] | null, sep: string) => canonicalBytes((a ?? []).join(sep))),
  vsum: goFunc(['string'], (prefix: string, ...n: Int[]) => prefix + String(wrap(n.reduce((x: bigint, y) => BigInt.asIntN(64, x + BigInt(y)), 0n))), {
    variadic: 'int',
  }),
  boom: goFunc([], () => {
    throw new Error('boom!');
  }),
  kv: goFunc(['string', 'string'], (k: string, v: string) => new KV(k, v)),
  mkmap: goFunc(
    [],
    () =>
      withGoType(
        new Map<string, unknown>([
          ['a', 1],
          ['b', 'two'],
          ['c', [1, new GoFloat(2.5)]],
        ]),
        'map[string]interface {}',
      ),
  ),
  fl: goFunc(['float64'], (f: unknown) => new GoFloat(floatOf(f) * 1.5)),
  base: goFunc(['string'], goPathBase),
  seq: goFunc(['int', 'int'], seq, { returnsError: true }),
  repeat: goFunc(
    ['string', 'int'],
    (s: string, n: Int) => {
      if (n < 0) throw new Error('strings: negative Repeat count');
      // Go's len(s)*n wraps: a wrapped product passes the guard and strings.Repeat panics.
      const total = wrap(BigInt(Buffer.byteLength(s)) * BigInt(n));
      if (n > 0 && total > MAX_RESULT) throw new Error(`repeat: result longer than ${MAX_RESULT} bytes`);
      if (n > 0 && BigInt(total) / BigInt(n) !== BigInt(Buffer.byteLength(s))) throw new Error('strings: Repeat count causes overflow');
      return s.repeat(Number(n));
    },
    { returnsError: true },
  ),
  nilf: goFunc([], () => null),
  mkfunc: goFunc([], () => withGoType(goFunc(['int'], (x: Int) => wrap(BigInt(x) * 10n)), 'func(int) int')),
  atoi: goFunc(['string'], goAtoi, { returnsError: true }),
  ints: goFunc([], (...n: Int[]) => withGoType([...n], '[]int'), { variadic: 'int' }),
  nilints: goFunc([], () => nilSlice<number>('[]int')),
};

/** Go's strings.Split: an empty separator splits into UTF-8 sequences (invalid bytes: U+FFFD but the last piece). */
function goSplit(s: string, sep: string): string[] {
  if (sep === '') {
    const runes = Array.from(s);
    for (let i = 0; i < runes.length - 1; i++) if (hasRawBytes(runes[i]!)) runes[i] = '\ufffd';
    return runes;
  }
  return s.split(sep);
}
