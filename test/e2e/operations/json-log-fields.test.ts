// QA: issue 5 asks for `-log-format json` lines with structured fields (time, level, msg,
// resource, dest, revision, duration) so a log pipeline can filter by resource or destination.
// Today every line carries only level, msg and time; dest and resource are only inside msg.
// Fixed: Logger.with(fields); every line about a resource in a pass carries resource, dest and revision (pass.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import type { EtcdServer } from '../../helpers/etcd.js';

let etcd: EtcdServer;
etcdPerFile(async (server) => {
  etcd = server;
  await etcd.put('/jl/x', 'new');
});

test('-log-format json: the write and the failure of a resource carry resource and dest fields', async () => {
  const ws = new Workspace({
    'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/jl"]\n',
    'conf.d/bad.toml': '[template]\nsrc = "bad.tmpl"\ndest = "@OUT@/bad.conf"\nkeys = ["/jl"]\n',
    'templates/app.tmpl': 'x={{getv "/jl/x"}}\n',
    'templates/bad.tmpl': '{{getv "/jl/missing"}}\n',
  });
  try {
    writeFileSync(join(ws.out, 'app.conf'), 'old\n');
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-format', 'json'], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const updated = lines.find((l) => String(l.msg).includes('has been updated'));
    assert.ok(updated, r.stderr);
    assert.equal(updated.dest, join(ws.out, 'app.conf'), `no dest field: ${JSON.stringify(updated)}`);
    assert.match(String(updated.resource), /app\.toml/);
    const failed = lines.find((l) => l.level === 'error' && String(l.msg).includes('/jl/missing'));
    assert.ok(failed, r.stderr);
    assert.equal(failed.dest, join(ws.out, 'bad.conf'), `no dest field: ${JSON.stringify(failed)}`);
    assert.match(String(failed.resource), /bad\.toml/);
  } finally {
    ws.cleanup();
  }
});
