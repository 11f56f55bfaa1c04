// QA: etcd values are bytes. confd (Go strings are bytes) writes a value that is not valid UTF-8
// (Latin-1 text from a legacy tool, a binary blob) byte for byte, and `len` counts its bytes.
// tsconfd decodes values as UTF-8 and replaces each invalid byte with U+FFFD (EF BF BD): the file
// differs from confd's and `len` of `caf\xe9 \xff\xfe end` is 17 instead of 12.
// Suspected: src/backends/etcdv3 (value decoding) and the store/engine string model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../e2e/onetime-harness.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import etcd3 from 'etcd3';

let etcd: EtcdServer;
before(async () => {
  ensureBuilt();
  etcd = await startEtcd();
  const client = new etcd3.Etcd3({ hosts: etcd.endpoints });
  await client.put('/bin/latin1').value(Buffer.from('caf\xe9 \xff\xfe end', 'latin1'));
  client.close();
});
after(async () => etcd?.stop());

test('a value that is not UTF-8 is written byte for byte, and len counts its bytes', async () => {
  const ws = new Workspace({
    'conf.d/a.toml': '[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\nkeys = ["/bin"]\n',
    'templates/a.tmpl': '{{getv "/bin/latin1"}}|{{len (getv "/bin/latin1")}}\n',
  });
  try {
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(ws.out, 'a.conf')), Buffer.concat([Buffer.from('caf\xe9 \xff\xfe end', 'latin1'), Buffer.from('|12\n')]));
  } finally {
    ws.cleanup();
  }
});
