// testfuncs.ts mirrors the function map of tools/gotemplate/main.go; a function on one side
// only would make every golden and fuzz case using it meaningless.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isGoFunction } from '../../../src/template/go/value.js';
import { testFuncs } from './testfuncs.js';

const goSource = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../tools/gotemplate/main.go'), 'utf8');

test('the TypeScript test function map has exactly the Go program\'s functions', () => {
  const block = /var testFuncs = template\.FuncMap\{([\s\S]*?)\n\}/.exec(goSource);
  assert.ok(block, 'testFuncs not found in tools/gotemplate/main.go');
  const goNames = [...block[1]!.matchAll(/^\t"(\w+)":/gm)].map((m) => m[1]!).sort();
  assert.ok(goNames.length >= 15, `only ${goNames.length} Go functions found`);
  assert.deepEqual(Object.keys(testFuncs).sort(), goNames);
});

test('every test function declares its Go signature', () => {
  for (const [name, f] of Object.entries(testFuncs)) assert.ok(isGoFunction(f), `${name} is not a goFunc`);
});
