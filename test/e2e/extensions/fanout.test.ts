// Fan-out resources end to end against a real etcd: one file per /sites/* key, written by the
// built CLI in -onetime runs and while -watch follows puts and deletes; files of deleted sites
// disappear, files the resource did not write stay.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { WatchAgent } from '../harness/watch-harness.js';

function fanoutWorkspace(prefix: string): Workspace {
  return new Workspace({
    'conf.d/sites.toml': `[template]
prefix = "${prefix}"
src = "site.tmpl"
dest = "@OUT@/{{base .Key}}.conf"
range = "/sites/*"
keys = ["/upstream"]
mode = "0640"
reload_cmd = "echo reload >> @OUT@/../reloads"
`,
    'templates/site.tmpl': 'server {{base .Key}} listen {{.Value}} via {{getv "/upstream"}}\n',
  });
}

const confFiles = (ws: Workspace) => ws.outFiles().filter((f) => f.endsWith('.conf'));
const read = (ws: Workspace, f: string) => readFileSync(join(ws.out, f), 'utf8');
const reloads = (ws: Workspace) => ws.lines('reloads').length;

describe('fan-out resources against etcd', () => {
  let etcd: EtcdServer;
  etcdPerFile((started) => {
    etcd = started;
  });

  test('-onetime: one file per site, removed when its key goes, unrelated files untouched', async () => {
    const ws = fanoutWorkspace('/f1');
    try {
      await etcd.put('/f1/upstream', 'u1');
      await etcd.put('/f1/sites/alpha', '8080');
      await etcd.put('/f1/sites/beta', '8081');
      writeFileSync(join(ws.out, 'unrelated.conf'), 'not mine\n');
      const args = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];
      let r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(confFiles(ws), ['alpha.conf', 'beta.conf', 'unrelated.conf']);
      assert.equal(read(ws, 'alpha.conf'), 'server alpha listen 8080 via u1\n');
      assert.equal(read(ws, 'beta.conf'), 'server beta listen 8081 via u1\n');
      const manifest = JSON.parse(read(ws, '.tsconfd-manifest-sites.json'));
      assert.deepEqual(manifest.files, { 'alpha.conf': '/sites/alpha', 'beta.conf': '/sites/beta' });
      assert.equal(reloads(ws), 1, 'one reload for the whole fan-out');

      // Nothing changed: no write, no reload.
      r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(reloads(ws), 1);

      await etcd.etcdctl(['del', '/f1/sites/beta']);
      await etcd.put('/f1/sites/gamma', '9090');
      r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(confFiles(ws), ['alpha.conf', 'gamma.conf', 'unrelated.conf']);
      assert.equal(read(ws, 'unrelated.conf'), 'not mine\n');
      assert.match(r.stderr, /Removed .*\/beta\.conf: key \/sites\/beta is gone/);
      assert.equal(reloads(ws), 2);

      // A file named like a site but not written by the resource is never removed.
      writeFileSync(join(ws.out, 'delta.conf'), 'hand-made\n');
      await etcd.put('/f1/sites/delta', '1');
      await etcd.etcdctl(['del', '/f1/sites/delta']);
      r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(read(ws, 'delta.conf'), 'hand-made\n');
    } finally {
      ws.cleanup();
    }
  });

  test('-watch: sites added and deleted while watching appear and disappear', async () => {
    const ws = fanoutWorkspace('/f2');
    await etcd.put('/f2/upstream', 'u2');
    await etcd.put('/f2/sites/one', '1');
    writeFileSync(join(ws.out, 'keep.txt'), 'untouched\n');
    const agent = new WatchAgent(ws, ['-backend', 'etcdv3', '-node', etcd.endpoints[0]!]);
    const files = () => readdirSync(ws.out).filter((f) => f.endsWith('.conf')).sort().join(',');
    try {
      await agent.until('first render', () => files() === 'one.conf');
      await etcd.put('/f2/sites/two', '2');
      await agent.until('two.conf appears', () => files() === 'one.conf,two.conf');
      assert.equal(read(ws, 'two.conf'), 'server two listen 2 via u2\n');
      await etcd.put('/f2/upstream', 'u3');
      await agent.until('both files follow the shared key', () => read(ws, 'one.conf').includes('u3') && read(ws, 'two.conf').includes('u3'));
      await etcd.etcdctl(['del', '/f2/sites/one']);
      const manifest = () => JSON.parse(read(ws, '.tsconfd-manifest-sites.json')).files as Record<string, string>;
      await agent.until('one.conf disappears and leaves the manifest', () => files() === 'two.conf' && manifest()['one.conf'] === undefined);
      assert.equal(readFileSync(join(ws.out, 'keep.txt'), 'utf8'), 'untouched\n');
      assert.deepEqual(manifest(), { 'two.conf': '/sites/two' });
      // One reload per pass, not per file: start, add, shared key (two files), delete.
      await agent.until('four reloads', () => reloads(ws) === 4);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(reloads(ws), 4);
    } finally {
      assert.equal(await agent.stop(), 0);
      ws.cleanup();
    }
  });
});
