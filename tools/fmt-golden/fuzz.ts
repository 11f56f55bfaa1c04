// Differential fuzzer for src/template/go/fmt.ts: random Sprintf formats (flags, widths, precisions, *,
// [n] indexes, good and bad verbs) over random values of every kind in the value model, formatted by
// both the port and real Go (tools/fmt-golden/fuzzgo). Needs Go; not part of CI.
//
//   node --import tsx tools/fmt-golden/fuzz.ts [seed] [count]
//
// Prints the first differences as reproducers and exits 1 if there are any.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoFloat, GoUint8, withGoType } from '../../src/template/go/value.js';
import { sprint, sprintf } from '../../src/template/go/fmt.js';

type Enc = Record<string, unknown>;

let seed = Number(process.argv[2] ?? 1) || 1;
const count = Number(process.argv[3] ?? 20000);

function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
}
const ri = (n: number): number => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]): T => a[ri(a.length)]!;

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

const strs = ['', 'a', 'héllo', '日本語', 'x y', '\t\n', '😀', '"\'`\\', 'abc', '\u00ad', '\x7f', 'Zz9'];

function floatBits(x: number): string {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0).toString(16).padStart(16, '0');
}

function randFloat(): number {
  switch (ri(6)) {
    case 0:
      return pick([0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5, 2.5, 1e6, 1e-5, 1e21, 5e-324, 1.7976931348623157e308]);
    case 1: {
      const v = new DataView(new ArrayBuffer(8));
      v.setUint32(0, ri(2 ** 32));
      v.setUint32(4, ri(2 ** 32));
      return v.getFloat64(0);
    }
    case 2:
      return (ri(2000000) / 2 ** ri(20)) * (rnd() < 0.5 ? -1 : 1);
    default:
      return (ri(100000) / 10 ** ri(6)) * 10 ** (ri(30) - 15) * (rnd() < 0.3 ? -1 : 1);
  }
}

function str(): [Enc, unknown] {
  const s = pick(strs);
  return [{ t: 'string', v: s }, s];
}

function randVal(depth = 0): [Enc, unknown] {
  switch (ri(depth > 1 ? 6 : 11)) {
    case 0:
    case 1: {
      const n = pick([0, 1, -1, 7, 42, 255, 65, 0x263a, -1000, 1234567, 2 ** 40, -(2 ** 50), 0x10ffff, 0xd800]);
      return [{ t: 'int', v: n }, n];
    }
    case 2: {
      const f = randFloat();
      return [{ t: 'float64', bits: floatBits(f) }, new GoFloat(f)];
    }
    case 3:
      return str();
    case 4: {
      const b = rnd() < 0.5;
      return [{ t: 'bool', v: b }, b];
    }
    case 5: {
      const n = ri(256);
      return [{ t: 'uint8', v: n }, new GoUint8(n)];
    }
    case 6:
      return [{ t: 'nil' }, null];
    case 7: {
      const type = pick(['[]interface {}', '[]string', '[]int', '[]uint8']);
      const encs: Enc[] = [];
      const vals: unknown[] = [];
      for (let i = ri(4); i > 0; i--) {
        let pair: [Enc, unknown];
        if (type === '[]string') pair = str();
        else if (type === '[]int') {
          const x = ri(300) - 100;
          pair = [{ t: 'int', v: x }, x];
        } else if (type === '[]uint8') {
          // ASCII only: Go's output for invalid UTF-8 has no JS string to compare with.
          const x = ri(128);
          pair = [{ t: 'uint8', v: x }, new GoUint8(x)];
        } else pair = randVal(depth + 1);
        encs.push(pair[0]);
        vals.push(pair[1]);
      }
      return [{ t: 'slice', type, v: encs }, withGoType(vals, type)];
    }
    case 8: {
      const type = pick(['map[string]interface {}', 'map[string]string', 'map[int]string']);
      const encs: [Enc, Enc][] = [];
      const m = new Map<unknown, unknown>();
      for (let i = ri(4); i > 0; i--) {
        const key: [Enc, unknown] = type === 'map[int]string' ? [{ t: 'int', v: ri(50) - 20 }, 0] : str();
        if (type === 'map[int]string') key[1] = key[0]['v'];
        if (m.has(key[1])) continue;
        const val = type === 'map[string]interface {}' ? randVal(depth + 1) : str();
        encs.push([key[0], val[0]]);
        m.set(key[1], val[1]);
      }
      return [{ t: 'map', type, v: encs }, withGoType(m, type)];
    }
    default: {
      const type = pick(['main.KV', 'main.Strg', 'main.Errv']);
      const a = pick(strs);
      const b = pick(strs);
      if (type === 'main.KV') {
        const fields = [
          ['Key', { t: 'string', v: a }],
          ['Value', { t: 'string', v: b }],
        ];
        return [{ t: 'struct', type, v: fields }, withGoType({ Key: a, Value: b }, type)];
      }
      const o = type === 'main.Strg' ? Object.assign(new Strg(), { S: a }) : Object.assign(new Errv(), { M: a });
      return [{ t: 'struct', type, v: [[type === 'main.Strg' ? 'S' : 'M', { t: 'string', v: a }]] }, withGoType(o, type)];
    }
  }
}

