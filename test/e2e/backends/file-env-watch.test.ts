// QA: confd's file backend watches its files (fsnotify) and its env backend accepts -watch
// (renders, then waits for a stop). An operator's `confd -watch -backend file -file
// /etc/myapp/keys.yaml` (a ConfigMap-mounted YAML is the common Kubernetes set-up) must keep
// working after the rename to tsconfd; today it is `FATAL the file backend cannot watch`, exit 1.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { sleep, waitFor } from '../../helpers/wait.js';

before(() => ensureBuilt());

const files = {
  'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n',
  'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
};

test('-watch -backend file: a changed YAML file reaches the destination', async () => {
  const ws = new Workspace(files);
  const keys = join(ws.root, 'keys.yaml');
  writeFileSync(keys, 'app:\n  x: one\n');
  const cli = spawnCli(['-watch', '-backend', 'file', '-file', keys, '-confdir', ws.confdir]);
  const dest = join(ws.out, 'app.conf');
  try {
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === 'x=one\n', 8_000), `first render missing:\n${cli.stderr()}`);
    assert.equal(cli.child.exitCode, null, `exited:\n${cli.stderr()}`);
    // An editor-style atomic replace.
    writeFileSync(`${keys}.tmp`, 'app:\n  x: two\n');
    renameSync(`${keys}.tmp`, keys);
    assert.ok(await waitFor(() => readFileSync(dest, 'utf8') === 'x=two\n', 8_000), `change never rendered:\n${cli.stderr()}`);
  } finally {
    await cli.stop();
    ws.cleanup();
  }
});

test('-watch -backend env: renders once and keeps running (confd: WatchPrefix waits for stop)', async () => {
  const ws = new Workspace(files);
  const cli = spawnCli(['-watch', '-backend', 'env', '-confdir', ws.confdir], { env: { APP_X: 'fromenv' } });
  const dest = join(ws.out, 'app.conf');
  try {
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === 'x=fromenv\n', 8_000), `no render:\n${cli.stderr()}`);
    await sleep(1_000);
    assert.equal(cli.child.exitCode, null, `exited instead of waiting:\n${cli.stderr()}`);
  } finally {
    await cli.stop();
    ws.cleanup();
  }
});
