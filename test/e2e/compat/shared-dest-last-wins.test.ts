// QA: regression from 06f1c80 (plain resources processed up to 8 at a time, "shared dests keep
// confd's sequential order"). Resources that name the same destination spelled differently
// (`/out/a.conf` and `/out/./a.conf`, or through a symlinked directory) are not seen as sharing
// it, so they now race: the file ends with whichever finished last. confd processes resources in
// order and the last one wins (quirk 9). Measured: 3 of 8 runs ended with resource 5's content
// instead of resource 6's.
// Fixed: pass.ts (and watch.ts's commits) keep dests with the same base name in resource order.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';

before(() => ensureBuilt());

test('six resources writing one destination (spelled two ways): the last in order always wins', async () => {
  const files: Record<string, string> = {};
  for (let n = 1; n <= 6; n++) {
    files[`conf.d/r${n}.toml`] = `[template]\nsrc = "t${n}.tmpl"\ndest = "@OUT@/${n % 2 === 0 ? './' : ''}a.conf"\n`;
    files[`templates/t${n}.tmpl`] = `{{range seq 1 20000}}content-${n}\n{{end}}`;
  }
  const ws = new Workspace(files);
  try {
    const seen: string[] = [];
    for (let run = 0; run < 10; run++) {
      rmSync(join(ws.out, 'a.conf'), { force: true });
      const r = await runCli(['-onetime', '-backend', 'env', '-confdir', ws.confdir, '-log-level', 'warning'], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      seen.push(readFileSync(join(ws.out, 'a.conf'), 'utf8').split('\n')[0]!);
    }
    assert.deepEqual(seen, Array(10).fill('content-6'), `final content per run: ${seen.join(' ')}`);
  } finally {
    ws.cleanup();
  }
});
