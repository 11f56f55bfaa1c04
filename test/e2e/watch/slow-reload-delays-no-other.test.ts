// QA: in -watch, a slow or hung reload_cmd of one resource (an nginx reload that takes long, an
// HTTP reload to a pod that does not answer) holds back every other resource until that command
// finishes or hits its timeout (60 s by default): an unrelated resource's change waits. Measured:
// with command_timeout = "6s" on a, b's put took 5.6 s to reach b.conf.
// Was: render passes waited for the previous pass's reloads, and all reloads ran on one chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import type { EtcdServer } from '../../helpers/etcd.js';
import { sleep, timeUntil } from '../../helpers/wait.js';
import { killMarked } from '../../helpers/proc.js';

let etcd: EtcdServer;
etcdPerFile((server) => (etcd = server));

test('-watch: a hung reload_cmd of resource a does not delay an unrelated change of resource b', { timeout: 40_000 }, async () => {
  // A unique fractional sleep, so the hung reload can be found and killed afterwards.
  const marker = `sleep 20.${process.pid}${Date.now() % 100000}`;
  const ws = new Workspace({
    'conf.d/a.toml': `[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\nkeys = ["/ha"]\nreload_cmd = "${marker}"\n`,
    'conf.d/b.toml': '[template]\nsrc = "b.tmpl"\ndest = "@OUT@/b.conf"\nkeys = ["/hb"]\n',
    'templates/a.tmpl': 'a={{getv "/ha/v"}}\n',
    'templates/b.tmpl': 'b={{getv "/hb/v"}}\n',
  });
  await etcd.put('/ha/v', '1');
  await etcd.put('/hb/v', '1');
  // a is already current, so its first pass writes nothing and runs no reload.
  writeFileSync(join(ws.out, 'a.conf'), 'a=1\n');
  // detached: its own process group, so the test can kill the hung reload too
  const cli = spawnCli(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-level', 'info'], { detached: true });
  const read = (f: string) => (existsSync(join(ws.out, f)) ? readFileSync(join(ws.out, f), 'utf8') : '');
  try {
    assert.ok((await timeUntil(() => read('b.conf') === 'b=1\n', 10_000)) !== undefined, cli.stderr());
    await etcd.put('/ha/v', '2');
    assert.ok((await timeUntil(() => read('a.conf') === 'a=2\n', 5_000)) !== undefined, cli.stderr());
    await sleep(300);
    await etcd.put('/hb/v', '2');
    const ms = await timeUntil(() => read('b.conf') === 'b=2\n', 8_000);
    assert.ok(ms !== undefined && ms < 2_000, `b's change waited ${ms ?? '> 8000'} ms behind a's reload:\n${cli.stderr()}`);
  } finally {
    try {
      process.kill(-cli.child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    killMarked(marker);
    ws.cleanup();
  }
});
