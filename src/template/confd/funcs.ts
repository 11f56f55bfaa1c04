// confd's template function map (resource/template/template_funcs.go newFuncMap, plus the
// store's FuncMap from memkv v0.1.1, which confd adds last), with the Go signatures the engine
// checks arguments against and Go's results and error texts.
//
// Exact (tested against results recorded from Go 1.19): the store functions, base/dir (path),
// split/join/replace/contains/trimSuffix, toUpper/toLower (Go's Unicode 13 simple mapping),
// json/jsonArray (encoding/json syntax and type errors, float64 numbers), map, getenv,
// base64Encode/base64Decode (StdEncoding errors), parseBool, atoi (strconv errors), reverse,
// sortByLength/sortKVByLength (Go's pdqsort, so ties end where Go puts them), seq, and the int
// arithmetic (exact int64 with Go's wrap-around; ints beyond 2^53 are bigints, see value.ts).
// Approximate: datetime (see gotime.ts: microsecond clock, Intl zone names); lookupIP*/lookupSRV
// resolve names in a child process (getent ahosts = glibc NSS, as a cgo-enabled Go binary does;
// dns.resolveSrv for SRV) and cache answers for the life of one function map; lookupSRV's Port,
// Priority and Weight are ints, not uint16. Strings are Go's bytes where Go sees bytes (len, base64,
// sorting): invalid UTF-8 from a backend or from base64Decode stays bytes (src/bytes.ts).

import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { type FuncMap, type GoFunction, GO_TYPE, goFunc, goInt, goTypeOf, withGoType } from '../go/value.js';
import { base as pathBase, dir as pathDir } from '../../keys/gopath.js';
import { quote as goQuote } from '../go/strconv.js';
import { goReplace, goSplit, goToLower, goToUpper } from './strings.js';
import { KeyStore, KVPair } from './store.js';
import { unmarshalArray, unmarshalObject } from './gojson.js';
import { GoTime } from './gotime.js';
import { goSortArray } from './gosort.js';
import { byteLength, canonicalBytes, decodeBytes, encodeString } from '../../bytes.js';

/** net.SRV as confd's lookupSRV returns it ([]*net.SRV). */
export interface SRVRecord {
  Target: string;
  Port: number;
  Priority: number;
  Weight: number;
}

export interface Resolver {
  /** The addresses of host (any order, may repeat), or null when the lookup fails. */
  lookupHost(host: string): string[] | null;
  /** SRV records of the full name (_service._proto.name), or null when the lookup fails. */
  lookupSRV(fullName: string): SRVRecord[] | null;
}

export interface ConfdFuncOptions {
  /** Environment for getenv (default process.env). */
  env?: Record<string, string | undefined>;
  /** Clock for datetime (default the system clock). */
  now?: () => GoTime;
  /** DNS for lookupIP* / lookupSRV (default: getent / a Node child process, see systemResolver). */
  resolver?: Resolver;
}

export class GoRuntimeError extends Error {}

const DIVIDE_BY_ZERO = 'runtime error: integer divide by zero';
const MAX_INT64 = (1n << 63n) - 1n;

type GoInt = number | bigint;

/**
 * Go int arithmetic with int64 wrap-around. x is the result computed in doubles: when both operands
 * are numbers and x is a safe integer it is exact; otherwise the bigint result is wrapped to 64 bits.
 */
function int64(x: number, big: () => bigint): GoInt {
  if (Number.isSafeInteger(x)) return x;
  return goInt(BigInt.asIntN(64, big()));
}

function byteLen(s: string): number {
  return /^[\x00-\x7f]*$/.test(s) ? s.length : byteLength(s);
}

/** A view of arr with another Go type: same elements, in-place changes shared (Go slices alias). */
function retype<T extends object>(arr: T, type: string): T {
  if (goTypeOf(arr) === type) return arr;
  return new Proxy(arr, {
    get(target, prop, receiver) {
      if (prop === GO_TYPE) return type;
      return Reflect.get(target, prop, receiver);
    },
  });
}

class NumError extends Error {
  constructor(fn: string, num: string, err: 'invalid syntax' | 'value out of range') {
    super(`strconv.${fn}: parsing ${goQuote(num)}: ${err}`);
    this.name = 'NumError';
  }
}

/** seq's longest result: V8 aborts the process (no exception) somewhere above 2^27 elements. */
const MAX_SEQ_LENGTH = 2 ** 26;

