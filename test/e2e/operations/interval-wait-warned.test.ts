// -wait (the quiescence window of -watch) does nothing in -interval mode (and -strict-readiness without -http, -notify-ready-early without systemd do nothing anywhere), confd's default: an operator who forgot
// -watch, or a confd.toml/CONFD_WAIT shared between modes, is told so once instead of the flag being ignored
// silently; and -onetime's warning does not claim -interval uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { Agent } from '../harness/agent.js';

function appWorkspace(): { ws: Workspace; keys: string } {
  const ws = new Workspace({
    'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/iw"]\n',
    'templates/app.tmpl': 'x={{getv "/iw/x"}}\n',
  });
  const keys = join(ws.root, 'keys.yaml');
  writeFileSync(keys, 'iw:\n  x: "1"\n');
  return { ws, keys };
}

test('-interval with -wait: renders, and one warning says -wait is ignored (it is for -watch); none without -wait or with -watch', async (t) => {
  const { ws, keys } = appWorkspace();
  t.after(() => ws.cleanup());
  const base = ['-backend', 'file', '-file', keys, '-confdir', ws.confdir];
  const run = async (args: string[]): Promise<Agent> => {
    const agent = new Agent([...base, ...args]);
    t.after(() => agent.stop());
    await agent.waitFor('the first render', () => agent.count(/every resource rendered once|app\.conf has been updated|app\.conf in sync/) > 0);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'x=1\n');
    await agent.stop();
    return agent;
  };
  const interval = await run(['-interval', '600', '-wait', '50ms:1s']);
  assert.equal(interval.count(/WARNING -wait is ignored with -interval \(it is for -watch\)/), 1, interval.tail());
  assert.equal((await run(['-interval', '600'])).count(/-wait/), 0);
  assert.equal((await run(['-watch', '-wait', '50ms:1s'])).count(/WARNING -wait/), 0);
});

test('-onetime -wait: the warning names -watch only', async (t) => {
  const { ws, keys } = appWorkspace();
  t.after(() => ws.cleanup());
  const r = await runCli(['-onetime', '-backend', 'file', '-file', keys, '-confdir', ws.confdir, '-wait', '50ms:1s']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /WARNING -wait is ignored with -onetime \(it is for -watch\)\n/);
});

test('-strict-readiness without -http and -notify-ready-early without NOTIFY_SOCKET: a warning each that they do nothing; none when they apply', async (t) => {
  const { ws, keys } = appWorkspace();
  t.after(() => ws.cleanup());
  const base = ['-watch', '-backend', 'file', '-file', keys, '-confdir', ws.confdir];
  const started = async (args: string[]): Promise<Agent> => {
    const agent = new Agent([...base, ...args]);
    t.after(() => agent.stop());
    await agent.waitFor('the first render', () => agent.count(/app\.conf has been updated|app\.conf in sync/) > 0);
    await agent.stop();
    return agent;
  };
  const bare = await started(['-strict-readiness', '-notify-ready-early']);
  assert.equal(bare.count(/WARNING -strict-readiness does nothing without -http/), 1, bare.tail());
  assert.equal(bare.count(/WARNING -notify-ready-early does nothing here: there is no systemd NOTIFY_SOCKET/), 1, bare.tail());
  const served = await started(['-strict-readiness', '-http', '127.0.0.1:0']);
  assert.equal(served.count(/-strict-readiness does nothing/), 0, served.tail());
});
