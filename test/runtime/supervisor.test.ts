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
