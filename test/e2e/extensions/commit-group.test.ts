// Commit groups end to end against a real etcd: three nginx-like snippets validated together by
// one check script over the staging tree. One invalid snippet leaves all three old files in
// place (no stage files left, no reload); once valid, all three are replaced and one reload runs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { WatchAgent } from '../harness/watch-harness.js';

// Validates the staged tree as a whole: every snippet must say `listen <port>;` and no two may
// listen on the same port (a check no single file can do).
const CHECK = `#!/bin/sh
set -e
root="$1"; dir="$2"
for f in "$root$dir"/*.conf; do
  grep -Eq '^listen [0-9]+;$' "$f" || { echo "invalid: $f"; exit 1; }
done
dups=$(cat "$root$dir"/*.conf | sort | uniq -d)
[ -z "$dups" ] || { echo "duplicate: $dups"; exit 1; }
`;

function groupWorkspace(prefix = '/grp'): Workspace {
  const files: Record<string, string> = { 'check.sh': CHECK };
  for (const name of ['a', 'b', 'c']) {
    files[`conf.d/${name}.toml`] = `[template]
prefix = "${prefix}"
src = "snippet.tmpl"
dest = "@OUT@/${name}.conf"
keys = ["/${name}"]
commit_group = "nginx"
group_check_cmd = "sh @CONFDIR@/check.sh {{.root}} @OUT@"
reload_cmd = "echo reload >> @OUT@/../reloads"
`;
    files[`templates/snippet.tmpl`] = '{{range gets "/*/port"}}listen {{.Value}};\n{{end}}';
  }
  const ws = new Workspace(files);
  for (const name of ['a', 'b', 'c']) {
    const p = join(ws.confdir, `conf.d/${name}.toml`);
    writeFileSync(p, readFileSync(p, 'utf8').replaceAll('@CONFDIR@', ws.confdir));
  }
  return ws;
}

describe('commit groups against etcd', () => {
  let etcd: EtcdServer;
  etcdPerFile((started) => {
    etcd = started;
  });

  test('one invalid snippet keeps all three old files; a valid set commits all with one reload', async () => {
    const ws = groupWorkspace();
    const args = ['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir];
    const reloads = () => ws.lines('reloads').length;
    const snapshot = () => Object.fromEntries(['a', 'b', 'c'].map((n) => [n, readFileSync(join(ws.out, `${n}.conf`), 'utf8')]));
    try {
      await etcd.put('/grp/a/port', '80');
      await etcd.put('/grp/b/port', '81');
      await etcd.put('/grp/c/port', '82');
      let r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(snapshot(), { a: 'listen 80;\n', b: 'listen 81;\n', c: 'listen 82;\n' });
      assert.equal(reloads(), 1, 'one reload for the group');

      // c becomes invalid: a, b and c all keep their old content.
      await etcd.put('/grp/a/port', '90');
      await etcd.put('/grp/b/port', '91');
      await etcd.put('/grp/c/port', 'not-a-port');
      r = await runCli(args);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /commit group "nginx" not committed: group check failed: exit status 1/);
      assert.match(r.stderr, /invalid: .*\/c\.conf/);
      assert.deepEqual(snapshot(), { a: 'listen 80;\n', b: 'listen 81;\n', c: 'listen 82;\n' });
      assert.deepEqual(readdirSync(ws.out).sort(), ['a.conf', 'b.conf', 'c.conf'], 'no stage files left');
      assert.equal(reloads(), 1);

      // A conflict only the whole tree shows: two snippets on one port.
      await etcd.put('/grp/c/port', '90');
      r = await runCli(args);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /duplicate: listen 90;/);
      assert.deepEqual(snapshot(), { a: 'listen 80;\n', b: 'listen 81;\n', c: 'listen 82;\n' });

      await etcd.put('/grp/c/port', '92');
      r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(snapshot(), { a: 'listen 90;\n', b: 'listen 91;\n', c: 'listen 92;\n' });
      assert.equal(reloads(), 2);
    } finally {
      ws.cleanup();
    }
  });

  test('-watch: a change to one member re-checks the whole group; invalid keeps all, valid commits all', async () => {
    const ws = groupWorkspace('/wg');
    await etcd.put('/wg/a/port', '80');
    await etcd.put('/wg/b/port', '81');
    await etcd.put('/wg/c/port', '82');
    const agent = new WatchAgent(ws, ['-backend', 'etcdv3', '-node', etcd.endpoints[0]!]);
    const read = (n: string) => (existsSync(join(ws.out, n)) ? readFileSync(join(ws.out, n), 'utf8') : '');
    try {
      await agent.until('first render', () => read('a.conf') === 'listen 80;\n' && read('b.conf') === 'listen 81;\n' && read('c.conf') === 'listen 82;\n');
      // b takes c's port: only the staged tree as a whole shows the conflict.
      await etcd.put('/wg/b/port', '82');
      await agent.until('the group check to fail', () => /commit group "nginx" not committed: group check failed/.test(agent.logText()));
      assert.equal(read('b.conf'), 'listen 81;\n');
      // Another member's turn may be re-checking the group meanwhile; its stage files go too.
      await agent.until('no stage files', () => readdirSync(ws.out).sort().join() === 'a.conf,b.conf,c.conf');
      assert.equal(read('b.conf'), 'listen 81;\n');
      await etcd.put('/wg/c/port', '83');
      await agent.until('b and c committed', () => read('b.conf') === 'listen 82;\n' && read('c.conf') === 'listen 83;\n');
      assert.equal(read('a.conf'), 'listen 80;\n');
    } finally {
      assert.equal(await agent.stop(), 0);
      ws.cleanup();
    }
  });
});
