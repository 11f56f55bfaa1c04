// matchCompiled (the store's fast matcher, with its indexOf shortcut for a literal chunk after a
// star) against matchBytes (path.Match ported step by step from Go), on generated patterns and
// names built from the characters that matter: '/', '*', '?', classes, and literal runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, matchBytes, matchCompiled } from '../../src/keys/gopath.js';

test('matchCompiled agrees with matchBytes on 100k generated pattern/name pairs', () => {
  const names = ['a', 'b', '/', 'ab', 'a/', '/b', 'x'];
  const pieces = ['a', 'b', '/', '*', '?', 'ab', '/a', 'b/', '[ab]', '*/', '/*'];
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let checked = 0;
  for (let k = 0; k < 100_000; k++) {
    let p = '';
    for (let i = rnd(5) + 1; i > 0; i--) p += pieces[rnd(pieces.length)];
    let n = '';
    for (let i = rnd(6); i > 0; i--) n += names[rnd(names.length)];
    const cp = compilePattern(p);
    checked++;
    assert.equal(matchCompiled(cp, n), matchBytes(p, n), `pattern ${JSON.stringify(p)} name ${JSON.stringify(n)}`);
  }
  assert.equal(checked, 100_000);
});
