// The engine's output buffer (exec.ts flushOut): large outputs are built in flattened chunks and
// joined; the text must be exactly what one long string append would give, at every size around
// the chunk boundary and with non-ASCII text (surrogate pairs) straddling it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../../src/template/go/index.js';

function render(text: string, data: unknown): string {
  return parse('out', text).execute(data);
}

test('large outputs equal the plain concatenation, text and action pieces', () => {
  const items = Array.from({ length: 3000 }, (_, i) => `item-${i}-\u00e9\u{1F600}`);
  const got = render('{{range .}}<{{.}}>\n{{end}}', items);
  assert.equal(got, items.map((s) => `<${s}>\n`).join(''));
  assert.ok(got.length > 8192 * 4);
});

test('outputs of every length around the chunk size are exact', () => {
  for (const n of [8190, 8191, 8192, 8193, 8194, 16385]) {
    const piece = 'x'.repeat(n - 1) + '\u{1F600}';
    const got = render('{{.}}{{.}}a{{.}}', piece);
    assert.equal(got, piece + piece + 'a' + piece, `n=${n}`);
  }
});

test('a big literal text node alone is returned whole', () => {
  const text = 'line\n'.repeat(5000);
  assert.equal(render(text, null), text);
});

test('an execution error after many chunks still reports Go\u2019s error, with no partial output', () => {
  const items = Array.from({ length: 2000 }, (_, i) => `v${i}`);
  assert.throws(() => render('{{range .}}{{.}}.........{{end}}{{.Missing.Field}}', items), /executing "out"/);
});
