// QA: etcd keys and values are bytes. confd (Go strings are bytes) writes a value that is not valid
// UTF-8 (Latin-1 text from a legacy tool, a binary blob) byte for byte, `len` counts its bytes, and
// key names that are not UTF-8 sort, print and match as their bytes.
// Was: tsconfd decoded keys and values as UTF-8 and replaced each invalid byte with U+FFFD (EF BF BD):
// the file differed from confd's and `len` of `caf\xe9 \xff\xfe end` was 17 instead of 11 (Go 1.19:
// 11; the pending reproduction said 12, a miscount).
// Now: src/bytes.ts keeps such bytes (surrogateescape); the engine's goldens with invalid UTF-8 are
// test/template/go/cases/bytes-invalid-utf8.json, recorded from Go 1.19.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { until } from '../../helpers/wait.js';
import etcd3 from 'etcd3';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

let etcd: EtcdServer;
let client: etcd3.Etcd3;
before(async () => {
  ensureBuilt();
  etcd = await startEtcd();
  client = new etcd3.Etcd3({ hosts: etcd.endpoints });
  await client.put('/bin/latin1').value(latin1('caf\xe9 \xff\xfe end'));
  // Key names: "kA", "ké" (valid UTF-8), "k\xe9" and "k\xff" (not UTF-8); byte order is kA, ké (c3 a9), k\xe9, k\xff.
  await client.put(latin1('/names/k\xff')).value('v-ff');
  await client.put(latin1('/names/k\xe9')).value('v-e9');
  await client.put(Buffer.from('/names/ké', 'utf8')).value('v-utf8');
  await client.put('/names/kA').value('v-A');
});
after(async () => {
  client?.close();
  await etcd?.stop();
});

test('a value that is not UTF-8 is written byte for byte, and len counts its bytes', async () => {
  const ws = new Workspace({
    'conf.d/a.toml': '[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\nkeys = ["/bin"]\n',
    'templates/a.tmpl': '{{getv "/bin/latin1"}}|{{len (getv "/bin/latin1")}}|{{printf "%x" (getv "/bin/latin1")}}|{{printf "%q" (getv "/bin/latin1")}}\n',
  });
  try {
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      readFileSync(join(ws.out, 'a.conf')),
      Buffer.concat([latin1('caf\xe9 \xff\xfe end'), Buffer.from('|11|636166e920fffe20656e64|"caf\\xe9 \\xff\\xfe end"\n')]),
    );
  } finally {
    ws.cleanup();
  }
});

test('key names that are not UTF-8 keep their bytes: byte order, base, printf %x, getv by a "\\x.." literal', async () => {
  const ws = new Workspace({
    'conf.d/n.toml': '[template]\nsrc = "n.tmpl"\ndest = "@OUT@/n.conf"\nkeys = ["/names"]\n',
    'templates/n.tmpl':
      '{{range gets "/names/*"}}{{base .Key}}={{.Value}} {{printf "%x" .Key}}\n{{end}}' +
      '{{range ls "/names"}}{{.}},{{end}}\n' +
      '{{getv "/names/k\\xff"}} {{exists "/names/k\\xe9"}} {{len (base (index (gets "/names/*") 3).Key)}}\n',
  });
  try {
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const want = Buffer.concat([
      Buffer.from('kA=v-A 2f6e616d65732f6b41\n'),
      Buffer.from('ké=v-utf8 2f6e616d65732f6bc3a9\n', 'utf8'),
      latin1('k\xe9=v-e9 2f6e616d65732f6be9\n'),
      latin1('k\xff=v-ff 2f6e616d65732f6bff\n'),
      Buffer.from('kA,ké,', 'utf8'),
      latin1('k\xe9,k\xff,\n'),
      Buffer.from('v-ff true 2\n'),
    ]);
    assert.deepEqual(readFileSync(join(ws.out, 'n.conf')).toString('hex'), want.toString('hex'));
  } finally {
    ws.cleanup();
  }
});

test('-watch: a change to a value that is not UTF-8, and a new key name that is not, arrive as bytes', { timeout: 40_000 }, async () => {
  const ws = new Workspace({
    'conf.d/w.toml': '[template]\nsrc = "w.tmpl"\ndest = "@OUT@/w.conf"\nkeys = ["/live"]\n',
    'templates/w.tmpl': '{{range gets "/live/*"}}{{base .Key}}={{.Value}};{{end}}\n',
  });
  await client.put('/live/a').value('1');
  const cli = spawnCli(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir]);
  const file = join(ws.out, 'w.conf');
  const read = () => (existsSync(file) ? readFileSync(file) : Buffer.alloc(0));
  try {
    await until('the first render', () => read().equals(Buffer.from('a=1;\n')), 15_000, cli.stderr);
    await client.put('/live/a').value(latin1('\xff\xfe'));
    await client.put(latin1('/live/b\xe9')).value(latin1('x\x80'));
    const want = Buffer.concat([latin1('a=\xff\xfe;b\xe9=x\x80;\n')]);
    await until('the changes as bytes', () => read().equals(want), 15_000, () => `${read().toString('hex')}\n${cli.stderr()}`);
  } finally {
    await cli.stop();
    ws.cleanup();
  }
});

test('a fan-out key whose file name would not be UTF-8 is refused (no "\\xef\\xbf\\xbd" file), other keys are written', async () => {
  await client.put('/sites/ok').value('1');
  await client.put(latin1('/sites/b\xff')).value('2');
  const ws = new Workspace({
    'conf.d/f.toml': '[template]\nsrc = "f.tmpl"\ndest = "@OUT@/{{base .Key}}.conf"\nrange = "/sites/*"\n',
    'templates/f.tmpl': '{{.Value}}\n',
  });
  try {
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(readFileSync(join(ws.out, 'ok.conf'), 'utf8'), '1\n', r.stderr);
    // The safe-name rule (ASCII only, docs/extensions.md) refuses it, naming the key.
    assert.match(r.stderr, /dest for key "\/sites\/b\\udcff" renders to file name .*is not a safe file name.*key refused/);
    assert.equal(existsSync(join(ws.out, 'b\ufffd.conf')), false);
  } finally {
    ws.cleanup();
  }
});
