// QA: SIGTERM/SIGINT during -onetime (systemd stopping a oneshot unit, Ctrl-C at a terminal)
// while check_cmd runs. The destination stays intact (good), but tsconfd dies on the default
// signal action: exit 143/130, the stage file `.app.conf<digits>` stays in the destination's
// directory for ever, and the check command's process group keeps running as an orphan.
// Fixed: the check's process group is killed, its stage file removed, nothing new runs or is
// written, and tsconfd then ends by the same signal (as confd, which dies of it; issue 5's "exit 0"
// is the long-running daemon's). Ending by the signal rather than exiting 0 keeps an interrupted
// run from reading as a success, and lets a shell script stop at Ctrl-C.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, Workspace, cleanEnv, ensureBuilt } from '../harness/onetime-harness.js';
import { sleep } from '../../helpers/wait.js';
import { killMarked, processesWithMarker } from '../../helpers/proc.js';

before(() => ensureBuilt());

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`-onetime: ${signal} during a slow check_cmd leaves no stage file, no orphan command, the old file, ends by ${signal}`, async () => {
    // A unique fractional sleep: both the shell and its sleep child carry it in their args.
    const marker = `sleep 25.${process.pid}${Date.now() % 100000}`;
    const ws = new Workspace({
      'conf.d/app.toml': `[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\ncheck_cmd = "${marker}; true"\n`,
      'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
      // Sorted after app.toml: not started once the signal came, so b.conf is never created.
      'conf.d/b.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/b.conf"\nkeys = ["/app"]\n',
    });
    const keys = join(ws.root, 'keys.yaml');
    writeFileSync(keys, 'app:\n  x: new\n');
    writeFileSync(join(ws.out, 'app.conf'), 'old\n');
    const child = spawn(process.execPath, [CLI, '-onetime', '-backend', 'file', '-file', keys, '-confdir', ws.confdir], {
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, sig) => r({ code, signal: sig })));
    try {
      // Wait until the check runs (the stage file exists).
      const end = Date.now() + 10_000;
      while (Date.now() < end && !readdirSync(ws.out).some((f) => f.startsWith('.app.conf'))) await sleep(50);
      assert.ok(readdirSync(ws.out).some((f) => f.startsWith('.app.conf')), `check never started:\n${stderr}`);
      await sleep(200);
      child.kill(signal);
      const started = Date.now();
      const ended = await Promise.race([closed, sleep(10_000).then(() => 'timeout' as const)]);
      assert.notEqual(ended, 'timeout', 'did not exit within 10 s');
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms to stop`);
      await sleep(200);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old\n');
      assert.deepEqual(ws.outFiles(), ['app.conf'], 'stage file left behind, or a resource processed after the signal');
      assert.deepEqual(processesWithMarker(marker), [], 'check_cmd left running as an orphan');
      assert.deepEqual(ended, { code: null, signal }, `exit after ${signal}:\n${stderr}`);
      assert.match(stderr, new RegExp(`interrupted by ${signal}`));
    } finally {
      killMarked(marker);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      ws.cleanup();
    }
  });
}
