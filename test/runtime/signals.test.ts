import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignalCoordinator } from '../../src/runtime/signals.js';

function coordinator(graceMs = 1_000) {
  const target = new EventEmitter();
  const exits: number[] = [];
  const logs: string[] = [];
  const signals = new SignalCoordinator({
    graceMs,
    target,
    exit: (code) => exits.push(code),
    log: {
      info: (message) => logs.push(`info: ${message}`),
      warning: (message) => logs.push(`warning: ${message}`),
      error: (message) => logs.push(`error: ${message}`),
    },
  }).install();
  return { signals, target, exits, logs };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('SIGTERM: stop new work, wait for the write in progress, run handlers last-first, exit 0', async () => {
  const { signals, target, exits } = coordinator();
  const order: string[] = [];
  const write = deferred();
  signals.track(write.promise.then(() => order.push('write finished')));
  signals.onShutdown(() => void order.push('close backend'));
  signals.onShutdown(async () => {
    await sleep(10);
    order.push('cancel watch');
  });
  const unregistered = signals.onShutdown(() => void order.push('never'));
  unregistered();

  assert.equal(signals.stopping.aborted, false);
  target.emit('SIGTERM');
  assert.equal(signals.stopping.aborted, true, 'stopping is aborted at once');
  assert.equal(signals.shuttingDown, true);
  await sleep(20);
  assert.deepEqual(order, [], 'handlers wait for the tracked write');
  assert.deepEqual(exits, []);
  write.resolve();
  assert.equal(await signals.shutdown(), 0);
  assert.deepEqual(order, ['write finished', 'cancel watch', 'close backend']);
  assert.deepEqual(exits, [0]);
  assert.equal(target.listenerCount('SIGTERM'), 0, 'listeners removed after shutdown');
});

test('a shutdown that overruns the grace period exits 1 at the bound', async () => {
  const { signals, target, exits, logs } = coordinator(150);
  signals.track(new Promise(() => {})); // a write that never finishes
  const started = Date.now();
  target.emit('SIGINT');
  assert.equal(await signals.shutdown(), 1);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 140 && elapsed < 1_000, `took ${elapsed}ms`);
  assert.deepEqual(exits, [1]);
  assert.ok(logs.some((l) => /did not finish within 150ms/.test(l)));
});

test('a failing handler is logged, the others still run, and the exit code is 1', async () => {
  const { signals, exits, logs } = coordinator();
  const ran: string[] = [];
  signals.onShutdown(() => void ran.push('first'));
  signals.onShutdown(() => {
    throw new Error('watch cancel failed');
  });
  assert.equal(await signals.shutdown(), 1);
  assert.deepEqual(ran, ['first']);
  assert.deepEqual(exits, [1]);
  assert.ok(logs.includes('error: shutdown step failed: watch cancel failed'));
});

test('a second SIGTERM during shutdown exits 1 at once', async () => {
  const { signals, target, exits } = coordinator(5_000);
  const hang = deferred();
  signals.track(hang.promise);
  target.emit('SIGTERM');
  target.emit('SIGTERM');
  assert.deepEqual(exits, [1]);
  hang.resolve();
  await signals.shutdown();
});

test('SIGHUP runs the reload handler, never concurrently, coalescing a burst into one more run', async () => {
  const { signals, target, logs } = coordinator();
  target.emit('SIGHUP');
  assert.ok(logs.includes('warning: SIGHUP ignored: nothing to reload in this mode'));

  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const gates = [deferred(), deferred()];
  signals.onReload(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await gates[runs++].promise;
    running--;
  });
  target.emit('SIGHUP');
  target.emit('SIGHUP');
  target.emit('SIGHUP');
  target.emit('SIGHUP');
  await sleep(10);
  assert.equal(runs, 1);
  gates[0].resolve();
  await sleep(10);
  assert.equal(runs, 2, 'one more run for the burst');
  gates[1].resolve();
  await signals.reload().then(() => sleep(10));
  assert.equal(maxRunning, 1);

  const failing = coordinator();
  failing.signals.onReload(() => {
    throw new Error('bad template');
  });
  await failing.signals.reload();
  assert.ok(failing.logs.includes('error: reload failed: bad template'), 'a failed reload is logged and the process lives on');
  assert.deepEqual(failing.exits, []);
});

test('shutdown waits for a reload in progress and SIGHUP during shutdown is ignored', async () => {
  const { signals, target, exits } = coordinator();
  const gate = deferred();
  let runs = 0;
  signals.onReload(async () => {
    runs++;
    await gate.promise;
  });
  target.emit('SIGHUP');
  target.emit('SIGTERM');
  target.emit('SIGHUP');
  await sleep(10);
  assert.deepEqual(exits, []);
  gate.resolve();
  assert.equal(await signals.shutdown(), 0);
  assert.equal(runs, 1);
});

test('a real process: SIGHUP does not kill it, SIGTERM finishes the write and exits 0', async () => {
  const module = fileURLToPath(new URL('../../src/runtime/signals.ts', import.meta.url));
  const script = `
    import { SignalCoordinator } from ${JSON.stringify(module)};
    const signals = new SignalCoordinator({ graceMs: 3000, log: { info: (m) => console.log('info: ' + m), warning: (m) => console.log('warning: ' + m), error: (m) => console.log('error: ' + m) } }).install();
    signals.onReload(() => console.log('reloaded'));
    signals.onShutdown(() => console.log('handler ran'));
    const timer = setInterval(() => {}, 1000);
    signals.onShutdown(() => clearInterval(timer));
    signals.track(new Promise((resolve) => {
      console.log('ready');
      signals.stopping.addEventListener('abort', () => setTimeout(() => { console.log('write finished'); resolve(); }, 200));
    }));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const waitFor = async (text: string) => {
    const deadline = Date.now() + 10_000;
    while (!out.includes(text)) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${text}; got ${out}`);
      await sleep(20);
    }
  };
  await waitFor('ready');
  child.kill('SIGHUP');
  await waitFor('reloaded');
  child.kill('SIGTERM');
  const [code, signal] = await once(child, 'exit');
  assert.equal(signal, null);
  assert.equal(code, 0);
  const lines = out.trim().split('\n');
  assert.deepEqual(lines.slice(lines.indexOf('info: received SIGTERM: shutting down (up to 3000ms)')), [
    'info: received SIGTERM: shutting down (up to 3000ms)',
    'write finished',
    'handler ran',
    'info: shutdown complete',
  ]);
});
