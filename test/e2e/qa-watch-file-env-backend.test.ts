// QA: confd's file backend watches its files (fsnotify) and its env backend accepts -watch
// (renders, then waits for a stop). An operator's `confd -watch -backend file -file
// /etc/myapp/keys.yaml` (a ConfigMap-mounted YAML is the common Kubernetes set-up) must keep
// working after the rename to tsconfd; today it is `FATAL the file backend cannot watch`, exit 1.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, Workspace, cleanEnv, ensureBuilt } from '../e2e/onetime-harness.js';
import { sleep, waitFor } from '../helpers/wait.js';

before(() => ensureBuilt());

const files = {
  'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n',
  'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
};

test('-watch -backend file: a changed YAML file reaches the destination', async () => {
  const ws = new Workspace(files);
  const keys = join(ws.root, 'keys.yaml');
  writeFileSync(keys, 'app:\n  x: one\n');
  const child = spawn(process.execPath, [CLI, '-watch', '-backend', 'file', '-file', keys, '-confdir', ws.confdir], {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const dest = join(ws.out, 'app.conf');
  try {
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === 'x=one\n', 8_000), `first render missing:\n${stderr}`);
    assert.equal(child.exitCode, null, `exited:\n${stderr}`);
    // An editor-style atomic replace.
    writeFileSync(`${keys}.tmp`, 'app:\n  x: two\n');
    renameSync(`${keys}.tmp`, keys);
    assert.ok(await waitFor(() => readFileSync(dest, 'utf8') === 'x=two\n', 8_000), `change never rendered:\n${stderr}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('close', r)));
    ws.cleanup();
  }
});

test('-watch -backend env: renders once and keeps running (confd: WatchPrefix waits for stop)', async () => {
  const ws = new Workspace(files);
  const child = spawn(process.execPath, [CLI, '-watch', '-backend', 'env', '-confdir', ws.confdir], {
    env: cleanEnv({ APP_X: 'fromenv' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const dest = join(ws.out, 'app.conf');
  try {
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === 'x=fromenv\n', 8_000), `no render:\n${stderr}`);
    await sleep(1_000);
    assert.equal(child.exitCode, null, `exited instead of waiting:\n${stderr}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('close', r)));
    ws.cleanup();
  }
});
