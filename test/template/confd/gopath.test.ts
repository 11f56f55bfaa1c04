// Go's path package and Go string helpers against results recorded from Go 1.19
// (fixtures/gen-go-golden.go): 4000 path cases, every rune's case mapping, strconv.Quote,
// strings.Split and strings.Replace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join as pjoin } from 'node:path';
import { fileURLToPath } from 'node:url';
import { base, clean, compilePattern, dir, join, literalPrefix, match, matchCompiled, toByteString, fromByteString } from '../../../src/keys/gopath.js';
import { quote as goQuote } from '../../../src/template/go/strconv.js';
import { goReplace, goSplit, goToLower, goToUpper } from '../../../src/template/confd/strings.js';

const golden = JSON.parse(readFileSync(pjoin(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'go-golden.json'), 'utf8')) as {
  path: string[][];
  case: Array<[number, number, number]>;
  quote: Array<[string, string]>;
  strings: unknown[][];
};

test('path.Clean, Base, Dir, Join and Match agree with Go on 4000 recorded cases', () => {
  const failures: string[] = [];
  for (const c of golden.path) {
    const op = c[0];
    let got: string;
    const want = c[c.length - 1]!;
    switch (op) {
      case 'clean':
        got = clean(c[1]!);
        break;
      case 'base':
        got = base(c[1]!);
        break;
      case 'dir':
        got = dir(c[1]!);
        break;
      case 'join':
        got = join(c[1]!, c[2]!, c[3]!);
        break;
      default:
        try {
          got = String(match(c[1]!, c[2]!));
        } catch (e) {
          got = 'ERR ' + (e as Error).message;
        }
    }
    if (got !== want) failures.push(`${JSON.stringify(c)} got ${JSON.stringify(got)}`);
  }
  assert.deepEqual(failures.slice(0, 10), []);
  assert.ok(golden.path.some((c) => c[0] === 'match' && c[3]!.startsWith('ERR')), 'the corpus covers bad patterns');
});

test('compiled patterns match as path.Match on every recorded valid pattern', () => {
  let n = 0;
  for (const c of golden.path) {
    if (c[0] !== 'match' || c[3]!.startsWith('ERR')) continue;
    const got = matchCompiled(compilePattern(toByteString(c[1]!)), toByteString(c[2]!));
    assert.equal(String(got), c[3], JSON.stringify(c));
    n++;
  }
  assert.ok(n > 300);
  assert.throws(() => compilePattern('/a/['), /syntax error in pattern/);
});

test('quirk 33: base and dir edge cases', () => {
  assert.equal(base(''), '.');
  assert.equal(base('/'), '/');
  assert.equal(dir('file.txt'), '.');
  assert.equal(dir('/a//b/../c'), '/a');
  assert.equal(join('/', ''), '/');
  assert.equal(join('/n', '../outside'), '/outside');
});

test('Match: * and ? stop at /, classes and escapes, bad patterns throw', () => {
  assert.equal(match('/a/*', '/a/b'), true);
  assert.equal(match('/a/*', '/a/b/c'), false);
  assert.equal(match('/?', '/é'), true, '? matches one rune, not one byte');
  assert.equal(match('/[a-c]x', '/bx'), true);
  assert.equal(match('/[^a]x', '/ax'), false);
  assert.equal(match('/\\*', '/*'), true);
  assert.throws(() => match('/[', '/x'), /syntax error in pattern/);
  assert.throws(() => match('/x/[', '/a'), /syntax error in pattern/, 'reported even when the name fails early');
});

test('literalPrefix stops at the first meta character', () => {
  assert.equal(literalPrefix('/svc/a/nodes/*'), '/svc/a/nodes/');
  assert.equal(literalPrefix('/a\\*b'), '/a');
  assert.equal(literalPrefix('/plain'), '/plain');
  assert.equal(literalPrefix('[ab]'), '');
});

test('byte strings round-trip and sort as UTF-8 bytes', () => {
  const s = 'é😀\uffff';
  assert.equal(fromByteString(toByteString(s)), s);
  // U+FFFF sorts before U+1F600 in UTF-8 but after it in UTF-16.
  assert.ok(toByteString('\uffff') < toByteString('😀'));
  assert.ok('\uffff' > '😀');
});

test('toUpper/toLower are Go simple case mapping for every rune up to U+1FFFF', () => {
  const bad: string[] = [];
  const wantUpper = new Map<number, number>();
  const wantLower = new Map<number, number>();
  for (const [r, u, l] of golden.case) {
    wantUpper.set(r, u);
    wantLower.set(r, l);
  }
  for (let r = 0; r <= 0x1ffff; r++) {
    if (r >= 0xd800 && r <= 0xdfff) continue;
    const ch = String.fromCodePoint(r);
    const u = String.fromCodePoint(wantUpper.get(r) ?? r);
    const l = String.fromCodePoint(wantLower.get(r) ?? r);
    if (goToUpper(ch) !== u) bad.push(`upper U+${r.toString(16)}: ${goToUpper(ch)} want ${u}`);
    if (goToLower(ch) !== l) bad.push(`lower U+${r.toString(16)}: ${goToLower(ch)} want ${l}`);
  }
  assert.deepEqual(bad.slice(0, 20), []);
});

test('quirk 31: the documented case examples', () => {
  assert.equal(goToUpper('straße'), 'STRAßE');
  assert.equal(goToUpper('ﬁx'), 'ﬁX');
  assert.equal(goToLower('İSTANBUL'), 'istanbul');
  assert.equal(goToLower('ΑΣ ΟΔΟΣ'), 'ασ οδοσ');
});

test('strconv.Quote, strings.Split and strings.Replace as Go', () => {
  for (const [s, q] of golden.quote) assert.equal(goQuote(s), q, JSON.stringify(s));
  for (const c of golden.strings) {
    if (c[0] === 'split') assert.deepEqual(goSplit(c[1] as string, c[2] as string), c[3], JSON.stringify(c));
    else assert.equal(goReplace(c[1] as string, c[2] as string, c[3] as string, c[4] as number), c[5], JSON.stringify(c));
  }
});
