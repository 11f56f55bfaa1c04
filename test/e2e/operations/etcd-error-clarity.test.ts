// QA: the error an operator sees when the only -node is down, and secrets in node URLs.
//  - One dead member: the log says "etcd request to URL failed: Execution prevented because the
//    circuit breaker is open" (cockatiel's internal state), not the cause (connection refused).
//    With two dead members the cause is given ("ECONNREFUSED").
//  - A node URL with credentials (http://user:PASSWORD@host:port) is masked in "Backend source(s)
//    set to", but the ERROR and FATAL lines print the URL with the password.
// Fixed in connection.ts: the member's error is kept over the breaker's; node URLs are masked in every error.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { freePort } from '../../helpers/etcd.js';

before(() => ensureBuilt());

const files = {
  'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n',
  'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
};

test('the only -node refuses connections: the error names the cause, not the circuit breaker', async () => {
  const ws = new Workspace(files);
  try {
    const node = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', node, '-confdir', ws.confdir], { timeoutMs: 25_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /circuit breaker/, r.stderr);
    assert.match(r.stderr, /ECONNREFUSED|refused|unreachable/i);
  } finally {
    ws.cleanup();
  }
});

test('a password in a -node URL never reaches the log, even when the member is down', async () => {
  const ws = new Workspace(files);
  try {
    const secret = 'UrlPw-qa-4242';
    const node = `http://root:${secret}@127.0.0.1:${await freePort()}`;
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', node, '-confdir', ws.confdir, '-log-level', 'debug'], { timeoutMs: 25_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!r.stderr.includes(secret), `password in the log:\n${r.stderr}`);
  } finally {
    ws.cleanup();
  }
});
