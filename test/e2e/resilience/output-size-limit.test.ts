// QA: a huge output never crashes the agent and never reaches its destination. A template that
// produced ~600 MB failed with "Invalid string length" and no position (confd writes it: 26 s,
// 28 MB); one producing 10 GB aborted V8 (exit 134, 4.3 GB RSS after 20 s). Now a render stops
// once its output passes -max-output-bytes (default 256 MiB, CONFD_MAX_OUTPUT_BYTES, confd.toml
// max_output_bytes) with a located error naming the limit; the old dest stays as it was.
// The bound is lowered here so each render stays small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import type { EtcdServer } from '../../helpers/etcd.js';
import { until } from '../../helpers/wait.js';

let etcd: EtcdServer;
etcdPerFile(async (server) => {
  etcd = server;
  await etcd.put('/big/n', '5000');
  await etcd.put('/big/blob', 'x'.repeat(30_000));
});

const LINE = 'server 10.0.0.1:8080 max_fails=3 fail_timeout=30s; # padding padding padding padding pad\n'; // 89 bytes

function workspace(): Workspace {
  const ws = new Workspace({
    'conf.d/big.toml': '[template]\nsrc = "big.tmpl"\ndest = "@OUT@/big.conf"\nkeys = ["/big"]\n',
    'templates/big.tmpl': `head\n{{range seq 1 (atoi (getv "/big/n"))}}${LINE}{{end}}`,
    'conf.d/hbs.toml': '[template]\nsrc = "big.hbs"\ndest = "@OUT@/hbs.conf"\nkeys = ["/big"]\n',
    'templates/big.hbs': '{{getv "/big/blob"}}{{getv "/big/blob"}}{{getv "/big/blob"}}{{getv "/big/blob"}}\n',
  });
  writeFileSync(join(ws.out, 'big.conf'), 'the working config\n');
  writeFileSync(join(ws.out, 'hbs.conf'), 'the working hbs config\n');
  return ws;
}

const run = (ws: Workspace, extra: string[], env: Record<string, string> = {}) =>
  runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, ...extra], { env, timeoutMs: 30_000 });

function assertUntouched(ws: Workspace): void {
  assert.equal(readFileSync(join(ws.out, 'big.conf'), 'utf8'), 'the working config\n');
  assert.equal(readFileSync(join(ws.out, 'hbs.conf'), 'utf8'), 'the working hbs config\n');
  assert.deepEqual(readdirSync(ws.out).sort(), ['big.conf', 'hbs.conf'], 'no stage file left behind');
}

test('-onetime: an output over -max-output-bytes fails with the template position and the limit; the dest is untouched', async () => {
  const ws = workspace();
  try {
    // 5 + 5000 * 89 = 445,005 bytes (Go); 4 * 30,000 + 1 = 120,001 bytes (Handlebars)
    const r = await run(ws, ['-max-output-bytes', '100000']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ERROR template: big\.tmpl:2:\d+: executing "big\.tmpl" at <.*>: output is larger than the limit of 100000 bytes \(-max-output-bytes\); \S*big\.conf is left as it is/);
    assert.match(r.stderr, /big\.hbs: output is larger than the limit of 100000 bytes \(-max-output-bytes\); \S*hbs\.conf is left as it is/);
    assert.match(r.stderr, /FATAL 2 of 2 template resources failed: .*big\.toml \(dest \S*big\.conf\)/);
    assertUntouched(ws);
  } finally {
    ws.cleanup();
  }
});

test('CONFD_MAX_OUTPUT_BYTES sets the bound too; under it the files are written whole', async () => {
  const ws = workspace();
  try {
    const refused = await run(ws, [], { CONFD_MAX_OUTPUT_BYTES: '100000' });
    assert.equal(refused.code, 1, refused.stderr);
    assertUntouched(ws);
    const r = await run(ws, [], { CONFD_MAX_OUTPUT_BYTES: '445005' }); // exactly the Go output: allowed
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'big.conf'), 'utf8'), 'head\n' + LINE.repeat(5000));
    assert.equal(readFileSync(join(ws.out, 'hbs.conf'), 'utf8'), 'x'.repeat(120_000) + '\n');
  } finally {
    ws.cleanup();
  }
});

test('-watch: a change that makes the output too large is refused, the file stays, the agent goes on', { timeout: 60_000 }, async () => {
  const ws = workspace();
  await etcd.put('/big/n', '10');
  const cli = spawnCli(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-max-output-bytes', '100000']);
  const big = () => readFileSync(join(ws.out, 'big.conf'), 'utf8');
  try {
    await until('the first render', () => big() === 'head\n' + LINE.repeat(10), 15_000, cli.stderr);
    await etcd.put('/big/n', '5000');
    await until('the refusal', () => /output is larger than the limit of 100000 bytes/.test(cli.stderr()), 15_000, cli.stderr);
    assert.equal(big(), 'head\n' + LINE.repeat(10));
    await etcd.put('/big/n', '20');
    await until('the next change', () => big() === 'head\n' + LINE.repeat(20), 15_000, cli.stderr);
    assert.equal(cli.child.exitCode, null, 'still running');
  } finally {
    await cli.stop();
    await etcd.put('/big/n', '5000');
    ws.cleanup();
  }
});
