// No line of a secret reaches -log-diff's log or -noop's diff, however many lines the secret has:
// a PEM private key as the value of a secret key, written, rotated (the old key is no longer in
// etcd), shown against a file of another layout, and in fan-out files rewritten and removed.
// Ordinary lines around it still show their changes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Workspace, runCli, type RunResult } from '../harness/onetime-harness.js';

const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Fails naming the first line of any secret found in the output. */
function assertNoSecretLine(r: RunResult, secrets: string[], what: string): void {
  for (const secret of secrets) {
    for (const line of secret.split('\n').filter((l) => l !== '')) {
      assert.ok(!r.stderr.includes(line), `${what}: a line of a secret is in the log: ${line}\n${r.stderr}`);
      assert.ok(!r.stdout.includes(line), `${what}: a line of a secret is on stdout: ${line}\n${r.stdout}`);
    }
  }
}

describe('no line of a multi-line secret in -log-diff or -noop', () => {
  let etcd: EtcdServer;
  etcdPerFile((started) => {
    etcd = started;
  });
  const cli = (ws: Workspace, ...flags: string[]) =>
    runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, ...flags]);

  test('a PEM key written, rotated, and shown against a hand-made file: -log-diff and -noop print none of its lines', async () => {
    const ws = new Workspace({
      'conf.d/tls.toml': '[template]\nprefix = "/pem1"\nsrc = "tls.tmpl"\ndest = "@OUT@/tls.conf"\nkeys = ["/app"]\n',
      'templates/tls.tmpl': 'server {\n  ssl_key = {{getv "/app/tls_secret"}}\n  port = {{getv "/app/port"}}\n}\n',
    });
    const [k1, k2, k3, k4] = [pem(), pem(), pem(), pem()];
    try {
      await etcd.put('/pem1/app/tls_secret', k1);
      await etcd.put('/pem1/app/port', '80');
      let r = await cli(ws, '-log-diff');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(ws.out, 'tls.conf'), 'utf8'), `server {\n  ssl_key = ${k1}\n  port = 80\n}\n`);
      assertNoSecretLine(r, [k1], 'new file');
      assert.match(r.stderr, /\+  ssl_key = <redacted>\n(\+\n)?\+  port = 80\n/);

      // Rotation: the old key is gone from etcd, only the file holds it.
      await etcd.put('/pem1/app/tls_secret', k2);
      await etcd.put('/pem1/app/port', '81');
      r = await cli(ws, '-noop');
      assertNoSecretLine(r, [k1, k2], '-noop, rotation');
      assert.match(r.stdout, /\+  port = 81\n/);
      r = await cli(ws, '-log-diff');
      assert.equal(r.code, 0, r.stderr);
      assertNoSecretLine(r, [k1, k2], '-log-diff, rotation');
      assert.match(r.stderr, /  ssl_key = <redacted>\n/);
      assert.match(r.stderr, /\+  port = 81\n/);

      // The key alone rotates: only redacted values changed.
      await etcd.put('/pem1/app/tls_secret', k3);
      r = await cli(ws, '-log-diff');
      assertNoSecretLine(r, [k2, k3], '-log-diff, key only');
      assert.match(r.stderr, /-log-diff .*tls\.conf: redacted values only changed/);

      // A file of another layout (hand-made, or written by another tool) holding a key.
      writeFileSync(join(ws.out, 'tls.conf'), `# by hand\nserver {\n  ssl_certificate_key_inline =\n${k4}  port = 80\n}\n`);
      r = await cli(ws, '-noop');
      assertNoSecretLine(r, [k3, k4], '-noop, other layout');
      // Where the old key was cannot be told from the template: only lines it knows are shown.
      assert.match(r.stdout, /^ server \{$/m);
      assert.match(r.stdout, /^-<redacted>$/m);
    } finally {
      ws.cleanup();
    }
  });

  test('fan-out files whose values are PEM keys: rewritten and removed with -log-diff, no line of any key', async () => {
    const ws = new Workspace({
      'conf.d/certs.toml':
        '[template]\nprefix = "/pem2"\nsrc = "cert.tmpl"\ndest = "@OUT@/{{base .Key}}.key"\nrange = "/certs/*"\nsecret_keys = ["/certs"]\n',
      'templates/cert.tmpl': '# key for {{base .Key}}\n{{.Value}}\n',
    });
    const [a1, a2, b1] = [pem(), pem(), pem()];
    try {
      await etcd.put('/pem2/certs/a', a1);
      await etcd.put('/pem2/certs/b', b1);
      let r = await cli(ws, '-log-diff');
      assert.equal(r.code, 0, r.stderr);
      assertNoSecretLine(r, [a1, b1], 'fan-out, new files');
      await etcd.put('/pem2/certs/a', a2);
      await etcd.etcdctl(['del', '/pem2/certs/b']);
      r = await cli(ws, '-noop');
      assertNoSecretLine(r, [a1, a2, b1], 'fan-out, -noop');
      r = await cli(ws, '-log-diff');
      assert.equal(r.code, 0, r.stderr);
      assertNoSecretLine(r, [a1, a2, b1], 'fan-out, rotated and removed');
      assert.match(r.stderr, /b\.key \(removed\):\n--- .*\n\+\+\+ \/dev\/null\n@@ .* @@\n-# key for b\n/);
    } finally {
      ws.cleanup();
    }
  });
});
