// The seed's TLS cluster (three members, client certificates, nodes given by IP address): what an
// operator reads. A wrong CA is named as a TLS failure with -basic-auth too (it said "cluster
// unreachable ... Last error: null"), -client-insecure is warned about once, and Node's raw DEP0123
// warning (a TLS server name that is an IP address) never reaches the output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { startTlsCluster, type EtcdServer } from '../../helpers/etcd.js';

let cluster: EtcdServer;
before(async () => {
  ensureBuilt();
  cluster = await startTlsCluster();
  await cluster.put('/tlsmsg/db/url', 'tls-db.example.com');
});
after(async () => cluster?.stop());

const files = {
  'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/tlsmsg"]\n',
  'templates/app.tmpl': 'url={{getv "/tlsmsg/db/url"}}\n',
};

function tlsArgs(ca: string, ws: Workspace): string[] {
  const c = cluster.certs!;
  // 127.0.0.1, not localhost: the server name would be an IP address.
  assert.match(cluster.endpoints[0]!, /^https:\/\/127\.0\.0\.1:/);
  return ['-onetime', '-backend', 'etcdv3', '-node', cluster.endpoints[0]!, '-client-ca-keys', ca, '-client-cert', c.client.cert, '-client-key', c.client.key, '-confdir', ws.confdir];
}

const noNodeWarning = (stderr: string) => {
  assert.doesNotMatch(stderr, /DEP0123|DeprecationWarning|\(node:\d+\)/, stderr);
};

test('a wrong CA with -basic-auth names the TLS failure, as without it', { timeout: 60_000 }, async () => {
  const ws = new Workspace(files);
  try {
    for (const auth of [[], ['-basic-auth', '-username', 'root', '-password', 'pw']]) {
      const r = await runCli([...tlsArgs(cluster.certs!.otherCa, ws), ...auth], { timeoutMs: 40_000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /etcd TLS handshake failed with .*unable to verify the first certificate/, r.stderr);
      assert.doesNotMatch(r.stderr, /Last error: null|cluster unreachable/, r.stderr);
      noNodeWarning(r.stderr);
    }
  } finally {
    ws.cleanup();
  }
});

test('-client-insecure connects with a wrong CA and warns once', { timeout: 60_000 }, async () => {
  const ws = new Workspace(files);
  try {
    const r = await runCli([...tlsArgs(cluster.certs!.otherCa, ws), '-client-insecure'], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'url=tls-db.example.com\n');
    const warnings = r.stderr.split('\n').filter((l) => /WARNING .*-client-insecure/.test(l));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /not verified/);
    noNodeWarning(r.stderr);

    // Verified: no such warning.
    const verified = await runCli(tlsArgs(cluster.certs!.ca, ws), { timeoutMs: 40_000 });
    assert.equal(verified.code, 0, verified.stderr);
    assert.doesNotMatch(verified.stderr, /-client-insecure/);
    noNodeWarning(verified.stderr);
  } finally {
    ws.cleanup();
  }
});

test('the right CA with -basic-auth against a cluster with auth on: written, no raw Node warning', { timeout: 60_000 }, async () => {
  await cluster.enableAuth('tls-root-pw');
  const ws = new Workspace(files);
  try {
    const r = await runCli([...tlsArgs(cluster.certs!.ca, ws), '-basic-auth', '-username', 'root', '-password', 'tls-root-pw'], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'url=tls-db.example.com\n');
    noNodeWarning(r.stderr);
    assert.ok(!r.stderr.includes('tls-root-pw'), 'the password in the log');
  } finally {
    ws.cleanup();
  }
});
