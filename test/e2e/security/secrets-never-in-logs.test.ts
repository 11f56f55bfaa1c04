// QA: passwords never reach the logs, even at debug, from a flag, CONFD_PASSWORD or confd.toml,
// in text and json formats; key values never appear above debug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import type { EtcdServer } from '../../helpers/etcd.js';

const PASSWORD = 'Pw-qa-7f3kZ9';
const VALUE = 'value-qa-Q8xw2';
let etcd: EtcdServer;
etcdPerFile(async (server) => {
  etcd = server;
  await etcd.put('/sec/db/pass', VALUE);
  await etcd.enableAuth(PASSWORD);
});

const files = {
  'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/sec"]\n',
  'templates/app.tmpl': 'pass={{getv "/sec/db/pass"}}\n',
};

for (const format of ['text', 'json']) {
  for (const via of ['flag', 'env', 'config-file'] as const) {
    test(`-log-level debug -log-format ${format}, password by ${via}: renders, and the password is never logged`, async () => {
      const ws = new Workspace(files);
      try {
        const args = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-basic-auth', '-username', 'root'];
        args.push('-log-level', 'debug', '-log-format', format);
        const env: Record<string, string> = {};
        if (via === 'flag') args.push('-password', PASSWORD);
        if (via === 'env') env.CONFD_PASSWORD = PASSWORD;
        if (via === 'config-file') {
          const cfg = join(ws.root, 'confd.toml');
          writeFileSync(cfg, `password = "${PASSWORD}"\n`);
          args.push('-config-file', cfg);
        }
        const r = await runCli(args, { env, timeoutMs: 30_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), `pass=${VALUE}\n`);
        assert.ok(!r.stderr.includes(PASSWORD), 'password in the log');
        assert.ok(!r.stdout.includes(PASSWORD), 'password on stdout');
        assert.match(r.stderr, /DEBUG|"debug"/, 'debug logging was not on, so the test proves nothing');
      } finally {
        ws.cleanup();
      }
    });
  }
}

test('-log-level info (the default), a write and a failing render: no key value in the log', async () => {
  const ws = new Workspace({
    ...files,
    'conf.d/bad.toml': '[template]\nsrc = "bad.tmpl"\ndest = "@OUT@/bad.conf"\nkeys = ["/sec"]\n',
    'templates/bad.tmpl': '{{getv "/sec/db/pass"}}{{getv "/sec/missing"}}\n',
  });
  try {
    writeFileSync(join(ws.out, 'app.conf'), 'old\n');
    const r = await runCli(
      ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-basic-auth', '-username', 'root', '-password', PASSWORD],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /INFO/);
    assert.ok(!r.stderr.includes(VALUE), `a key value in the info log:\n${r.stderr}`);
    assert.ok(!r.stderr.includes(PASSWORD));
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), `pass=${VALUE}\n`);
  } finally {
    ws.cleanup();
  }
});

test('a wrong password is refused with a clear error that does not echo it; the file is untouched', async () => {
  const ws = new Workspace(files);
  try {
    writeFileSync(join(ws.out, 'app.conf'), 'old\n');
    const wrong = 'Wrong-qa-pw-55';
    const r = await runCli(
      ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-basic-auth', '-username', 'root', '-password', wrong, '-log-level', 'debug'],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /authentication failed|credentials/i);
    assert.ok(!r.stderr.includes(wrong));
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old\n');
    assert.deepEqual(ws.outFiles(), ['app.conf']);
  } finally {
    ws.cleanup();
  }
});