/** strconv.Atoi (64-bit int): a bigint beyond 2^53 (value.ts). */
export function atoi(s0: string): GoInt {
  let s = s0;
  let neg = false;
  if (s.length > 0 && (s[0] === '+' || s[0] === '-')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s.length === 0) throw new NumError('Atoi', s0, 'invalid syntax');
  const maxUint = (1n << 64n) - 1n;
  let n = 0n;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) throw new NumError('Atoi', s0, 'invalid syntax');
    n = n * 10n + BigInt(c - 0x30);
    if (n > maxUint) throw new NumError('Atoi', s0, 'value out of range');
  }
  const cutoff = 1n << 63n;
  if ((!neg && n >= cutoff) || (neg && n > cutoff)) throw new NumError('Atoi', s0, 'value out of range');
  return goInt(neg ? -n : n);
}

/** strconv.ParseBool */
export function parseBool(s: string): boolean {
  switch (s) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
  }
  throw new NumError('ParseBool', s, 'invalid syntax');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < B64.length; i++) B64_DECODE[B64.charCodeAt(i)] = i;

class CorruptInputError extends Error {
  constructor(offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
    this.name = 'CorruptInputError';
  }
}

/** base64.StdEncoding.DecodeString, byte for byte (Go's decodeQuantum); bytes that are not UTF-8 stay bytes. */
export function base64Decode(data: string): string {
  const src = encodeString(data);
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let j = 0;
    let trailing: number | null = null;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return decodeBytes(Buffer.from(out));
        throw new CorruptInputError(si - j);
      }
      const c = src[si]!;
      si++;
      const v = B64_DECODE[c]!;
      if (v >= 0) {
        dbuf[j] = v;
        continue;
      }
      if (c === 0x0a || c === 0x0d) {
        j--;
        continue;
      }
      if (c !== 0x3d) throw new CorruptInputError(si - 1);
      // padding
      if (j === 0 || j === 1) throw new CorruptInputError(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si === src.length) throw new CorruptInputError(src.length);
        if (src[si] !== 0x3d) throw new CorruptInputError(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
      if (si < src.length) trailing = si;
      dlen = j;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    for (let k = 0; k < dlen - 1; k++) out.push(bytes[k]!);
    if (trailing !== null) throw new CorruptInputError(trailing);
  }
  return decodeBytes(Buffer.from(out));
}

// ---- IP addresses, as Go's net.ParseIP and IP.String print them ----

/** Go's IP.String() of an IP literal accepted by net.ParseIP, or null if s is not one. */
export function normalizeIP(s: string): string | null {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)){3}$/.test(s)) return s;
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let host: string;
  try {
    host = new URL(`http://[${s}]/`).hostname;
  } catch {
    return null;
  }
  const h = host.slice(1, -1);
  // An IPv4-mapped address prints as IPv4 in Go.
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (m) {
    const hi = parseInt(m[1]!, 16);
    const lo = parseInt(m[2]!, 16);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  if (h === '::ffff:0:0') return '0.0.0.0';
  return h;
}