/** Verbs that suit a value, so most directives format rather than report a bad verb. */
function goodVerbs(v: unknown): string[] {
  if (typeof v === 'string') return ['v', 's', 'q', 'x', 'X'];
  if (typeof v === 'number' || v instanceof GoUint8) return ['v', 'd', 'x', 'X', 'o', 'O', 'b', 'c', 'q', 'U'];
  if (v instanceof GoFloat) return ['v', 'e', 'E', 'f', 'F', 'g', 'G', 'x', 'b'];
  if (typeof v === 'boolean') return ['v', 't'];
  return ['v', 'v', 's', 'd', 'q', 'x'];
}

function randFormat(vals: unknown[]): string {
  let f = '';
  const parts = Math.max(vals.length, 1) + (rnd() < 0.1 ? 1 : 0) - (rnd() < 0.1 ? 1 : 0);
  for (let p = 0; p < parts; p++) {
    if (rnd() < 0.3) f += pick(['x', ' ', '|', 'é', '']);
    f += '%';
    for (let i = ri(4); i > 0; i--) f += pick(['-', '+', '#', ' ', '0']);
    if (rnd() < 0.04) f += '[' + pick(['1', '2', '3', '0', '9', '', 'x']) + ']';
    if (rnd() < 0.5) f += rnd() < 0.05 ? '*' : String(ri(15));
    if (rnd() < 0.4) f += '.' + (rnd() < 0.05 ? '*' : rnd() < 0.1 ? '' : String(ri(12)));
    if (rnd() < 0.02) f += '[' + pick(['1', '2', '4']) + ']';
    if (rnd() < 0.01) continue; // a directive without a verb
    if (rnd() < 0.75 && p < vals.length) f += pick(goodVerbs(vals[p]));
    else f += pick(['v', 's', 'd', 'q', 'x', 'X', 'o', 'O', 'b', 'e', 'E', 'f', 'F', 'g', 'G', 't', 'c', 'U', 'T', '%', 'w', 'z', 'é']);
  }
  return f;
}

interface Case {
  kind: 'sprint' | 'sprintf';
  format: string;
  args: Enc[];
  vals: unknown[];
}

const cases: Case[] = [];
for (let i = 0; i < count; i++) {
  const args: Enc[] = [];
  const vals: unknown[] = [];
  for (let j = ri(4); j > 0; j--) {
    const [e, v] = randVal();
    args.push(e);
    vals.push(v);
  }
  cases.push({ kind: rnd() < 0.1 ? 'sprint' : 'sprintf', format: randFormat(vals), args, vals });
}

const dir = mkdtempSync(join(tmpdir(), 'fmt-fuzz-'));
try {
  const bin = join(dir, 'fuzzgo');
  const src = fileURLToPath(new URL('./fuzzgo/main.go', import.meta.url));
  const build = spawnSync('go', ['build', '-o', bin, src], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('go build failed');
  const input = cases.map((c) => JSON.stringify({ kind: c.kind, format: c.format, args: c.args })).join('\n') + '\n';
  const run = spawnSync(bin, { input, maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error('fuzzgo failed: ' + run.stderr.toString());
  const outs = run.stdout
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as string);
  let differ = 0;
  cases.forEach((c, i) => {
    let got: string;
    try {
      got = c.kind === 'sprint' ? sprint(c.vals) : sprintf(c.format, c.vals);
    } catch (err) {
      got = 'THROWN ' + String(err);
    }
    if (got === outs[i]) return;
    if (differ++ < 15) {
      console.log(JSON.stringify({ kind: c.kind, format: c.format, args: c.args }));
      console.log('  go', JSON.stringify(outs[i]));
      console.log('  ts', JSON.stringify(got));
    }
  });
  console.log(`${cases.length} cases, ${differ} differ`);
  process.exitCode = differ === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
