// Differential fuzzer: random Go templates and typed data, rendered by the TypeScript engine
// and by real Go text/template (tools/gotemplate in -stream mode, one process for the run).
// The first divergences are shrunk to minimal reproducers and printed.
//
//   npm run fuzz:template -- --count 100000 --seconds 600 --seed 42
//
// Flags: --count N (cases, default 10000), --seconds S (time bound, default 120), --seed X,
// --shrink K (divergences to shrink and print, default 3), --go PATH (a built gotemplate binary),
// --stats (the commonest Go errors, to keep the generator producing mostly valid templates),
// --sample N (print N generated cases and exit).
// Needs Go (/usr/bin/go) unless --go is given. Exit status 1 when any divergence was found.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse } from '../src/template/go/index.js';
import { decodeBytes, encodeString } from '../src/bytes.js';
import { decodeData } from '../test/template/go/typed-data.js';
import { testFuncs } from '../test/template/go/testfuncs.js';

type Result = { output: string } | { error: string };
interface FuzzCase {
  /** Always written with {{ }}; see wire(). */
  template: string;
  data?: unknown;
  /** Render with << >> as delimiters: wire() rewrites the template, so shrinking still sees {{ }}. */
  angle?: boolean;
}

const ANGLE: [string, string] = ['<<', '>>'];

/** The template and delimiters both engines get. */
function wire(c: FuzzCase): { template: string; delims?: [string, string] } {
  if (!c.angle) return { template: c.template };
  return { template: c.template.replaceAll('{{', ANGLE[0]).replaceAll('}}', ANGLE[1]), delims: ANGLE };
}

// ---------------------------------------------------------------- options

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const count = Number(flag('count', '10000'));
const seconds = Number(flag('seconds', '120'));
const seed = Number(flag('seed', String(Date.now() % 1_000_000_007)));
const shrinkLimit = Number(flag('shrink', '3'));
const showStats = process.argv.includes('--stats');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------- random

/** mulberry32: small, fast, seedable, so a seed reproduces a run. */
function rng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let rand = rng(seed);
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number) => rand() < p;

// ---------------------------------------------------------------- data

const KEYS = ['a', 'b', 'c', 'Key', 'Value', 'n', 'x'];
/** Keys no field can name, to check map order (Go sorts UTF-8 bytes, not UTF-16 units) and index. */
const MAP_ONLY_KEYS = ['B', 'é', '日', '😀', '｡', 'aa', '_', '1', '', 'a b'];
const WORDS = ['', 'a', 'b', 'x y', 'A', 'héllo', '0', 'true', '<tag>', 'a,b', '/p/q', '"q"', "it's", '%d', 'bad', 'ok'];

function genScalar(): unknown {
  switch (int(0, 8)) {
    case 0:
      return int(-3, 12);
    case 1:
      return pick([0, 1, 2, -1, 100, 1000, { $int: '9007199254740993' }, { $int: '-9223372036854775808' }, { $int: '9223372036854775807' }]);
    case 2:
      return pick([0.5, 1.25, -2.5, 3.14159, 1e-7, 2.75, 123456.789]);
    case 3:
      return { $float: pick([0, 1, 2, 1e6, 1e21, -3, 100]) };
    case 4:
    case 5:
      return pick(WORDS);
    case 6:
      return chance(0.5);
    case 7:
      return null;
    default:
      return { $uint8: int(0, 255) };
  }
}

function genValue(depth: number): unknown {
  if (depth <= 0) return genScalar();
  switch (int(0, 10)) {
    case 0:
      return Array.from({ length: int(0, 3) }, () => genValue(depth - 1));
    case 1:
      return { $strings: Array.from({ length: int(0, 3) }, () => pick(WORDS)) };
    case 2:
      return { $ints: Array.from({ length: int(0, 4) }, () => int(-2, 9)) };
    case 3:
    case 4: {
      const m: Record<string, unknown> = {};
      for (let i = int(0, 3); i > 0; i--) m[chance(0.75) ? pick(KEYS) : pick(MAP_ONLY_KEYS)] = genValue(depth - 1);
      return m;
    }
    case 5: {
      const names = [...new Set(Array.from({ length: int(0, 3) }, () => pick(['Key', 'Value', 'A', 'N', 'L'])))];
      return { $struct: names.map((n) => [n, genValue(depth - 1)]) };
    }
    case 6:
      return { $kv: [pick(WORDS), pick(WORDS)] };
    default:
      return genScalar();
  }
}

