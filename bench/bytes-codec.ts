// A/B micro benchmark of src/bytes.ts on the all-UTF-8 path, in one process with the rounds
// interleaved (the machine is shared: compare the two columns of one run, not runs):
//   decode  A: buf.toString('utf8', s, e) per key and value (what the etcd codec did)
//           B: decodeBytes(buf, s, e)
//   encode  A: Buffer.from(out, 'utf8') of a rendered file        B: encodeString(out)
//   len     A: Buffer.byteLength(s)                              B: byteLength(s)
// over ASCII keys/values (the usual etcd data) and over text with non-ASCII characters.
//
//   node --import tsx bench/bytes-codec.ts [--rounds 15]
import { byteLength, decodeBytes, encodeString } from '../src/bytes.js';

const argv = process.argv.slice(2);
const rounds = Number(argv[argv.indexOf('--rounds') + 1] ?? 15) || 15;

function fields(n: number, text: (i: number) => string): { buf: Buffer; offsets: Int32Array } {
  const parts = Array.from({ length: n }, (_, i) => Buffer.from(text(i), 'utf8'));
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + parts[i]!.length;
  return { buf: Buffer.concat(parts), offsets };
}

const N = 200_000;
const ascii = fields(N, (i) => (i % 2 ? `/services/web/instance-${i}/address` : `10.0.${i % 256}.${i % 199}:8080`));
const mixed = fields(N, (i) => (i % 2 ? `/services/café/instance-${i}` : `ünïcødé-${i}-日本`));

function decodeA(f: { buf: Buffer; offsets: Int32Array }): number {
  let n = 0;
  for (let i = 0; i < N; i++) n += f.buf.toString('utf8', f.offsets[i]!, f.offsets[i + 1]!).length;
  return n;
}
function decodeB(f: { buf: Buffer; offsets: Int32Array }): number {
  let n = 0;
  for (let i = 0; i < N; i++) n += decodeBytes(f.buf, f.offsets[i]!, f.offsets[i + 1]!).length;
  return n;
}

const outAscii = 'server 10.0.0.1:8080 max_fails=3 fail_timeout=30s;\n'.repeat(20_000); // ~1 MB
const outMixed = 'server café-日本 10.0.0.1:8080;\n'.repeat(30_000);
const lenInputs = Array.from({ length: 100_000 }, (_, i) => (i % 3 ? `value-${i}` : `välue-${i}-日`));

const cases: Array<[string, () => unknown, () => unknown]> = [
  ['decode 200k ASCII fields', () => decodeA(ascii), () => decodeB(ascii)],
  ['decode 200k non-ASCII fields', () => decodeA(mixed), () => decodeB(mixed)],
  ['encode 1 MB ASCII output', () => Buffer.from(outAscii, 'utf8').length, () => encodeString(outAscii).length],
  ['encode 1 MB non-ASCII output', () => Buffer.from(outMixed, 'utf8').length, () => encodeString(outMixed).length],
  [
    'len of 100k values',
    () => lenInputs.reduce((n, s) => n + Buffer.byteLength(s), 0),
    () => lenInputs.reduce((n, s) => n + byteLength(s), 0),
  ],
];

function time(f: () => unknown): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

console.log(`rounds=${rounds}, A/B interleaved; median ms`);
console.log('| case | A (before) | B (src/bytes.ts) | B/A |\n|---|---:|---:|---:|');
for (const [name, a, b] of cases) {
  if (a() !== b()) throw new Error(`${name}: A and B disagree`);
  for (let i = 0; i < 3; i++) (a(), b()); // warm-up
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2) {
      ta.push(time(a));
      tb.push(time(b));
    } else {
      tb.push(time(b));
      ta.push(time(a));
    }
  }
  const [ma, mb] = [median(ta), median(tb)];
  console.log(`| ${name} | ${ma.toFixed(2)} | ${mb.toFixed(2)} | ${(mb / ma).toFixed(2)}x |`);
}
