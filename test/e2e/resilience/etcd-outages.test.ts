// QA (operator's view): nothing is lost when etcd misbehaves. The built CLI against a real etcd
// that is stopped, started late, restarted and emptied, in -onetime, -watch and -interval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import type { EtcdServer } from '../../helpers/etcd.js';
import { sleep, waitFor } from '../../helpers/wait.js';

let etcd: EtcdServer;
etcdPerFile((server) => (etcd = server));

const upstreamFiles = (prefix: string) => ({
  'conf.d/up.toml': `[template]\nsrc = "up.tmpl"\ndest = "@OUT@/up.conf"\nkeys = ["${prefix}"]\n`,
  'templates/up.tmpl': `upstream app {\n{{range gets "${prefix}/*"}}  server {{.Value}};\n{{end}}}\n`,
});
const upstream = (...servers: string[]) => `upstream app {\n${servers.map((s) => `  server ${s};\n`).join('')}}\n`;

interface Agent {
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<number | null>;
}

function startAgent(args: string[]): Agent {
  const { child, closed, stderr } = spawnCli(args);
  return {
    child,
    stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await Promise.race([closed, sleep(10_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`no exit within 10 s of SIGTERM:\n${stderr()}`);
      }
      return code;
    },
  };
}

test('-onetime with etcd stopped: exit 1 naming the resource, the old file intact, no stage file', { timeout: 60_000 }, async () => {
  const ws = new Workspace(upstreamFiles('/qa1'));
  try {
    writeFileSync(join(ws.out, 'up.conf'), upstream('10.9.9.9:80'));
    await etcd.members[0]!.stop();
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { timeoutMs: 30_000 });
    await etcd.members[0]!.start();
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /FATAL .*up\.toml/);
    assert.equal(readFileSync(join(ws.out, 'up.conf'), 'utf8'), upstream('10.9.9.9:80'));
    assert.deepEqual(ws.outFiles(), ['up.conf']);
  } finally {
    if (!etcd.members[0]!.running) await etcd.members[0]!.start();
    ws.cleanup();
  }
});

test('-watch started while etcd is down keeps the old file, renders once etcd arrives, survives a restart, exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
  const ws = new Workspace(upstreamFiles('/qa2'));
  await etcd.put('/qa2/a', '10.0.0.1:80');
  const dest = join(ws.out, 'up.conf');
  writeFileSync(dest, upstream('10.9.9.9:80'));
  await etcd.members[0]!.stop();
  const agent = startAgent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-level', 'info']);
  try {
    await sleep(2_000);
    assert.equal(agent.child.exitCode, null, `gave up while etcd was down:\n${agent.stderr()}`);
    assert.equal(readFileSync(dest, 'utf8'), upstream('10.9.9.9:80'), 'the file changed while etcd was down');
    await etcd.members[0]!.start();
    assert.ok(await waitFor(() => readFileSync(dest, 'utf8') === upstream('10.0.0.1:80'), 15_000), `never rendered:\n${agent.stderr()}`);

    await etcd.members[0]!.stop();
    await sleep(1_000);
    assert.equal(readFileSync(dest, 'utf8'), upstream('10.0.0.1:80'), 'an outage changed the file');
    await etcd.members[0]!.start();
    await etcd.put('/qa2/b', '10.0.0.2:80');
    assert.ok(
      await waitFor(() => readFileSync(dest, 'utf8') === upstream('10.0.0.1:80', '10.0.0.2:80'), 15_000),
      `a put after the restart never arrived:\n${agent.stderr()}`,
    );
    assert.equal(await agent.stop(), 0, agent.stderr());
    assert.deepEqual(ws.outFiles(), ['up.conf']);
  } finally {
    if (!etcd.members[0]!.running) await etcd.members[0]!.start();
    await agent.stop().catch(() => undefined);
    ws.cleanup();
  }
});

