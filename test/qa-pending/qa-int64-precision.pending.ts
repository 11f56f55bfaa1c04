// QA: Go's int is 64-bit; the engine keeps ints as JS numbers (exact only up to 2^53).
//  - `atoi` of a 64-bit value (a nanosecond timestamp, a snowflake ID kept in etcd) prints other
//    digits than confd: 1732550000123456789 -> 1732550000123456768; the literal
//    9223372036854775807 prints ...808.
//  - `seq 9007199254740990 9007199254740994` never ends (i + 1 === i above 2^53): the array grows
//    until V8 aborts the whole process ("Fatal JavaScript invalid size error"), with no FATAL line
//    and every other resource of the run lost. In -watch, a key value reaching seq this way kills
//    the daemon.
// Suspected: src/template/go/value.ts (int representation), src/template/confd funcs (atoi, seq).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../e2e/onetime-harness.js';

before(() => ensureBuilt());

test('atoi and int literals keep all 64 bits, as Go prints them', async () => {
  const ws = new Workspace({
    'conf.d/a.toml': '[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\n',
    'templates/a.tmpl': '{{atoi "1732550000123456789"}}|{{9223372036854775807}}|{{add (atoi "9007199254740993") 0}}\n',
  });
  try {
    const r = await runCli(['-onetime', '-backend', 'env', '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'a.conf'), 'utf8'), '1732550000123456789|9223372036854775807|9007199254740993\n');
  } finally {
    ws.cleanup();
  }
});

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
  } finally {
    ws.cleanup();
  }
});
