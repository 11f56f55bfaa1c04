// A fan-out never overwrites, then deletes, a file it did not write: a hand-made file in the
// fan-out directory with the name a key renders to is refused for that key (an error naming the
// key and the file; the other keys are written) and stays as it was when the key goes. A file
// the fan-out wrote (in its manifest) is still its own to update and remove.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Workspace, runCli } from '../harness/onetime-harness.js';

describe('a fan-out never takes over a file it did not write', () => {
  let etcd: EtcdServer;
  etcdPerFile((started) => {
    etcd = started;
  });

  test('-onetime: a hand-made default.conf and key /sites/default: the key is refused, the file kept through the key\'s life, the other keys written', async () => {
    const ws = new Workspace({
      'conf.d/sites.toml': `[template]\nprefix = "/own"\nsrc = "site.tmpl"\ndest = "@OUT@/{{base .Key}}.conf"\nrange = "/sites/*"\n`,
      'templates/site.tmpl': 'site {{base .Key}} {{.Value}}\n',
    });
    const args = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];
    const read = (f: string) => readFileSync(join(ws.out, f), 'utf8');
    const manifest = () => JSON.parse(read('.tsconfd-manifest-sites.json')).files;
    try {
      writeFileSync(join(ws.out, 'default.conf'), 'hand-made\n');
      await etcd.put('/own/sites/default', 'd');
      await etcd.put('/own/sites/other', 'o');
      let r = await runCli(args);
      assert.notEqual(r.code, 0, 'the refused key is an error');
      assert.match(r.stderr, /key "\/sites\/default" refused: .*\/default\.conf exists and was not written by this fan-out/);
      assert.equal(read('default.conf'), 'hand-made\n');
      assert.equal(read('other.conf'), 'site other o\n');
      assert.deepEqual(manifest(), { 'other.conf': '/sites/other' });

      // The key goes: the hand-made file stays.
      await etcd.etcdctl(['del', '/own/sites/default']);
      r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(read('default.conf'), 'hand-made\n');

      // A file the fan-out wrote is its own: edited by hand, it is rendered again; its key gone, removed.
      writeFileSync(join(ws.out, 'other.conf'), 'edited\n');
      await etcd.put('/own/sites/other', 'o2');
      r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(read('other.conf'), 'site other o2\n');
      await etcd.etcdctl(['del', '/own/sites/other']);
      await etcd.put('/own/sites/third', 't');
      r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(ws.outFiles(), ['.tsconfd-manifest-sites.json', 'default.conf', 'third.conf']);
      assert.equal(read('default.conf'), 'hand-made\n');
    } finally {
      ws.cleanup();
    }
  });

  test('-noop: the refusal is reported and nothing is written', async () => {
    const ws = new Workspace({
      'conf.d/sites.toml': `[template]\nprefix = "/own2"\nsrc = "site.tmpl"\ndest = "@OUT@/{{base .Key}}.conf"\nrange = "/sites/*"\n`,
      'templates/site.tmpl': 'site {{.Value}}\n',
    });
    try {
      writeFileSync(join(ws.out, 'default.conf'), 'hand-made\n');
      await etcd.put('/own2/sites/default', 'd');
      const r = await runCli(['-onetime', '-noop', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir]);
      assert.match(r.stderr, /key "\/sites\/default" refused/);
      assert.doesNotMatch(r.stdout, /\+site d/);
      assert.deepEqual(ws.outFiles(), ['default.conf']);
    } finally {
      ws.cleanup();
    }
  });
});
