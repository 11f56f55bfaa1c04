// QA: disaster recovery — the etcd cluster is rebuilt empty (data dir lost, cluster re-created)
// and the keys are written again by the service registry. Its revisions start again from 1, far
// below the revision tsconfd last saw. tsconfd -watch says "etcd watch re-established" but resumes
// from its old revision, which the new cluster reaches only after hundreds of writes: every
// update is silently missed until a restart. etcd's response header carries the cluster_id and
// the current revision; either one shows the cluster is a different one, and a full re-read fixes it.
// Was: the watch was re-created from the old revision; now a store head below it ends the watch as a compaction does (re-read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import type { EtcdServer } from '../../helpers/etcd.js';
import { waitFor } from '../../helpers/wait.js';

let etcd: EtcdServer;
etcdPerFile((server) => (etcd = server));

test('-watch: updates written to a rebuilt (empty, revision reset) etcd reach the file', { timeout: 45_000 }, async () => {
  const ws = new Workspace({
    'conf.d/a.toml': '[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\nkeys = ["/rs"]\n',
    'templates/a.tmpl': '{{range gets "/rs/*"}}{{.Key}}={{.Value}}\n{{end}}',
  });
  // Push the old cluster's revision well above what the new one will reach.
  await etcd.etcdctl(['txn'], { input: Array.from({ length: 60 }, (_, i) => `put /bump/k${i} v`).join('\n') + '\n\n\n' }).catch(() => undefined);
  for (let i = 0; i < 40; i++) await etcd.put('/bump/x', String(i));
  await etcd.put('/rs/a', 'one');
  const cli = spawnCli(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-level', 'info']);
  const dest = join(ws.out, 'a.conf');
  try {
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === '/rs/a=one\n', 10_000), cli.stderr());
    const member = etcd.members[0]!;
    await member.stop();
    rmSync(member.dataDir, { recursive: true, force: true });
    await member.start();
    await etcd.put('/rs/a', 'two');
    await etcd.put('/rs/b', 'three');
    assert.ok(
      await waitFor(() => readFileSync(dest, 'utf8') === '/rs/a=two\n/rs/b=three\n', 12_000),
      `the rebuilt cluster's keys never reached the file (still ${JSON.stringify(readFileSync(dest, 'utf8'))}):\n${cli.stderr()}`,
    );
  } finally {
    await cli.stop();
    ws.cleanup();
  }
});
