import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeOf, parseSignal } from '../../src/runtime/supervisor.js';

test('signal names: with or without SIG, any case; none disables; unknown is an error naming the flag', () => {
  assert.equal(parseSignal('HUP', '-x'), 'SIGHUP');
  assert.equal(parseSignal('sigquit', '-x'), 'SIGQUIT');
  assert.equal(parseSignal('SIGUSR2', '-x'), 'SIGUSR2');
  assert.equal(parseSignal('none', '-x'), null);
  assert.equal(parseSignal('', '-x'), null);
  assert.throws(() => parseSignal('SIGNOPE', '-exec-reload-signal'), /-exec-reload-signal: unknown signal "SIGNOPE"/);
});

test('exit codes as a shell reports them', () => {
  assert.equal(exitCodeOf(3, null), 3);
  assert.equal(exitCodeOf(null, 'SIGKILL'), 137);
  assert.equal(exitCodeOf(null, 'SIGTERM'), 143);
});

test('a real child: reloads asked for within the splay give one signal; stop() ends it with the kill signal', async () => {
  const { mkdtempSync, readFileSync, existsSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { Supervisor } = await import('../../src/runtime/supervisor.js');
  const { Logger } = await import('../../src/log.js');
  const { until } = await import('../helpers/wait.js');
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-supervisor-'));
  const journal = join(dir, 'journal');
  const exits: number[] = [];
  const s = new Supervisor({
    command: `sh -c 'trap "echo hup >> ${journal}" HUP; trap "echo term >> ${journal}; exit 0" TERM; echo start >> ${journal}; while :; do sleep 0.05; done'`,
    reloadSignal: 'SIGHUP',
    killSignal: 'SIGTERM',
    killTimeoutMs: 5000,
    splayMs: 300,
    restart: false,
    log: new Logger({ level: 'error', format: 'text' }),
    onExit: (code) => exits.push(code),
  });
  const lines = () => (existsSync(journal) ? readFileSync(journal, 'utf8').trim().split('\n') : []);
  try {
    s.start();
    await until('the child started', () => lines().includes('start'));
    s.reload('one');
    s.reload('two');
    s.reload('three');
    await until('the reload signal', () => lines().includes('hup'));
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(lines(), ['start', 'hup']);
    assert.equal(s.status().reloads, 1);
    await s.stop();
    assert.deepEqual(lines(), ['start', 'hup', 'term']);
    assert.deepEqual(exits, [], 'a child stopped by tsconfd is not an exit to act on');
    assert.equal(s.status().running, false);
    assert.equal(s.status().lastExitCode, 0);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
