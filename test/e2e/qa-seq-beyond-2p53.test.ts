// QA: `seq 9007199254740990 9007199254740994` never ended (i + 1 === i above 2^53): the array grew
// until V8 aborted the whole process ("Fatal JavaScript invalid size error"), with no FATAL line
// and every other resource of the run lost. Now such a seq is that resource's template error.
// (64-bit int precision itself is a known limit of the engine: test/qa-pending/qa-int64-precision.)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from './onetime-harness.js';

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
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /a\.tmpl:1:\d+: executing "a\.tmpl" at <seq 9007199254740990 9007199254740994>: error calling seq: .*2\^53/);
  } finally {
    ws.cleanup();
  }
});
