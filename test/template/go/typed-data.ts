// Decodes the "typed JSON" of the golden cases and the fuzzer into the engine's value model
// (src/template/go/value.ts), exactly as tools/gotemplate decodes it into Go values:
//
//   integer number        int          (number); beyond 2^53 JSON.parse rounds it: use $int
//   {"$int": "DIGITS"}    int          (number, or bigint beyond 2^53), exact to 64 bits
//   other number          float64      (GoFloat); integral floats must be {"$float": N}
//   {"$float": N}         float64      (GoFloat)
//   {"$uint8": N}         uint8        (GoUint8)
//   {"$strings": [...]}   []string     (Array tagged '[]string')
//   {"$ints": [...]}      []int        (Array tagged '[]int')
//   {"$struct": [[name, value], ...]}  an anonymous struct (reflect.StructOf), field types from the values
//   {"$bytes": "HEX"}     string       of those bytes (need not be UTF-8; escaped bytes, src/bytes.ts)
//   {"$bytes": ["HEX",..]} []string    of such strings
//   {"$bytesmap": [["HEX", value], ...]}  map[string]interface {} with such keys
//   {"$kv": [k, v]}       main.KV      (the struct with methods, see testfuncs.ts)
//   object                map[string]interface {} (Map)
//   array                 []interface {} (Array)
//   null                  nil (null); at the top level, no data at all (undefined), as Go's Execute(w, nil)
import { ANY, GoFloat, GoUint8, goInt, goTypeOf, withGoType } from '../../../src/template/go/value.js';
import { KV } from './testfuncs.js';
import { decodeBytes } from '../../../src/bytes.js';

const fromHex = (h: string): string => decodeBytes(Buffer.from(h, 'hex'));

/** Top-level data: Go's Execute with a nil interface gives an invalid value ("<no value>"). */
export function decodeData(json: unknown): unknown {
  if (json === null || json === undefined) return undefined;
  return decodeTyped(json);
}

export function decodeTyped(v: unknown): unknown {
  if (v === null) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) throw new Error(`integer ${v} beyond 2^53: write it as {"$int": "DIGITS"}`);
      return Number.isInteger(v) ? v : new GoFloat(v);
  }
  if (Array.isArray(v)) return v.map(decodeTyped);
  if (typeof v !== 'object') throw new Error(`unexpected JSON value ${String(v)}`);
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0]!.startsWith('$')) return decodeTag(keys[0]!, obj[keys[0]!]);
  const m = new Map<string, unknown>();
  for (const k of keys) m.set(k, decodeTyped(obj[k]));
  return m;
}

function decodeTag(tag: string, inner: unknown): unknown {
  switch (tag) {
    case '$float':
      return new GoFloat(inner as number);
    case '$int':
      return goInt(BigInt(inner as string));
    case '$uint8':
      return new GoUint8(inner as number);
    case '$strings':
      return withGoType([...(inner as string[])], '[]string');
    case '$ints':
      return withGoType([...(inner as number[])], '[]int');
    case '$bytes':
      return typeof inner === 'string' ? fromHex(inner) : withGoType((inner as string[]).map(fromHex), '[]string');
    case '$bytesmap': {
      const m = new Map<string, unknown>();
      for (const [k, val] of inner as Array<[string, unknown]>) m.set(fromHex(k), decodeTyped(val));
      return m;
    }
    case '$kv': {
      const [k, val] = inner as [string, string];
      return new KV(k, val);
    }
    case '$struct': {
      const struct: Record<string, unknown> = {};
      const fieldTypes: string[] = [];
      for (const [name, raw] of inner as Array<[string, unknown]>) {
        const value = decodeTyped(raw);
        struct[name] = value;
        fieldTypes.push(`${name} ${value === null ? ANY : goTypeOf(value)}`);
      }
      // reflect.StructOf's type prints as Go source: "struct { Key string; N int }", "struct {}".
      return withGoType(struct, fieldTypes.length ? `struct { ${fieldTypes.join('; ')} }` : 'struct {}');
    }
  }
  throw new Error(`unknown tag ${tag}`);
}
