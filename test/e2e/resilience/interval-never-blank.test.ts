// QA: -interval alone is a long-running mode; a prefix that had keys at start-up and then
// answers empty must not blank the destination (issue 4: min_keys defaults to 1 for any prefix
// that had keys at start-up). -watch honours this; -interval rewrote the file to an empty list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import type { EtcdServer } from '../../helpers/etcd.js';
import { sleep, waitFor } from '../../helpers/wait.js';

let etcd: EtcdServer;
etcdPerFile((server) => (etcd = server));

test('-interval: deleting every key of a prefix keeps the last good destination', async () => {
  const ws = new Workspace({
    'conf.d/up.toml': '[template]\nsrc = "up.tmpl"\ndest = "@OUT@/up.conf"\nkeys = ["/upstreams"]\n',
    'templates/up.tmpl': 'upstream app {\n{{range gets "/upstreams/*"}}  server {{.Value}};\n{{end}}}\n',
  });
  await etcd.put('/upstreams/a', '10.0.0.1:80');
  const cli = spawnCli(['-interval', '1', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-level', 'info']);
  const dest = join(ws.out, 'up.conf');
  try {
    const good = 'upstream app {\n  server 10.0.0.1:80;\n}\n';
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === good, 8_000), `first render missing:\n${cli.stderr()}`);
    await etcd.etcdctl(['del', '/upstreams', '--prefix']);
    await sleep(3_500); // three intervals
    assert.equal(readFileSync(dest, 'utf8'), good, `the upstream list was blanked by an empty prefix:\n${cli.stderr()}`);
  } finally {
    await cli.stop();
    ws.cleanup();
  }
});

test('-interval -backend file: a keys file emptied for a moment (non-atomic editor save) keeps the last good destination', async () => {
  const ws = new Workspace({
    'conf.d/up.toml': '[template]\nsrc = "up.tmpl"\ndest = "@OUT@/up.conf"\nkeys = ["/upstreams"]\n',
    'templates/up.tmpl': 'upstream app {\n{{range gets "/upstreams/*"}}  server {{.Value}};\n{{end}}}\n',
  });
  const keys = join(ws.root, 'keys.yaml');
  writeFileSync(keys, 'upstreams:\n  a: 10.0.0.1:80\n');
  const cli = spawnCli(['-interval', '1', '-backend', 'file', '-file', keys, '-confdir', ws.confdir, '-log-level', 'info']);
  const dest = join(ws.out, 'up.conf');
  try {
    const good = 'upstream app {\n  server 10.0.0.1:80;\n}\n';
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === good, 8_000), `first render missing:\n${cli.stderr()}`);
    writeFileSync(keys, '');
    await sleep(2_500);
    assert.equal(readFileSync(dest, 'utf8'), good, `the upstream list was blanked by an empty keys file:\n${cli.stderr()}`);
  } finally {
    await cli.stop();
    ws.cleanup();
  }
});