function genData(): unknown {
  if (chance(0.05)) return undefined;
  const m: Record<string, unknown> = {};
  for (const k of KEYS) if (chance(0.7)) m[k] = genValue(2);
  return m;
}

// ---------------------------------------------------------------- templates

// No %p: Go prints the address of a slice or map, which no other process can reproduce.
const VERBS = ['v', '+v', '#v', 's', 'q', 'd', 'x', 'X', 'o', 'b', 'e', 'f', 'g', 'G', 't', 'c', 'U', 'T', '%', '5d', '-4s', '06.2f', '.1f', '.3g', '+d', ' d', '#x', '8.3e', '.2s', 'z', '*d', '[1]v', '[2]d', '[3]s', '-8v', '#q', '+q', 'U', '#U', 'x', '% x', '08.3f', '.0f', '5.1s'];
// Parameter kinds steer most arguments to the right Go type, so that most templates render
// (errors are covered too, by the rest). '*' is any value; a trailing '...' repeats the last kind.
const FUNCS: Array<[string, string[]]> = [
  ['add', ['int', 'int']], ['upper', ['string']], ['split', ['string', 'string']], ['join', ['[]string', 'string']],
  ['vsum', ['string', 'int...']], ['kv', ['string', 'string']], ['mkmap', []], ['fl', ['float']], ['base', ['string']],
  ['seq', ['int', 'int']], ['repeat', ['string', 'small']], ['atoi', ['numstr']], ['ints', ['int...']], ['check', ['string']],
  ['nilf', []], ['len', ['string']], ['len', ['*']], ['index', ['*', '*...']], ['index', ['[]string', 'small']],
  ['slice', ['string', 'small...']], ['print', ['*...']], ['println', ['*...']], ['html', ['*...']], ['js', ['*...']],
  ['urlquery', ['*...']], ['eq', ['*', '*']], ['eq', ['int', 'int', 'int...']], ['eq', ['string', 'string']],
  ['ne', ['*', '*']], ['lt', ['int', 'int']], ['le', ['string', 'string']], ['gt', ['*', '*']], ['ge', ['int', 'int']],
  ['and', ['*', '*...']], ['or', ['*', '*...']], ['not', ['*']],
];
const RARE_FUNCS: Array<[string, string[]]> = [['fail', ['string']], ['boom', []], ['call', ['func', 'int']]];

interface Scope {
  vars: string[];
  inRange: boolean;
}

function genLiteral(): string {
  switch (int(0, 9)) {
    case 0:
      return String(int(-3, 12));
    case 1:
      return pick(['0x1F', '0o17', '0b101', '1_000', '017', '-0x10', '9007199254740993', '-9223372036854775808', '0x7fffffffffffffff', '1e18']);
    case 2:
      return pick(['1.5', '0.0', '2.0', '1e6', '1e21', '.5', '-2.25', '1e-7']);
    case 3:
    case 4:
      return JSON.stringify(pick(WORDS));
    case 5:
      return pick(['`raw`', '`a\\tb`', "'a'", "'\\n'", "'é'"]);
    case 6:
      return pick(['true', 'false']);
    case 7:
      return 'nil';
    default:
      return JSON.stringify(pick(WORDS));
  }
}

function genField(scope: Scope): string {
  const chain = () => Array.from({ length: chance(0.8) ? 1 : 2 }, () => '.' + pick(KEYS)).join('');
  switch (int(0, 6)) {
    case 0:
      return '.';
    case 1:
      return '$' + chain();
    case 2:
      if (scope.vars.length) return pick(scope.vars) + (chance(0.5) ? chain() : '');
      return chain();
    case 3:
      return pick(['.Joined', '.Key', '.Value', '.Pair "-"']);
    case 4:
      // Fields and methods of computed values, and the root itself.
      return pick(['(kv "a" "b").Key', '(kv "k" "v").Pair ":"', '(mkmap).b', '(index . "a")', '$', '(.a).b', '(split "a,b" ",")']);
    default:
      return chain();
  }
}

function genOperand(scope: Scope, depth: number): string {
  const r = int(0, 9);
  if (r < 3) return genLiteral();
  if (r < 7) return genField(scope);
  if (r < 8 && scope.vars.length) return pick(scope.vars);
  if (depth > 0) return `(${genPipeline(scope, depth - 1)})`;
  return genLiteral();
}

