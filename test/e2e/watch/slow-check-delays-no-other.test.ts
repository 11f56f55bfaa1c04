// QA: in -watch, a slow check_cmd of one resource (a validator that takes seconds, or hangs until
// its 60 s timeout) holds back every other resource's render: the render pass checks resources
// one after the other. Measured: a's check_cmd "sleep 8" delayed an unrelated change of b by 8 s.
// The sibling defect for reload_cmd was fixed in d867798; the same applies to check_cmd.
// Was: watch renders ran one after another, each through its check and write. Now a single resource's render, check_cmd and write go on beside the next renders (each holds its own views, runtime/views.ts).
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

test('-watch: a slow check_cmd of resource a does not delay an unrelated change of resource b', { timeout: 40_000 }, async () => {
  const marker = `sleep 20.${process.pid}${Date.now() % 100000}`;
  const ws = new Workspace({
    'conf.d/a.toml': `[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\nkeys = ["/ca"]\ncheck_cmd = "${marker}"\n`,
    'conf.d/b.toml': '[template]\nsrc = "b.tmpl"\ndest = "@OUT@/b.conf"\nkeys = ["/cb"]\n',
    'templates/a.tmpl': 'a={{getv "/ca/v"}}\n',
    'templates/b.tmpl': 'b={{getv "/cb/v"}}\n',
  });
  await etcd.put('/ca/v', '1');
  await etcd.put('/cb/v', '1');
  // a is already current, so its first pass runs no check.
  writeFileSync(join(ws.out, 'a.conf'), 'a=1\n');
  const cli = spawnCli(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-level', 'info']);
  const read = (f: string) => (existsSync(join(ws.out, f)) ? readFileSync(join(ws.out, f), 'utf8') : '');
  try {
    assert.ok((await timeUntil(() => read('b.conf') === 'b=1\n', 10_000)) !== undefined, cli.stderr());
    await etcd.put('/ca/v', '2'); // a's check now runs for 20 s
    await sleep(500);
    await etcd.put('/cb/v', '2');
    const ms = await timeUntil(() => read('b.conf') === 'b=2\n', 8_000);
    assert.ok(ms !== undefined && ms < 2_000, `b's change waited ${ms ?? '> 8000'} ms behind a's check_cmd:\n${cli.stderr()}`);
    assert.equal(read('a.conf'), 'a=1\n', 'a was written before its check finished');
  } finally {
    cli.child.kill('SIGKILL');
    killMarked(marker);
    ws.cleanup();
  }
});
