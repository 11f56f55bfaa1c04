// Mistakes an operator makes at start-up are said, not silent: a misspelt resource or confd.toml key (warned with
// file:line and a did-you-mean, and loading goes on, as confd loads), a -config-file that is not there, a daemon
// with no confdir, an -http port in use (named after the flag), and an unreachable backend at start (each retry
// logged with its backoff, at a bounded rate).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { freePort } from '../../helpers/etcd.js';
import { until } from '../../helpers/wait.js';

ensureBuilt();

function appWorkspace(extra = ''): { ws: Workspace; keys: string } {
  const ws = new Workspace({
    'conf.d/app.toml': `[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n${extra}`,
    'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
  });
  const keys = join(ws.root, 'keys.yaml');
  writeFileSync(keys, 'app:\n  x: "1"\n');
  return { ws, keys };
}

test('an unknown resource key warns with file:line:col and a did-you-mean; the resource still renders', async () => {
  const { ws, keys } = appWorkspace('reload_command = "true"\n\n[templte]\nmode = "0600"\n');
  try {
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keys, '-confdir', ws.confdir]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(ws.confdir, 'conf.d/app.toml');
    assert.ok(r.stderr.includes(`WARNING ${file}:5:1: unknown key "reload_command" in [template] is ignored (did you mean "reload_cmd"?)`), r.stderr);
    assert.ok(r.stderr.includes(`WARNING ${file}:7:1: "templte" is ignored: a resource's settings go in its [template] table`), r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'x=1\n');
  } finally {
    ws.cleanup();
  }
});

test('an unknown confd.toml key warns with file:line and a did-you-mean; a named config file that is missing is an error', async () => {
  const { ws, keys } = appWorkspace();
  try {
    const config = join(ws.root, 'confd.toml');
    writeFileSync(config, `backend = "file"\nconfidr = "/elsewhere"\nconfdir = "${ws.confdir}"\n`);
    const r = await runCli(['-onetime', '-config-file', config, '-file', keys]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`WARNING ${config.replace(/[.]/g, '\\.')}:2: unknown key "confidr" is ignored \\(did you mean "confdir"\\?\\)`));
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'x=1\n');

    const missing = await runCli(['-onetime', '-config-file', join(ws.root, 'nope.toml'), '-backend', 'file', '-file', keys, '-confdir', ws.confdir]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `tsconfd: config file ${join(ws.root, 'nope.toml')} (-config-file) does not exist\n`);
  } finally {
    ws.cleanup();
  }
});

test('-watch and -interval with a confdir that does not exist stop at start (exit 1), as confd does', async () => {
  for (const mode of [['-watch'], ['-interval', '5']]) {
    const r = await runCli([...mode, '-backend', 'file', '-file', '/dev/null', '-confdir', '/nonexistent-tsconfd-confdir'], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, mode.join(' '));
    assert.match(r.stderr, /FATAL Cannot load template resources: confdir '\/nonexistent-tsconfd-confdir' does not exist \(-confdir\)/);
  }
});

test('a bad duration stops the start (exit 1) naming its flag, whichever flag it is', async () => {
  const { ws, keys } = appWorkspace();
  try {
    for (const flag of ['-wait', '-stale-after', '-exec-kill-timeout', '-exec-splay']) {
      const exec = flag.startsWith('-exec') ? ['-exec', 'sleep 60'] : [];
      const r = await runCli(['-watch', '-backend', 'file', '-file', keys, '-confdir', ws.confdir, ...exec, flag, '2 min'], { timeoutMs: 20_000 });
      assert.equal(r.code, 1, `${flag}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`FATAL ${flag}: invalid duration "2 min"`), `${flag}: ${r.stderr}`);
    }
  } finally {
    ws.cleanup();
  }
});

test('-http on a port in use: exit 1 with the flag and the address named', async () => {
  const { ws, keys } = appWorkspace();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await runCli(['-watch', '-backend', 'file', '-file', keys, '-confdir', ws.confdir, '-http', `127.0.0.1:${port}`], { timeoutMs: 20_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`FATAL -http 127\\.0\\.0\\.1:${port}: address 127\\.0\\.0\\.1:${port} is already in use`));
  } finally {
    blocker.close();
    ws.cleanup();
  }
});

test('-watch with etcd unreachable at start: every retry is counted, each line gives the backoff, at most one line per 5 s', async () => {
  const { ws } = appWorkspace();
  const port = await freePort();
  const cli = spawnCli(['-watch', '-backend', 'etcdv3', '-node', `http://127.0.0.1:${port}`, '-confdir', ws.confdir]);
  const started = Date.now();
  const failures = () => cli.stderr().split('\n').filter((l) => / ERROR reading the keys failed \(attempt \d+/.test(l));
  try {
    // The backoff doubles from 200 ms to 5 s, so by the second line some failures were counted but not logged.
    await until('a second retry line', () => failures().length >= 2, 30_000, () => cli.stderr());
    const lines = failures();
    const elapsed = Date.now() - started;
    assert.match(lines[0]!, /\(attempt 1\), retrying in 200 ms: /);
    assert.match(lines[1]!, /\(attempt \d+(; \d+ earlier failures? not logged)?\), retrying in \d+(\.\d)? (ms|s): /);
    assert.ok(lines.length <= 2 + elapsed / 5_000, `${lines.length} lines in ${elapsed} ms:\n${lines.join('\n')}`);
    const attempts = lines.map((l) => Number(/attempt (\d+)/.exec(l)![1]));
    assert.ok(attempts[1]! > attempts[0]!);
  } finally {
    await cli.stop();
    ws.cleanup();
  }
});