test('-watch: deleting the whole prefix keeps the last good file and says why; keys coming back render again', { timeout: 60_000 }, async () => {
  const ws = new Workspace(upstreamFiles('/qa3'));
  await etcd.put('/qa3/a', '10.0.0.1:80');
  const dest = join(ws.out, 'up.conf');
  const agent = startAgent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-level', 'info']);
  try {
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === upstream('10.0.0.1:80'), 15_000), agent.stderr());
    await etcd.etcdctl(['del', '/qa3', '--prefix']);
    assert.ok(await waitFor(() => /min_keys/.test(agent.stderr()), 10_000), `no log line about the empty prefix:\n${agent.stderr()}`);
    assert.equal(readFileSync(dest, 'utf8'), upstream('10.0.0.1:80'));
    await etcd.put('/qa3/b', '10.0.0.2:80');
    assert.ok(await waitFor(() => readFileSync(dest, 'utf8') === upstream('10.0.0.2:80'), 10_000), agent.stderr());
  } finally {
    await agent.stop().catch(() => undefined);
    ws.cleanup();
  }
});

test('-interval survives an etcd restart: the file stays during the outage, a later change arrives', { timeout: 60_000 }, async () => {
  const ws = new Workspace(upstreamFiles('/qa4'));
  await etcd.put('/qa4/a', '10.0.0.1:80');
  const dest = join(ws.out, 'up.conf');
  const agent = startAgent(['-interval', '1', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-level', 'info']);
  try {
    assert.ok(await waitFor(() => existsSync(dest) && readFileSync(dest, 'utf8') === upstream('10.0.0.1:80'), 15_000), agent.stderr());
    await etcd.members[0]!.stop();
    await sleep(2_500);
    assert.equal(agent.child.exitCode, null, `exited during the outage:\n${agent.stderr()}`);
    assert.equal(readFileSync(dest, 'utf8'), upstream('10.0.0.1:80'));
    await etcd.members[0]!.start();
    await etcd.put('/qa4/b', '10.0.0.2:80');
    assert.ok(await waitFor(() => readFileSync(dest, 'utf8') === upstream('10.0.0.1:80', '10.0.0.2:80'), 15_000), agent.stderr());
    assert.equal(await agent.stop(), 0, agent.stderr());
    assert.deepEqual(ws.outFiles(), ['up.conf']);
  } finally {
    if (!etcd.members[0]!.running) await etcd.members[0]!.start();
    await agent.stop().catch(() => undefined);
    ws.cleanup();
  }
});

test('kill -9 of -watch while a burst of large renders is being written: the file is always a whole render', { timeout: 60_000 }, async () => {
  const ws = new Workspace({
    'conf.d/big.toml': '[template]\nsrc = "big.tmpl"\ndest = "@OUT@/big.conf"\nkeys = ["/qa5"]\n',
    'templates/big.tmpl': '{{range seq 1 4000}}{{getv "/qa5/v"}}\n{{end}}END\n',
  });
  const dest = join(ws.out, 'big.conf');
  try {
    await etcd.put('/qa5/v', 'initial-'.padEnd(60, 'i'));
    for (let round = 0; round < 4; round++) {
      const agent = startAgent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir, '-log-level', 'error']);
      assert.ok(await waitFor(() => existsSync(dest), 15_000), agent.stderr());
      await sleep(300);
      await Promise.all(Array.from({ length: 6 }, (_, i) => etcd.put('/qa5/v', `round${round}-${i}-`.padEnd(60, 'x'))));
      await sleep(20 + round * 40);
      agent.child.kill('SIGKILL');
      await agent.stop().catch(() => undefined);
      const lines = readFileSync(dest, 'utf8').split('\n');
      assert.equal(lines.at(-2), 'END', `round ${round}: truncated file`);
      assert.equal(lines.at(-1), '');
      assert.equal(new Set(lines.slice(0, -2)).size, 1, `round ${round}: a mix of two renders`);
      assert.equal(lines.length, 4002);
    }
  } finally {
    ws.cleanup();
  }
});