function byteSorted(a: string[]): string[] {
  return a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * The default resolver. Go's resolvers are synchronous and so is the template engine, so names
 * are resolved in a child process: `getent ahosts` (glibc's NSS, as cgo-enabled Go uses), or
 * Node's dns.lookup when getent is missing; SRV records with Node's dns.resolveSrv. 10 s limit.
 * The name comes from the template (often a key's value): `--` keeps one starting with `-` from
 * being read as an option (`--require=...` to node would run a file).
 */
export const systemResolver: Resolver = {
  lookupHost(host: string): string[] | null {
    try {
      const out = execFileSync('getent', ['ahosts', '--', host], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
      const ips = out
        .split('\n')
        .map((l) => l.split(/\s+/)[0] ?? '')
        .filter((x) => x !== '');
      return ips.length > 0 ? ips : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null;
    }
    try {
      const script =
        "require('dns').lookup(process.argv[1],{all:true},(e,a)=>{if(e){process.exit(1)}process.stdout.write(JSON.stringify(a.map(x=>x.address)))})";
      const out = execFileSync(process.execPath, ['-e', script, '--', host], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
      return JSON.parse(out) as string[];
    } catch {
      return null;
    }
  },
  lookupSRV(fullName: string): SRVRecord[] | null {
    try {
      const script =
        "require('dns').resolveSrv(process.argv[1],(e,a)=>{if(e){process.exit(1)}process.stdout.write(JSON.stringify(a))})";
      const out = execFileSync(process.execPath, ['-e', script, '--', fullName], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
      const recs = JSON.parse(out) as Array<{ name: string; port: number; priority: number; weight: number }>;
      return recs.map((r) => ({ Target: r.name.endsWith('.') ? r.name : r.name + '.', Port: r.port, Priority: r.priority, Weight: r.weight }));
    } catch {
      return null;
    }
  },
};

/** confd's LookupIP: sorted addresses, nil ([]) on failure; IP literals without DNS. */
function lookupIP(resolver: Resolver, cache: Map<string, string[] | null>, data: string): string[] | null {
  // net.LookupIP: a literal (with an optional %zone) is returned as is.
  const pct = data.lastIndexOf('%');
  const literal = normalizeIP(pct >= 0 ? data.slice(0, pct) : data);
  if (literal !== null) return [literal];
  if (data === '') return null;
  if (cache.has(data)) return cache.get(data)!;
  const found = resolver.lookupHost(data);
  let res: string[] | null = null;
  if (found !== null) {
    const set = new Set<string>();
    for (const a of found) set.add(normalizeIP(a.split('%')[0]!) ?? a);
    res = byteSorted([...set]);
  }
  cache.set(data, res);
  return res;
}

function stringSlice(a: string[] | null): string[] {
  return withGoType(a === null ? [] : [...a], '[]string');
}

/**
 * confd's complete function map over one store, or over the store `view()` gives at each call (a
 * template parsed once and executed against each revision's view). DNS answers are cached for the
 * life of the map (one render), the rest is computed on each call.
 */
export function confdFuncMap(view: KeyStore | (() => KeyStore), opts: ConfdFuncOptions = {}): FuncMap {
  const store = typeof view === 'function' ? view : () => view;
  const env = opts.env ?? process.env;
  const now = opts.now ?? GoTime.now;
  const resolver = opts.resolver ?? systemResolver;
  const ipCache = new Map<string, string[] | null>();

  const m: Record<string, GoFunction> = {
    base: goFunc(['string'], (p: string) => pathBase(p)),
    split: goFunc(['string', 'string'], (s: string, sep: string) => withGoType(goSplit(s, sep), '[]string')),
    json: goFunc(['string'], (d: string) => unmarshalObject(d), { returnsError: true }),
    jsonArray: goFunc(['string'], (d: string) => unmarshalArray(d), { returnsError: true }),
    dir: goFunc(['string'], (p: string) => pathDir(p)),
    map: goFunc(
      [],
      (...values: unknown[]) => {
        if (values.length % 2 !== 0) throw new Error('invalid map call');
        const dict = withGoType(new Map<string, unknown>(), 'map[string]interface {}');
        for (let i = 0; i < values.length; i += 2) {
          const k = values[i];
          if (typeof k !== 'string') throw new Error('map keys must be strings');
          dict.set(k, values[i + 1]);
        }
        return dict;
      },
      { variadic: 'interface {}', returnsError: true },
    ),
    getenv: goFunc(
      ['string'],
      (key: string, ...v: string[]) => {
        const value = env[key];
        return value === undefined || value === '' ? (v.length > 0 ? v[0]! : '') : value;
      },
      { variadic: 'string' },
    ),
    join: goFunc(['[]string', 'string'], (elems: string[], sep: string) => canonicalBytes(elems.join(sep))),
    datetime: goFunc([], () => now()),
    toUpper: goFunc(['string'], (s: string) => goToUpper(s)),
    toLower: goFunc(['string'], (s: string) => goToLower(s)),
    contains: goFunc(['string', 'string'], (s: string, sub: string) => s.includes(sub)),
    replace: goFunc(['string', 'string', 'string', 'int'], (s: string, o: string, n: string, c: number | bigint) => goReplace(s, o, n, Number(c))),
    trimSuffix: goFunc(['string', 'string'], (s: string, suf: string) => (suf !== '' && s.endsWith(suf) ? s.slice(0, s.length - suf.length) : s)),
    lookupIP: goFunc(['string'], (d: string) => stringSlice(lookupIP(resolver, ipCache, d))),
    lookupIPV4: goFunc(['string'], (d: string) => stringSlice((lookupIP(resolver, ipCache, d) ?? []).filter((ip) => ip.includes('.')))),
    lookupIPV6: goFunc(['string'], (d: string) => stringSlice((lookupIP(resolver, ipCache, d) ?? []).filter((ip) => ip.includes(':')))),
    lookupSRV: goFunc(['string', 'string', 'string'], (service: string, proto: string, name: string) => {
      const target = service === '' && proto === '' ? name : `_${service}._${proto}.${name}`;
      const recs = (resolver.lookupSRV(target) ?? []).map((r) => withGoType({ ...r }, '*net.SRV'));
      const key = (r: SRVRecord) => `${r.Target}${r.Port}${r.Priority}${r.Weight}`;
      goSortArray(recs, (a, b) => key(a) < key(b));
      return withGoType(recs, '[]*net.SRV');
    }),
    fileExists: goFunc(['string'], (p: string) => {
      // util.IsFileExist: false only when os.Stat says "does not exist".
      try {
        statSync(p);
        return true;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code !== 'ENOENT';
      }
    }),
    base64Encode: goFunc(['string'], (s: string) => encodeString(s).toString('base64')),
    base64Decode: goFunc(['string'], (s: string) => base64Decode(s), { returnsError: true }),
    parseBool: goFunc(['string'], (s: string) => parseBool(s), { returnsError: true }),
    reverse: goFunc(['interface {}'], (values: unknown) => {
      // confd's type switch matches []string and []memkv.KVPair only (not memkv.KVPairs).
      const t = goTypeOf(values);
      if (Array.isArray(values) && (t === '[]string' || t === '[]memkv.KVPair')) {
        for (let l = 0, r = values.length - 1; l < r; l++, r--) {
          const x = values[l];
          values[l] = values[r];
          values[r] = x;
        }
      }
      return values;
    }),
    sortByLength: goFunc(['[]string'], (values: string[]) => {
      goSortArray(values, (a, b) => byteLen(a) < byteLen(b));
      return retype(values, '[]string');
    }),
    // Declared []memkv.KVPair in Go, which gets' memkv.KVPairs is assignable to (same underlying
    // type, one side unnamed). The engine compares type names only, so the check is made here.
    sortKVByLength: goFunc(['interface {}'], (values: KVPair[]) => {
      const t = values === null ? 'interface {}' : goTypeOf(values);
      if (t !== '[]memkv.KVPair' && t !== 'memkv.KVPairs') throw new Error(`wrong type for value; expected []memkv.KVPair; got ${t}`);
      goSortArray(values, (a, b) => byteLen(a.Key) < byteLen(b.Key));
      return retype(values, '[]memkv.KVPair');
    }),
    // A number op number that is not a safe integer, or any bigint operand (typeof x for a + b
    // with a bigint and a number would throw), takes the exact bigint path.
    add: goFunc(['int', 'int'], (a: GoInt, b: GoInt) => int64(typeof a === 'number' && typeof b === 'number' ? a + b : NaN, () => BigInt(a) + BigInt(b))),
    sub: goFunc(['int', 'int'], (a: GoInt, b: GoInt) => int64(typeof a === 'number' && typeof b === 'number' ? a - b : NaN, () => BigInt(a) - BigInt(b))),
    div: goFunc(['int', 'int'], (a: GoInt, b: GoInt) => {
      if (b === 0) throw new GoRuntimeError(DIVIDE_BY_ZERO);
      // MinInt64 / -1 wraps to MinInt64 in Go.
      return goInt(BigInt.asIntN(64, BigInt(a) / BigInt(b)));
    }),
    mod: goFunc(['int', 'int'], (a: GoInt, b: GoInt) => {
      if (b === 0) throw new GoRuntimeError(DIVIDE_BY_ZERO);
      return typeof a === 'number' && typeof b === 'number' ? a % b || 0 : goInt(BigInt(a) % BigInt(b));
    }),
    mul: goFunc(['int', 'int'], (a: GoInt, b: GoInt) => int64(typeof a === 'number' && typeof b === 'number' ? a * b : NaN, () => BigInt(a) * BigInt(b))),
    seq: goFunc(['int', 'int'], (first: GoInt, last: GoInt) => {
      // Go counts until i > last: with last = MaxInt64 i wraps and the loop never ends (Go runs out of
      // memory), and an array past V8's limit aborts the whole process: both are this resource's error.
      const count = BigInt(last) - BigInt(first) + 1n;
      if (count > 0n && BigInt(last) === MAX_INT64) throw new Error(`seq ${first} ${last}: never ends (Go's loop wraps past the largest int)`);
      if (count > BigInt(MAX_SEQ_LENGTH)) throw new Error(`seq ${first} ${last}: ${count} numbers, more than ${MAX_SEQ_LENGTH}`);
      const arr: GoInt[] = [];
      if (typeof first === 'number' && typeof last === 'number' && Number.isSafeInteger(last + 1)) {
        for (let i = first; i <= last; i++) arr.push(i);
      } else {
        for (let i = BigInt(first); i <= BigInt(last); i++) arr.push(goInt(i));
      }
      return withGoType(arr, '[]int');
    }),
    atoi: goFunc(['string'], (s: string) => atoi(s), { returnsError: true }),

    // memkv's FuncMap, added after newFuncMap's functions as confd does.
    exists: goFunc(['string'], (key: string) => store().exists(key)),
    ls: goFunc(['string'], (p: string) => store().list(p)),
    lsdir: goFunc(['string'], (p: string) => store().listDir(p)),
    get: goFunc(['string'], (key: string) => store().get(key), { returnsError: true }),
    gets: goFunc(['string'], (pattern: string) => store().getAll(pattern), { returnsError: true }),
    getv: goFunc(['string'], (key: string, ...v: string[]) => store().getValue(key, v), { variadic: 'string', returnsError: true }),
    getvs: goFunc(['string'], (pattern: string) => store().getAllValues(pattern), { returnsError: true }),
  };
  return m;
}

/** Every function name confd defines, for listCalls and documentation. */
export const CONFD_FUNC_NAMES: readonly string[] = Object.keys(confdFuncMap(new KeyStore([])));
