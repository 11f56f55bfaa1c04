// discover_keys end to end: the seed example with no `keys` renders byte for byte from a real
// etcd; -print-keys shows what each resource fetches; a key built with printf is refused with
// a request for `keys`. Also -log-diff against etcd, with a password redacted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { ROOT, SEED_EXPECTED, Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';

describe('keys discovered from templates, against etcd', () => {
  let etcd: EtcdServer;
  before(async () => {
    ensureBuilt();
    etcd = await startEtcd();
    const seed: Record<string, string> = {
      '/docker/node/n01': '192.168.100.111',
      '/docker/node/n02': '192.168.100.112',
      '/docker/node/n03': '192.168.100.113',
      '/docker/service/s01': '1005',
      '/docker/service/s02': '1007',
      '/docker/unrelated/x': 'y',
    };
    for (const [k, v] of Object.entries(seed)) await etcd.put(k, v);
  });
  after(async () => {
    await etcd?.stop();
  });

  function seedWorkspace(): Workspace {
    const ws = new Workspace({
      'conf.d/nginx.toml': '[template]\nprefix = "/docker"\nsrc = "nginx.tmpl"\ndest = "@OUT@/myapp.conf"\nmode = "0644"\ndiscover_keys = true\n',
    });
    cpSync(join(ROOT, 'templates/nginx.tmpl'), join(ws.confdir, 'templates/nginx.tmpl'));
    return ws;
  }

  test('the seed example without keys renders byte for byte', async () => {
    const ws = seedWorkspace();
    try {
      const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readFileSync(join(ws.out, 'myapp.conf')), readFileSync(SEED_EXPECTED));
    } finally {
      ws.cleanup();
    }
  });

  test('-print-keys lists the discovered prefixes (prefix applied) and exits without a backend', async () => {
    const ws = seedWorkspace();
    try {
      const r = await runCli(['-print-keys', '-confdir', ws.confdir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${join(ws.confdir, 'conf.d/nginx.toml')} (dest ${ws.out}/myapp.conf; discovered from the template):\n  /docker/node\n  /docker/service\n`);
      const p = await runCli(['-print-keys', '-confdir', ws.confdir, '-prefix', '/other']);
      assert.match(p.stdout, /\n {2}\/other\/node\n {2}\/other\/service\n$/);
    } finally {
      ws.cleanup();
    }
  });

  test('a key built at run time is refused with its position and a request for keys', async () => {
    const ws = new Workspace({
      'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\ndiscover_keys = true\n',
      'templates/app.tmpl': '{{getv "/a"}}\n{{getv (printf "/svc/%s" "x")}}\n',
    });
    try {
      const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /FATAL Cannot process template resource .*app\.toml - discover_keys: app\.tmpl:2:\d+: getv has no string literal key; .*list them in keys = \[\.\.\.\]/);
      assert.deepEqual(ws.outFiles(), []);
    } finally {
      ws.cleanup();
    }
  });

  test('-log-diff logs each real change with password values redacted', async () => {
    await etcd.put('/audit/db/host', 'db1');
    await etcd.put('/audit/db/password', 'S3cretPass');
    const ws = new Workspace({
      'conf.d/db.toml': '[template]\nprefix = "/audit"\nsrc = "db.tmpl"\ndest = "@OUT@/db.ini"\nkeys = ["/db"]\n',
      'templates/db.tmpl': 'host={{getv "/db/host"}}\npassword={{getv "/db/password"}}\n',
    });
    const args = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-diff'];
    try {
      let r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /-log-diff .*db\.ini \(new file\):\n--- .*\n\+\+\+ .*\n@@ -0,0 \+1,2 @@\n\+host=db1\n\+password=<redacted>\n/);
      await etcd.put('/audit/db/host', 'db2');
      await etcd.put('/audit/db/password', 'N3wPassword');
      r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /\n-host=db1\n\+host=db2\n password=<redacted>\n/);
      assert.equal(readFileSync(join(ws.out, 'db.ini'), 'utf8'), 'host=db2\npassword=N3wPassword\n');
      assert.doesNotMatch(r.stderr, /S3cretPass|N3wPassword/);
      // Unchanged: nothing logged.
      r = await runCli(args);
      assert.doesNotMatch(r.stderr, /-log-diff/);
    } finally {
      ws.cleanup();
    }
  });
});
