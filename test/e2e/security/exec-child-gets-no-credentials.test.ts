// -exec: the supervised program (nginx, an application) gets tsconfd's environment, but not the backend's
// password: CONFD_PASSWORD is tsconfd's credential for etcd, and the child has no use for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../../helpers/wait.js';
import { CLI, Workspace, cleanEnv, ensureBuilt } from '../harness/onetime-harness.js';

ensureBuilt();

test('the -exec child does not inherit CONFD_PASSWORD; the rest of the environment reaches it', async () => {
  const ws = new Workspace({
    'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n',
    'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
  });
  const keys = join(ws.root, 'keys.yaml');
  writeFileSync(keys, 'app:\n  x: "1"\n');
  const envFile = join(ws.out, 'child.env');
  const child = spawn(
    process.execPath,
    [CLI, '-watch', '-backend', 'file', '-file', keys, '-confdir', ws.confdir, '-exec', `sh -c 'env > ${envFile}.tmp && mv ${envFile}.tmp ${envFile}; exec sleep 60'`],
    { env: cleanEnv({ CONFD_PASSWORD: 'etcd-pass-s3cret', CONFD_USERNAME: 'tsconfd', APP_SETTING: 'kept' }), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (log += s));
  try {
    await until('the child wrote its environment', () => existsSync(envFile), 15_000, () => log);
    const env = readFileSync(envFile, 'utf8');
    assert.match(env, /^APP_SETTING=kept$/m, 'the operator\'s environment reaches the child');
    assert.doesNotMatch(env, /etcd-pass-s3cret/, 'the backend password does not');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    ws.cleanup();
  }
});
