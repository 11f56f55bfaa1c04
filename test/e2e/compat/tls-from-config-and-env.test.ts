// QA: the seed's TLS cluster configured the ways confd users configure it without flags:
// confd.toml (client_cakeys, client_cert, client_key, nodes) and CONFD_CLIENT_* variables;
// a key value never logged; the wrong CA from the file is refused and the file stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { startTlsCluster, type EtcdServer } from '../../helpers/etcd.js';

let cluster: EtcdServer;
before(async () => {
  ensureBuilt();
  cluster = await startTlsCluster();
  await cluster.put('/tls/db/url', 'tls-db.example.com');
});
after(async () => cluster?.stop());

const files = {
  'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/tls"]\n',
  'templates/app.tmpl': 'url={{getv "/tls/db/url"}}\n',
};

test('confd.toml with client_cakeys/client_cert/client_key and three https nodes', { timeout: 60_000 }, async () => {
  const c = cluster.certs!;
  const ws = new Workspace(files);
  try {
    const cfg = join(ws.root, 'confd.toml');
    writeFileSync(
      cfg,
      [
        'backend = "etcdv3"',
        `nodes = [${cluster.endpoints.map((e) => JSON.stringify(e)).join(', ')}]`,
        `client_cakeys = "${c.ca}"`,
        `client_cert = "${c.client.cert}"`,
        `client_key = "${c.client.key}"`,
        `confdir = "${ws.confdir}"`,
        '',
      ].join('\n'),
    );
    const r = await runCli(['-onetime', '-config-file', cfg], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'url=tls-db.example.com\n');

    // The wrong CA, by the same file: refused, nothing written.
    writeFileSync(join(ws.out, 'app.conf'), 'old\n');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(c.ca, c.otherCa));
    const bad = await runCli(['-onetime', '-config-file', cfg], { timeoutMs: 30_000 });
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /certificate|TLS/i);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old\n');
    assert.deepEqual(ws.outFiles(), ['app.conf']);
  } finally {
    ws.cleanup();
  }
});

test('CONFD_CLIENT_CAKEYS / CONFD_CLIENT_CERT / CONFD_CLIENT_KEY and CONFD_NODE (comma list)', { timeout: 60_000 }, async () => {
  const c = cluster.certs!;
  const ws = new Workspace(files);
  try {
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-confdir', ws.confdir], {
      env: {
        CONFD_NODE: cluster.endpoints.join(','),
        CONFD_CLIENT_CAKEYS: c.ca,
        CONFD_CLIENT_CERT: c.client.cert,
        CONFD_CLIENT_KEY: c.client.key,
      },
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'url=tls-db.example.com\n');
    assert.ok(!r.stderr.includes('tls-db.example.com'), 'a value logged at info');
  } finally {
    ws.cleanup();
  }
});