function genArg(kind: string, scope: Scope, depth: number): string {
  if (kind !== '*' && chance(0.85)) {
    switch (kind) {
      case 'int':
        return String(int(-2, 9));
      case 'small':
        return String(int(0, 3));
      case 'string':
        return JSON.stringify(pick(WORDS));
      case 'numstr':
        return JSON.stringify(String(int(-5, 99)));
      case 'float':
        return pick(['1.5', '2', '0.25', '1e6']);
      case '[]string':
        return pick(['(split "a,b,c" ",")', '(split "" ",")', '(split "x" "")']);
      case 'func':
        return '(mkfunc)';
    }
  }
  return genOperand(scope, depth);
}

function genCommand(scope: Scope, depth: number, piped: boolean): string {
  if (chance(0.15) && !piped) return genOperand(scope, depth);
  if (chance(0.2)) {
    const nargs = int(0, 3);
    const args = Array.from({ length: nargs }, () => genOperand(scope, depth));
    const fmt = Array.from({ length: int(0, 3) }, () => '%' + pick(VERBS)).join(pick(['', ' ', '|', '-']));
    return ['printf', JSON.stringify(fmt), ...args].join(' ');
  }
  const [name, params] = chance(0.02) ? pick(RARE_FUNCS) : pick(FUNCS);
  const kinds: string[] = [];
  for (const p of params) {
    if (p.endsWith('...')) for (let i = int(0, 2); i > 0; i--) kinds.push(p.slice(0, -3));
    else kinds.push(p);
  }
  // A piped command gets its last argument from the pipeline.
  if (piped && kinds.length > 0 && chance(0.85)) kinds.pop();
  if (chance(0.04)) kinds.push('*');
  return [name, ...kinds.map((k) => genArg(k, scope, depth))].join(' ');
}

function genPipeline(scope: Scope, depth: number): string {
  const stages = [genCommand(scope, depth, false)];
  for (let i = int(0, 2); i > 0 && chance(0.4); i--) stages.push(genCommand(scope, depth, true));
  return stages.join(chance(0.05) ? pick(['|', '\n| ', ' |\t']) : ' | ');
}

function newVar(): string {
  return pick(['$x', '$y', '$i', '$v', '$k', '$acc']);
}

function open(): string {
  return chance(0.15) ? '{{- ' : '{{';
}
function close(): string {
  return chance(0.15) ? ' -}}' : '}}';
}

function genText(): string {
  return pick(['x', ' ', '\n', 'a-b', ' | ', '{ ', ' }', '  \n  ', 'é', ',', '[', ']']);
}

function genList(scope: Scope, depth: number, n: number): string {
  let out = '';
  const local: Scope = { vars: [...scope.vars], inRange: scope.inRange };
  for (let i = 0; i < n; i++) out += genNode(local, depth);
  return out;
}

