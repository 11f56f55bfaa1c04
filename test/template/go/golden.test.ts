// Golden test: every case in cases/*.json was rendered by real Go 1.19 text/template
// (tools/gotemplate); the engine must give the same output or the same error text.
//
// A case: {"name", "template", "data"?: typed JSON (see typed-data.ts), "delims"?: [l, r]}; the
// generator adds "output" or "error" (err.Error() verbatim). To add cases, append them to a
// topic file and regenerate (needs Go 1.19, /usr/bin/go):
//   go run tools/gotemplate/main.go -update test/template/go/cases
// The fuzzer (npm run fuzz:template) prints its divergences in this format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../../src/template/go/index.js';
import { decodeData } from './typed-data.js';
import { testFuncs } from './testfuncs.js';
import { decodeBytes, encodeString } from '../../../src/bytes.js';

interface GoldenCase {
  name: string;
  template: string;
  /** A template that is not valid UTF-8, as hex of its bytes (read as a template file is: src/bytes.ts). */
  templateHex?: string;
  data?: unknown;
  delims?: [string, string];
  output?: string;
  error?: string;
  /** Output or error that is not valid UTF-8, as hex of Go's bytes. */
  outputHex?: string;
  errorHex?: string;
}

/**
 * Cases where the engine knowingly differs from Go, by design of the value model; they run as
 * todo (reported, not failing the run). Keys are "file: case name".
 */
const KNOWN_DIVERGENCES: Record<string, string> = {};

const casesDir = join(dirname(fileURLToPath(import.meta.url)), 'cases');
const files = readdirSync(casesDir)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** Renders as the Go program does: template named "t", the test function map, data decoded from typed JSON. */
function renderCase(c: Pick<GoldenCase, 'template' | 'templateHex' | 'data' | 'delims'>): { output: string } | { error: string } {
  try {
    const text = c.templateHex !== undefined ? decodeBytes(Buffer.from(c.templateHex, 'hex')) : c.template;
    const t = parse('t', text, { funcs: testFuncs, delims: c.delims });
    return { output: t.execute(decodeData(c.data)) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

test('the corpus is complete', () => {
  let total = 0;
  for (const file of files) {
    const cases = JSON.parse(readFileSync(join(casesDir, file), 'utf8')) as GoldenCase[];
    for (const c of cases) {
      assert.ok(
        c.output !== undefined || c.error !== undefined || c.outputHex !== undefined || c.errorHex !== undefined,
        `${file}: ${c.name} has no golden (run the generator)`,
      );
    }
    total += cases.length;
  }
  assert.ok(total >= 300, `only ${total} cases`);
});

for (const file of files) {
  const cases = JSON.parse(readFileSync(join(casesDir, file), 'utf8')) as GoldenCase[];
  for (const c of cases) {
    const name = `${file.replace(/\.json$/, '')}: ${c.name}`;
    test(name, { todo: KNOWN_DIVERGENCES[name] }, () => {
      const got = renderCase(c);
      if (c.outputHex !== undefined || c.errorHex !== undefined) {
        // Go's bytes, compared with the bytes the engine's string is written as (src/bytes.ts).
        const gotHex = 'output' in got ? { outputHex: encodeString(got.output).toString('hex') } : { errorHex: encodeString(got.error).toString('hex') };
        const wantHex = c.errorHex !== undefined ? { errorHex: c.errorHex } : { outputHex: c.outputHex };
        assert.deepEqual(gotHex, wantHex, `template ${JSON.stringify(c.template)}`);
        return;
      }
      const want = c.error !== undefined ? { error: c.error } : { output: c.output };
      assert.deepEqual(got, want, `template ${JSON.stringify(c.template)}`);
    });
  }
}
