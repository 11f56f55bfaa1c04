import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unifiedDiff } from '../../src/resource/diff.js';

// GNU diff -u is the reference; the header lines carry timestamps there, so only hunks are compared.
function gnuHunks(a: string, b: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-diff-'));
  try {
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    const r = spawnSync('diff', ['-u', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' });
    return r.stdout.split('\n').slice(2).join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ours(a: string, b: string): string {
  return unifiedDiff(a, b, 'a', 'b').split('\n').slice(2).join('\n');
}

const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i) + '\n').join('');

test('equal texts give no diff', () => {
  assert.equal(unifiedDiff('x\n', 'x\n', 'a', 'b'), '');
});

test('hunks match GNU diff -u', () => {
  const cases: Array<[string, string]> = [
    ['a\nb\nc\n', 'a\nB\nc\n'],
    ['', 'new\nfile\n'],
    ['old\n', ''],
    [lines(30, (i) => `line ${i}`), lines(30, (i) => (i === 3 || i === 25 ? `changed ${i}` : `line ${i}`))],
    [lines(20, (i) => `l${i}`), lines(20, (i) => (i === 5 || i === 11 ? `c${i}` : `l${i}`))],
    [lines(10, (i) => `x${i}`), lines(12, (i) => `x${i}`)],
    ['a\nb', 'a\nb\n'],
    ['upstream {\n  server a;\n}\n', 'upstream {\n  server a;\n  server b;\n}\n'],
  ];
  for (const [a, b] of cases) assert.equal(ours(a, b), gnuHunks(a, b), JSON.stringify([a, b]));
});