function genNode(scope: Scope, depth: number): string {
  const r = int(0, 19);
  if (r < 4) return genText();
  if (r < 9 || depth <= 0) return `${open()}${genPipeline(scope, 1)}${close()}`;
  if (r < 10) {
    const v = newVar();
    const decl = `${open()}${v} := ${genPipeline(scope, 1)}${close()}`;
    if (!scope.vars.includes(v)) scope.vars.push(v);
    return decl;
  }
  if (r < 11 && scope.vars.length) {
    // The new value never reads a variable: {{$x = print $x $x}} in nested ranges grows
    // exponentially and takes both engines down.
    return `${open()}${pick(scope.vars)} = ${genPipeline({ vars: [], inRange: scope.inRange }, 1)}${close()}`;
  }
  if (r < 13) {
    let s = `${open()}if ${genPipeline(scope, 1)}${close()}${genList(scope, depth - 1, int(0, 3))}`;
    if (chance(0.3)) s += `{{else if ${genPipeline(scope, 1)}}}${genList(scope, depth - 1, int(0, 2))}`;
    if (chance(0.4)) s += `{{else}}${genList(scope, depth - 1, int(0, 2))}`;
    return s + `${open()}end${close()}`;
  }
  if (r < 16) {
    const inner: Scope = { vars: [...scope.vars], inRange: true };
    let head = '';
    if (chance(0.5)) {
      const vs = chance(0.5) ? ['$i', '$v'] : ['$v'];
      head = vs.join(', ') + ' := ';
      for (const v of vs) if (!inner.vars.includes(v)) inner.vars.push(v);
    }
    const target = chance(0.7) ? genField(scope) : genPipeline(scope, 1);
    let s = `${open()}range ${head}${target}${close()}${genList(inner, depth - 1, int(0, 3))}`;
    if (chance(0.3)) s += `{{else}}${genList(scope, depth - 1, int(0, 2))}`;
    return s + `${open()}end${close()}`;
  }
  if (r < 17 && scope.inRange) return pick(['{{break}}', '{{continue}}', '{{if .}}{{break}}{{end}}', '{{if not .}}{{continue}}{{end}}']);
  if (r < 18) {
    let s = `${open()}with ${genPipeline(scope, 1)}${close()}${genList(scope, depth - 1, int(0, 3))}`;
    if (chance(0.4)) s += `{{else}}${genList(scope, depth - 1, int(0, 2))}`;
    return s + `${open()}end${close()}`;
  }
  if (r < 19 && !generatingDefine) {
    if (chance(0.2)) return chance(0.5) ? '{{template "T"}}' : `{{block "B" ${genField(scope)}}}${genList(scope, depth - 1, int(0, 2))}{{end}}`;
    return `{{template "T" ${genPipeline(scope, 1)}}}`;
  }
  return `{{/* ${pick(['c', '', 'x y'])} */}}`;
}

/** While generating T's body: T calling T would recurse to Go's depth limit, slowly and in gigabytes. */
let generatingDefine = false;

function genTemplate(): string {
  const scope: Scope = { vars: [], inRange: false };
  // One fixed-shape define keeps template calls non-recursive.
  generatingDefine = true;
  const define = `{{define "T"}}${genList({ vars: [], inRange: false }, 1, int(0, 3))}{{end}}`;
  generatingDefine = false;
  const body = genList(scope, 2, int(1, 4));
  return chance(0.5) ? define + body : body + define;
}

// ---------------------------------------------------------------- engines

