// QA: `seq 9007199254740990 9007199254740994` never ended (i + 1 === i above 2^53): the array grew
// until V8 aborted the whole process ("Fatal JavaScript invalid size error"), with no FATAL line
// and every other resource of the run lost. Ints are now exact 64-bit (bigint beyond 2^53), so such
// a seq gives Go's 5 numbers (see also test/e2e/compat/int64-precision.test.ts).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';

before(() => ensureBuilt());

test('seq near 2^53 ends (Go: 5 numbers) instead of crashing the process', async () => {
  const ws = new Workspace({
    'conf.d/a.toml': '[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\n',
    'conf.d/b.toml': '[template]\nsrc = "b.tmpl"\ndest = "@OUT@/b.conf"\n',
    'templates/a.tmpl': '{{len (seq 9007199254740990 9007199254740994)}}\n',
    'templates/b.tmpl': 'b\n',
  });
  try {
    const r = await runCli(['-onetime', '-backend', 'env', '-confdir', ws.confdir], { timeoutMs: 25_000 });
    assert.equal(r.signal, null, `terminated by ${r.signal} (SIGKILL = still running after 25 s; SIGTRAP/SIGABRT = V8 aborted):\n${r.stderr.slice(-300)}`);
    assert.ok(r.code === 0 || r.code === 1, `crashed with exit ${r.code}:\n${r.stderr.slice(-500)}`);
    assert.equal(readFileSync(join(ws.out, 'b.conf'), 'utf8'), 'b\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'a.conf'), 'utf8'), '5\n');
  } finally {
    ws.cleanup();
  }
});
