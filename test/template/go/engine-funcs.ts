// A confd-like function map for the engine tests (the Go side is engine-gen/main.go): getv, gets,
// json, split, ... with the same Go signatures, results and error texts.
import { GoFloat, goFunc, withGoType, type FuncMap } from '../../../src/template/go/value.js';

export class KVPair {
  constructor(
    public Key: string,
    public Value: string,
  ) {
    withGoType(this, 'main.KVPair');
  }
}

const store = new Map<string, string>([
  ['/app/name', 'demo'],
  ['/app/port', '8080'],
  ['/app/json', '{"a":{"b":"c"},"n":1.5,"l":["x","y"]}'],
  ['/svc/web/1', '10.0.0.1'],
  ['/svc/web/2', '10.0.0.2'],
  ['/svc/db/1', '10.0.1.1'],
]);

/** encoding/json into interface{}: objects are map[string]interface {}, numbers float64. */
function fromJSON(v: unknown): unknown {
  if (typeof v === 'number') return new GoFloat(v);
  if (Array.isArray(v)) return v.map(fromJSON);
  if (v !== null && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, fromJSON(x)]));
  return v;
}

export const confdLikeFuncs: FuncMap = {
  getv: goFunc(
    ['string'],
    (k: string, ...def: string[]) => {
      const v = store.get(k);
      if (v !== undefined) return v;
      if (def.length > 0) return def[0];
      throw new Error(`key does not exist: ${k}`);
    },
    { variadic: 'string', returnsError: true },
  ),
  gets: goFunc(
    ['string'],
    (pattern: string) => {
      const prefix = pattern.replace(/\*$/, '');
      const out = [...store].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1));
      return withGoType(out.map(([k, v]) => new KVPair(k, v)), '[]main.KVPair');
    },
    { returnsError: true },
  ),
  base: goFunc(['string'], (p: string) => p.replace(/\/+$/, '').split('/').pop() || '/'),
  split: goFunc(['string', 'string'], (s: string, sep: string) => withGoType(s.split(sep), '[]string')),
  join: goFunc(['[]string', 'string'], (a: string[], sep: string) => a.join(sep)),
  atoi: goFunc(
    ['string'],
    (s: string) => {
      if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
      return Number(s);
    },
    { returnsError: true },
  ),
  seq: goFunc(['int', 'int'], (a: number, b: number) => {
    const out: number[] = [];
    for (let i = a; i <= b; i++) out.push(i);
    return withGoType(out, '[]int');
  }),
  json: goFunc(['string'], (s: string) => withGoType(fromJSON(JSON.parse(s)) as Map<string, unknown>, 'map[string]interface {}'), { returnsError: true }),
  upper: goFunc(['string'], (s: string) => s.toUpperCase()),
};

