// tsconfd's command keys in -onetime (file backend): `reload` actions run, a failing one exits 1, and an invalid
// key value stops the run before anything is written. Resources without these keys keep confd's inline commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, Workspace } from '../harness/onetime-harness.js';
import { until } from '../../helpers/wait.js';

function workspace(toml: string): Workspace {
  const ws = new Workspace({
    'conf.d/app.toml': `[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n${toml}`,
    'templates/app.tmpl': 'a={{getv "/app/a"}}\n',
  });
  writeFileSync(join(ws.root, 'keys.yaml'), 'app:\n  a: "1"\n');
  return ws;
}

const onetime = (ws: Workspace) => runCli(['-onetime', '-backend', 'file', '-file', join(ws.root, 'keys.yaml'), '-confdir', ws.confdir]);

test('-onetime runs a signal reload action; a failing action exits 1', async (t) => {
  const ws = workspace('');
  t.after(() => ws.cleanup());
  const hups = join(ws.root, 'hups');
  const pidfile = join(ws.root, 'p.pid');
  const server = spawn('/bin/sh', ['-c', `echo $$ > ${pidfile}; trap 'echo hup >> ${hups}' HUP; while :; do sleep 0.05; done`], { stdio: 'ignore' });
  t.after(() => server.kill('SIGKILL'));
  await until('pidfile', () => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '');
  ws.write({ 'conf.d/app.toml': `[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\nreload = "signal:HUP:${pidfile}"\n` });
  const ok = await onetime(ws);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'a=1\n');
  await until('the HUP', () => existsSync(hups));

  ws.write({ 'conf.d/app.toml': `[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\nreload = "signal:HUP:${join(ws.root, 'missing.pid')}"\n` });
  writeFileSync(join(ws.root, 'keys.yaml'), 'app:\n  a: "2"\n');
  const bad = await onetime(ws);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /missing\.pid.*ENOENT|no such file/);
  assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'a=2\n', 'the file is written before the reload, as in confd');
});

test('-onetime refuses an invalid command_timeout before writing anything', async (t) => {
  const ws = workspace('command_timeout = "10 seconds"\n');
  t.after(() => ws.cleanup());
  const r = await onetime(ws);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /app\.toml: template\.command_timeout: invalid duration "10 seconds"/);
  assert.deepEqual(ws.outFiles(), []);
});
