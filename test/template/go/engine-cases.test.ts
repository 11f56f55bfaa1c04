// Engine behaviour with a confd-like function map (getv, gets, json, ...), checked against outputs
// and error texts recorded from real Go 1.19 text/template. Regenerate after editing the cases:
//   python3 test/template/go/engine-gen/cases.py | GO111MODULE=off go run test/template/go/engine-gen/main.go > test/template/go/engine-cases.json
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, TemplateError } from '../../../src/template/go/index.js';
import { KVPair, confdLikeFuncs } from './engine-funcs.js';

interface Case {
  name: string;
  template: string;
  data: 'nil' | 'str' | 'map' | 'kv';
  delims?: [string, string];
  output?: string;
  error?: string;
}

function dataOf(kind: Case['data']): unknown {
  switch (kind) {
    case 'str':
      return 'hello';
    case 'map':
      return new Map<string, unknown>([
        ['a', 1],
        ['s', 'str'],
        ['x', ['p', 'q']],
        ['m', new Map([['k', 'v']])],
        ['nilv', null],
      ]);
    case 'kv':
      return new KVPair('/a/b', 'v');
  }
  return undefined;
}

const cases = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'engine-cases.json'), 'utf8')) as Case[];

for (const c of cases) {
  test(`engine: ${c.name}`, () => {
    let got: { output: string } | { error: string };
    try {
      got = { output: parse('t', c.template, { funcs: confdLikeFuncs, delims: c.delims }).execute(dataOf(c.data)) };
    } catch (e) {
      assert.ok(e instanceof TemplateError, `not a TemplateError: ${e}`);
      got = { error: e.message };
    }
    assert.deepEqual(got, c.error !== undefined ? { error: c.error } : { output: c.output }, `template ${JSON.stringify(c.template)}`);
  });
}
