// QA (fixed): Go's int is 64-bit; the engine kept ints as JS numbers (exact only up to 2^53).
//  - `atoi` of a 64-bit value (a nanosecond timestamp, a snowflake ID kept in etcd) printed other
//    digits than confd: 1732550000123456789 -> 1732550000123456768; the literal
//    9223372036854775807 printed ...808. Ints beyond 2^53 are now bigints (src/template/go/value.ts).
//  - seq near 2^53: test/e2e/compat/seq-beyond-2p53.test.ts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';

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