function renderTs(c: FuzzCase): Result {
  try {
    const w = wire(c);
    // As the bytes it writes (a lone surrogate that is not an escaped byte is written as U+FFFD).
    return { output: decodeBytes(encodeString(parse('t', w.template, { funcs: testFuncs, delims: w.delims }).execute(decodeData(c.data)))) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

class GoStream {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, (r: Result) => void>();
  private nextId = 0;

  constructor(bin: string) {
    this.proc = spawn(bin, ['-stream'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(`gotemplate: ${d}`));
    process.on('exit', () => this.proc.kill());
    // A dead Go process would leave every pending render waiting forever.
    this.proc.on('exit', (code, signal) => {
      if (this.pending.size === 0) return;
      console.error(`gotemplate exited (${code ?? signal}) with ${this.pending.size} renders pending`);
      process.exit(2);
    });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const r = JSON.parse(line) as { id: number; output?: string; error?: string; outputHex?: string; errorHex?: string };
      const done = this.pending.get(r.id);
      this.pending.delete(r.id);
      // Go's bytes that are not UTF-8 come as hex: read them as the engine holds bytes (src/bytes.ts).
      const text = (h: string) => decodeBytes(Buffer.from(h, 'hex'));
      if (r.errorHex !== undefined) done?.({ error: text(r.errorHex) });
      else if (r.error !== undefined) done?.({ error: r.error });
      else done?.({ output: r.outputHex !== undefined ? text(r.outputHex) : (r.output ?? '') });
    });
  }

  render(c: FuzzCase): Promise<Result> {
    const id = this.nextId++;
    return new Promise((resolveResult) => {
      this.pending.set(id, resolveResult);
      this.proc.stdin.write(JSON.stringify({ id, ...wire(c), data: c.data }) + '\n');
    });
  }

  close(): void {
    this.proc.stdin.end();
  }
}

function buildGo(): { bin: string; cleanup: () => void } {
  const given = flag('go', '');
  if (given) return { bin: given, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-gotemplate-'));
  const bin = join(dir, 'gotemplate');
  const r = spawnSync('go', ['build', '-o', bin, join(root, 'tools/gotemplate/main.go')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('cannot build tools/gotemplate (is Go installed?)');
    process.exit(2);
  }
  return { bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const same = (a: Result, b: Result) => JSON.stringify(a) === JSON.stringify(b);
const kind = (r: Result) => ('error' in r ? 'error' : 'output');

/** What a result says, without where: an error's text after its location and context. */
function signature(r: Result): string {
  if (!('error' in r)) return 'output';
  const exec = r.error.includes(': executing "');
  const text = r.error.replace(/^template: [^:]*:\d+(:\d+)?: /, '').replace(/^executing "[^"]*" at <.*?>: /, '');
  return `${exec ? 'exec' : 'parse'}: ${text}`;
}

// ---------------------------------------------------------------- shrinking

/** Splits a template into tokens whose removal keeps most of its structure readable. */
function tokenize(t: string): string[] {
  return t.match(/\{\{-? ?|\s?-?\}\}|"(?:[^"\\]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*'|[^\s{}"`'|()]+|\s+|./gs) ?? [t];
}

/** Candidate templates that drop a whole {{if}}/{{range}}/{{with}}/{{define}} block, or keep only its bodies. */
function* blockCandidates(t: string): Generator<string> {
  const actions = [...t.matchAll(/\{\{-?\s*(\/\*[\s\S]*?\*\/|"(?:[^"\\]|\\.)*"|`[^`]*`|[^}"`])*?\s*-?\}\}/g)];
  const stack: number[] = [];
  const blocks: Array<{ parts: number[] }> = [];
  const open: Array<{ parts: number[] }> = [];
  actions.forEach((m, i) => {
    const word = /^\{\{-?\s*(\w+)/.exec(m[0])?.[1];
    if (word === 'if' || word === 'range' || word === 'with' || word === 'define' || word === 'block') {
      stack.push(i);
      open.push({ parts: [i] });
    } else if (word === 'else' && open.length) {
      open[open.length - 1]!.parts.push(i);
    } else if (word === 'end' && open.length) {
      stack.pop();
      const b = open.pop()!;
      b.parts.push(i);
      blocks.push(b);
    }
  });
  const span = (i: number) => [actions[i]!.index!, actions[i]!.index! + actions[i]![0].length] as const;
  for (const b of blocks) {
    const [start] = span(b.parts[0]!);
    const [, end] = span(b.parts[b.parts.length - 1]!);
    yield t.slice(0, start) + t.slice(end);
    // Keep the bodies, drop the block's own actions (the else branches stay as plain text runs).
    let out = '';
    let pos = 0;
    for (const i of b.parts) {
      const [a, z] = span(i);
      out += t.slice(pos, a);
      pos = z;
    }
    yield out + t.slice(pos);
  }
}

/** Candidate simplifications of typed-JSON data: drop keys and elements, replace subtrees by scalars. */
function* dataCandidates(d: unknown): Generator<unknown> {
  if (d === undefined || d === null) return;
  yield undefined;
  if (Array.isArray(d)) {
    for (let i = 0; i < d.length; i++) yield [...d.slice(0, i), ...d.slice(i + 1)];
    for (let i = 0; i < d.length; i++) for (const c of dataCandidates(d[i])) if (c !== undefined) yield d.map((x, j) => (j === i ? c : x));
    return;
  }
  if (typeof d === 'object') {
    const o = d as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0]!.startsWith('$')) {
      const inner = o[keys[0]!];
      if (Array.isArray(inner) && keys[0] !== '$kv') {
        for (let i = 0; i < inner.length; i++) yield { [keys[0]!]: [...inner.slice(0, i), ...inner.slice(i + 1)] };
      }
      return;
    }
    for (const k of keys) {
      const { [k]: _drop, ...rest } = o;
      yield rest;
    }
    for (const k of keys) for (const c of dataCandidates(o[k])) if (c !== undefined) yield { ...o, [k]: c };
    return;
  }
  if (typeof d === 'string' && d !== '') yield '';
  if (typeof d === 'number' && d !== 0) yield 0;
}

async function shrink(go: GoStream, c: FuzzCase, goFirst: Result, tsFirst: Result): Promise<FuzzCase> {
  // A candidate counts only if it diverges the same way (Go says the same thing, the TypeScript
  // engine gives the same kind of result), so shrinking does not wander off to a different bug.
  const goSig = signature(goFirst);
  const stillDiverges = async (cand: FuzzCase): Promise<boolean> => {
    const ts = renderTs(cand);
    if (kind(ts) !== kind(tsFirst)) return false;
    const g = await go.render(cand);
    return !same(ts, g) && signature(g) === goSig;
  };
  let best = c;
  let tokens = tokenize(best.template);
  let progress = true;
  for (let round = 0; progress && round < 50; round++) {
    progress = false;
    for (const t of blockCandidates(best.template)) {
      const cand = { ...best, template: t };
      if (await stillDiverges(cand)) {
        best = cand;
        tokens = tokenize(t);
        progress = true;
        break;
      }
    }
    for (let size = Math.max(1, tokens.length >> 1); size >= 1; size >>= 1) {
      for (let i = 0; i + size <= tokens.length; ) {
        const candTokens = [...tokens.slice(0, i), ...tokens.slice(i + size)];
        const cand = { ...best, template: candTokens.join('') };
        if (await stillDiverges(cand)) {
          tokens = candTokens;
          best = cand;
          progress = true;
        } else {
          i += size;
        }
      }
    }
    for (const d of dataCandidates(best.data)) {
      const cand = { ...best, data: d };
      if (await stillDiverges(cand)) {
        best = cand;
        progress = true;
        break;
      }
    }
  }
  return best;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const sample = Number(flag('sample', '0'));
  if (sample > 0) {
    // Shows what the grammar produces, without rendering anything.
    for (let i = 0; i < sample; i++) {
      const data = genData();
      console.log(JSON.stringify({ template: genTemplate(), data }));
    }
    return;
  }
  const { bin, cleanup } = buildGo();
  const go = new GoStream(bin);
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  let divergences = 0;
  let shrunk = 0;
  let goErrors = 0;
  const errorKinds = new Map<string, number>();
  const errorExamples = new Map<string, string>();
  const batchSize = 200;
  let lastReport = Date.now();
  console.log(`fuzz-template: seed ${seed}, up to ${count} cases or ${seconds} s`);
  try {
    while (done < count && Date.now() < deadline) {
      const batch: FuzzCase[] = [];
      for (let i = 0; i < Math.min(batchSize, count - done); i++) {
        const data = genData();
        const c: FuzzCase = { template: genTemplate() };
        if (data !== undefined) c.data = data;
        if (chance(0.05)) c.angle = true;
        batch.push(c);
      }
      const goResults = await Promise.all(batch.map((c) => go.render(c)));
      for (let i = 0; i < batch.length; i++) {
        const c = batch[i]!;
        const ts = renderTs(c);
        const g = goResults[i]!;
        if ('error' in g) {
          goErrors++;
          const sig = signature(g).replace(/"[^"]*"|\d+/g, '_').slice(0, 70);
          errorKinds.set(sig, (errorKinds.get(sig) ?? 0) + 1);
          if (!errorExamples.has(sig)) errorExamples.set(sig, `${g.error}  <=  ${c.template.slice(0, 300)}`);
        }
        if (same(ts, g)) continue;
        divergences++;
        if (shrunk < shrinkLimit) {
          shrunk++;
          const min = await shrink(go, c, g, ts);
          const minGo = await go.render(min);
          console.log(`\n--- divergence ${divergences} (case ${done + i + 1}), shrunk:`);
          // Printed in the golden case format, ready to paste into test/template/go/cases.
          console.log(JSON.stringify({ name: `fuzz ${seed}-${done + i + 1}`, ...wire(min), data: min.data }));
          console.log(`  go: ${JSON.stringify(minGo)}`);
          console.log(`  ts: ${JSON.stringify(renderTs(min))}`);
        }
      }
      done += batch.length;
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        console.log(`  ... ${done} cases, ${divergences} divergences`);
      }
    }
  } finally {
    go.close();
    cleanup();
  }
  const errPct = done ? Math.round((100 * goErrors) / done) : 0;
  if (showStats) {
    for (const [sig, n] of [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      console.log(`${String(n).padStart(7)}  ${sig}\n         e.g. ${JSON.stringify(errorExamples.get(sig))}`);
    }
  }
  console.log(`(${errPct}% of cases are Go errors, ${100 - errPct}% render output)`);
  console.log(`\n${done} cases, ${divergences} divergences (seed ${seed})`);
  process.exitCode = divergences > 0 ? 1 : 0;
}

await main();
