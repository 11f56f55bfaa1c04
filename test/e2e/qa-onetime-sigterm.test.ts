// QA: SIGTERM/SIGINT during -onetime (systemd stopping a oneshot unit, Ctrl-C at a terminal)
// while check_cmd runs. The destination stays intact (good), but tsconfd dies on the default
// signal action: exit 143/130, the stage file `.app.conf<digits>` stays in the destination's
// directory for ever, and the check command's process group keeps running as an orphan.
// Issue 5: SIGTERM and SIGINT finish the write in progress, run no new commands, exit 0 in
// bounded time; commands are killed with their whole process group.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, Workspace, cleanEnv, ensureBuilt } from '../e2e/onetime-harness.js';

before(() => ensureBuilt());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function processesWithMarker(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`-onetime: ${signal} during a slow check_cmd leaves no stage file, no orphan command, the old file, exit 0`, async () => {
    // A unique fractional sleep: both the shell and its sleep child carry it in their args.
    const marker = `sleep 25.${process.pid}${Date.now() % 100000}`;
    const ws = new Workspace({
      'conf.d/app.toml': `[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\ncheck_cmd = "${marker}; true"\n`,
      'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
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
    const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    try {
      // Wait until the check runs (the stage file exists).
      const end = Date.now() + 10_000;
      while (Date.now() < end && !readdirSync(ws.out).some((f) => f.startsWith('.app.conf'))) await sleep(50);
      assert.ok(readdirSync(ws.out).some((f) => f.startsWith('.app.conf')), `check never started:\n${stderr}`);
      await sleep(200);
      child.kill(signal);
      const code = await Promise.race([closed, sleep(10_000).then(() => 'timeout' as const)]);
      assert.notEqual(code, 'timeout', 'did not exit within 10 s');
      await sleep(200);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old\n');
      assert.deepEqual(ws.outFiles(), ['app.conf'], 'stage file left behind');
      assert.deepEqual(processesWithMarker(marker), [], 'check_cmd left running as an orphan');
      assert.equal(code, 0, `exit code after ${signal}:\n${stderr}`);
    } finally {
      for (const line of processesWithMarker(marker)) {
        const pid = Number(line.trim().split(/\s+/)[0]);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      ws.cleanup();
    }
  });
}
