// Checks fmt.ts, strconv.ts and escape.ts against outputs recorded from real Go 1.19 by
// tools/fmt-golden/main.go (regenerate: go run tools/fmt-golden/main.go > test/template/go/fmt-golden.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GoFloat, GoUint8, withGoType } from '../../../src/template/go/value.js';
import { formatValue, sprint, sprintf, sprintln } from '../../../src/template/go/fmt.js';
import { htmlEscaper, jsEscaper, urlQueryEscaper } from '../../../src/template/go/escape.js';
import {
  canBackquote,
  formatFloat,
  isPrint,
  quote,
  quoteRune,
  quoteRuneToASCII,
  quoteToASCII,
  type FloatFormat,
} from '../../../src/template/go/strconv.js';

type Enc =
  | { t: 'nil' }
  | { t: 'int' | 'uint8'; v: number }
  | { t: 'float64'; bits: string }
  | { t: 'string'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'slice'; type: string; v: Enc[] }
  | { t: 'map'; type: string; v: [Enc, Enc][] }
  | { t: 'struct'; type: string; v: [string, Enc][] };

interface Golden {
  go: string;
  sprintf: { args: Enc[]; cases: [string, string][] }[];
  sprint: { args: Enc[]; sprint: string; sprintln: string }[];
  value: { arg: Enc; out: string }[];
  escape: { args: Enc[]; html: string; js: string; urlquery: string }[];
  float: { bits: string; cases: [FloatFormat, number, string][] }[];
  quote: { s: string; quote: string; ascii: string; canBackquote: boolean }[];
  rune: { r: number; quote: string; ascii: string; isPrint: boolean }[];
}

const golden = JSON.parse(readFileSync(new URL('./fmt-golden.json', import.meta.url), 'utf8')) as Golden;

// The Go types of tools/fmt-golden/main.go that have methods, with the same methods.
class Strg {
  declare S: string;
  String(): string {
    return 'S<' + this.S + '>';
  }
}
class Errv {
  declare M: string;
  Error(): string {
    return 'E:' + this.M;
  }
}
class Both {
  Error(): string {
    return 'both-error';
  }
  String(): string {
    return 'both-string';
  }
}
class Panicky {
  String(): string {
    throw new Error('boom');
  }
}
class GoStr {
  GoString(): string {
    return 'GoStr!';
  }
}
const classes: Record<string, new () => object> = {
  'main.Strg': Strg,
  'main.Errv': Errv,
  'main.Both': Both,
  'main.Panicky': Panicky,
  'main.GoStr': GoStr,
};

function floatFromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt('0x' + hex));
  return view.getFloat64(0);
}

function decode(e: Enc): unknown {
  switch (e.t) {
    case 'nil':
      return null;
    case 'int':
      return e.v;
    case 'uint8':
      return new GoUint8(e.v);
    case 'float64':
      return new GoFloat(floatFromBits(e.bits));
    case 'string':
    case 'bool':
      return e.v;
    case 'slice':
      return withGoType(e.v.map(decode), e.type);
    case 'map':
      return withGoType(new Map(e.v.map(([k, v]) => [decode(k), decode(v)])), e.type);
    case 'struct': {
      const Ctor = classes[e.type];
      const obj = (Ctor ? new Ctor() : {}) as Record<string, unknown>;
      for (const [name, v] of e.v) obj[name] = decode(v);
      return withGoType(obj, e.type);
    }
  }
}

/** Runs every case and fails once with the first mismatches, so a regression shows its pattern. */
function expectAll(cases: Iterable<{ what: string; got: () => string; want: string }>): number {
  const failures: string[] = [];
  let n = 0;
  for (const c of cases) {
    n++;
    let got: string;
    try {
      got = c.got();
    } catch (err) {
      got = `THROWN ${(err as Error).stack}`;
    }
    if (got !== c.want) failures.push(`${c.what}\n    got  ${JSON.stringify(got)}\n    want ${JSON.stringify(c.want)}`);
  }
  assert.ok(n > 0, 'no cases');
  assert.equal(failures.length, 0, `${failures.length} of ${n} differ from Go:\n${failures.slice(0, 25).join('\n')}`);
  return n;
}

test(`golden file comes from Go 1.19 (${golden.go})`, () => {
  assert.match(golden.go, /^go1\.19/);
});

test('Sprintf matches Go for every verb, flag, width, precision and value kind', () => {
  const n = expectAll(
    (function* () {
      for (const g of golden.sprintf) {
        for (const [format, want] of g.cases) {
          yield {
            what: `Sprintf(${JSON.stringify(format)}, ${JSON.stringify(g.args)})`,
            got: () => sprintf(format, g.args.map(decode)),
            want,
          };
        }
      }
    })(),
  );
  assert.ok(n > 20000, `only ${n} cases`);
});

test('Sprint and Sprintln match Go', () => {
  expectAll(
    (function* () {
      for (const c of golden.sprint) {
        yield { what: `Sprint(${JSON.stringify(c.args)})`, got: () => sprint(c.args.map(decode)), want: c.sprint };
        yield { what: `Sprintln(${JSON.stringify(c.args)})`, got: () => sprintln(c.args.map(decode)), want: c.sprintln };
      }
    })(),
  );
});

test('formatValue matches what {{.}} prints in text/template', () => {
  expectAll(
    golden.value.map((c) => ({
      what: `{{.}} of ${JSON.stringify(c.arg)}`,
      // A nil data value reaches the template as an invalid reflect.Value: undefined in the model.
      got: () => formatValue(c.arg.t === 'nil' ? undefined : decode(c.arg)),
      want: c.out,
    })),
  );
});

test('html, js and urlquery match text/template', () => {
  expectAll(
    (function* () {
      for (const c of golden.escape) {
        const what = JSON.stringify(c.args);
        yield { what: `html ${what}`, got: () => htmlEscaper(c.args.map(decode)), want: c.html };
        yield { what: `js ${what}`, got: () => jsEscaper(c.args.map(decode)), want: c.js };
        yield { what: `urlquery ${what}`, got: () => urlQueryEscaper(c.args.map(decode)), want: c.urlquery };
      }
    })(),
  );
});

test('formatFloat matches strconv.FormatFloat, including halfway cases and long precisions', () => {
  const n = expectAll(
    (function* () {
      for (const c of golden.float) {
        const x = floatFromBits(c.bits);
        for (const [fmt, prec, want] of c.cases) {
          yield { what: `FormatFloat(${x} [${c.bits}], '${fmt}', ${prec})`, got: () => formatFloat(x, fmt, prec), want };
        }
      }
    })(),
  );
  assert.ok(n > 20000, `only ${n} cases`);
});

test('quote, quoteToASCII, canBackquote, quoteRune and isPrint match strconv', () => {
  expectAll(
    (function* () {
      for (const c of golden.quote) {
        yield { what: `Quote(${JSON.stringify(c.s)})`, got: () => quote(c.s), want: c.quote };
        yield { what: `QuoteToASCII(${JSON.stringify(c.s)})`, got: () => quoteToASCII(c.s), want: c.ascii };
        yield { what: `CanBackquote(${JSON.stringify(c.s)})`, got: () => String(canBackquote(c.s)), want: String(c.canBackquote) };
      }
      for (const c of golden.rune) {
        yield { what: `QuoteRune(${c.r})`, got: () => quoteRune(c.r), want: c.quote };
        yield { what: `QuoteRuneToASCII(${c.r})`, got: () => quoteRuneToASCII(c.r), want: c.ascii };
        yield { what: `IsPrint(${c.r})`, got: () => String(isPrint(c.r)), want: String(c.isPrint) };
      }
    })(),
  );
});
