import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand as runShell, CommandError, ShellCommand } from '../../src/resource/commands.js';
import { goQuote } from '../../src/resource/errors.js';

/** A killed process whose parent has not reaped it yet is a zombie: dead for our purpose. */
const runCommand = (text: string, opts: Parameters<typeof runShell>[1]) => runShell(ShellCommand.literal(text), opts);

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('commands run through /bin/sh -c and return combined output', async () => {
  assert.equal(await runCommand('echo out; echo err >&2', { timeoutMs: 5000 }), 'out\nerr\n');
});

test('a failing command reports Go\'s "exit status N" with its output', async () => {
  await assert.rejects(runCommand('echo checking; exit 3', { timeoutMs: 5000 }), (e: unknown) => {
    return e instanceof CommandError && e.message === 'exit status 3' && e.output === 'checking\n';
  });
});

test('the timeout kills the whole process group, children included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-cmd-'));
  try {
    const pidFile = join(dir, 'child.pid');
    const started = Date.now();
    await assert.rejects(
      runCommand(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 300, killGraceMs: 200 }),
      (e: unknown) => e instanceof CommandError && /timed out after 0.3s/.test(e.message),
    );
    assert.ok(Date.now() - started < 5000);
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    // The background sleep belonged to the group: it must be gone.
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      alive = isRunning(childPid);
      if (alive) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(alive, false, 'background child survived the timeout');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a command that leaves a daemon holding its output does not hang the run', async () => {
  const started = Date.now();
  const out = await runCommand('(sleep 3 &) ; echo done', { timeoutMs: 10000 });
  assert.equal(out, 'done\n');
  assert.ok(Date.now() - started < 2000);
});

test('goQuote is strconv.Quote', () => {
  assert.equal(goQuote('checking /x/.a.conf1\n'), '"checking /x/.a.conf1\\n"');
  assert.equal(goQuote('tab\t"q" \\ \x1b é \x7f'), '"tab\\t\\"q\\" \\\\ \\x1b é \\x7f"');
  assert.equal(goQuote(''), '""');
});
