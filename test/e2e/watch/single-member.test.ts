// `tsconfd -watch` against a real single-member etcd: the built CLI, a real confdir, real files.
import { after, before, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import etcd3 from 'etcd3';
import { startEtcd, freePort, type EtcdServer } from '../../helpers/etcd.js';
import { serviceWorkspace, WatchAgent } from '../harness/watch-harness.js';

describe('tsconfd -watch, single etcd member', () => {
  let etcd: EtcdServer;
  let client: InstanceType<typeof etcd3.Etcd3>;
  const agents: WatchAgent[] = [];
  before(async () => {
    etcd = await startEtcd();
    client = new etcd3.Etcd3({ hosts: etcd.endpoints });
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) {
      await a.stop();
      a.ws.cleanup();
    }
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  function agent(prefix: string, args: string[] = [], toml?: string): WatchAgent {
    const a = new WatchAgent(serviceWorkspace({ prefix, toml }), ['-backend', 'etcdv3', '-node', etcd.endpoints[0]!, ...args]);
    agents.push(a);
    return a;
  }

  test('renders at start, then a put reaches the file', async () => {
    await client.put('/t1/svc/a').value('1');
    const a = agent('/t1');
    await a.until('first render', () => a.content() === 'a=1\n');
    await client.put('/t1/svc/b').value('2');
    const ms = await a.until('the put in the file', () => a.content() === 'a=1\nb=2\n');
    assert.ok(ms < 3000, `took ${ms} ms`);
    // The reload_cmd runs just after the rename; count writes once it has.
    await a.until('two writes', () => a.writes() === 2);
    // A key outside the resource's keys changes nothing.
    await client.put('/t1/other').value('x');
    await client.put('/t1/svc/a').value('3');
    await a.until('second put', () => a.content() === 'a=3\nb=2\n');
    await a.until('three writes', () => a.writes() === 3);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.writes(), 3);
    assert.equal(await a.stop(), 0, 'SIGTERM ends the agent with 0');
  });

  test('1,000 rapid puts end with the last value on disk, in a handful of writes', async () => {
    await client.put('/t2/svc/hot').value('start');
    // min 250ms: a writer stalled by a busy machine must not look like the end of the burst.
    const a = agent('/t2', ['-wait', '250ms:1s']);
    await a.until('first render', () => a.content() === 'hot=start\n');
    const before = a.writes();
    const started = Date.now();
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => client.put('/t2/svc/hot').value(`v${i + j}`)));
    }
    // Concurrent puts may land in any order within a batch: the last one to be committed wins.
    const last = (await client.get('/t2/svc/hot').string())!;
    const burstMs = Date.now() - started;
    const settle = await a.until('the last value', () => a.content() === `hot=${last}\n`, 5_000);
    const writes = a.writes() - before;
    // Within one -wait max (1 s), with slack for a shared 2-core machine.
    assert.ok(settle <= 2_500, `settled ${settle} ms after the burst`);
    // One write per -wait max (1 s) of burst at most, plus the one after it ends.
    assert.ok(writes <= Math.ceil(burstMs / 1000) + 3, `${writes} writes for a ${burstMs} ms burst`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.content(), `hot=${last}\n`);
  });

  test('a deleted prefix keeps the old file and the log says why; keys coming back render again', async () => {
    await client.put('/t3/svc/a').value('1');
    await client.put('/t3/svc/b').value('2');
    const a = agent('/t3');
    await a.until('first render', () => a.content() === 'a=1\nb=2\n');
    await client.delete().prefix('/t3/svc');
    await a.until('the guard in the log', () => /not rendered.*fewer than min_keys 1; keeping the current file/.test(a.logText()));
    assert.equal(a.content(), 'a=1\nb=2\n');
    await client.put('/t3/svc/c').value('3');
    await a.until('render after keys return', () => a.content() === 'c=3\n');
  });

  test('allow_empty = true lets an empty key set render', async () => {
    await client.put('/t4/svc/a').value('1');
    const a = agent('/t4', [], 'allow_empty = true\n');
    await a.until('first render', () => a.content() === 'a=1\n');
    await client.delete().prefix('/t4/svc');
    await a.until('empty render', () => a.content() === '');
  });

  test('the first -node dead at start', async () => {
    await client.put('/t5/svc/a').value('1');
    const dead = `http://127.0.0.1:${await freePort()}`;
    const a = new WatchAgent(serviceWorkspace({ prefix: '/t5' }), ['-backend', 'etcdv3', '-node', dead, '-node', etcd.endpoints[0]!]);
    agents.push(a);
    await a.until('first render', () => a.content() === 'a=1\n');
    for (let i = 0; i < 5; i++) {
      await client.put('/t5/svc/a').value(`n${i}`);
      await a.until(`put ${i}`, () => a.content() === `a=n${i}\n`);
    }
  });

  test('-interval with -watch reconciles: a hand-edited destination is restored', async () => {
    await client.put('/t6/svc/a').value('1');
    const a = agent('/t6', ['-interval', '1']);
    await a.until('first render', () => a.content() === 'a=1\n');
    writeFileSync(a.dest, 'edited by hand\n');
    await a.until('reconciliation', () => a.content() === 'a=1\n', 5_000);
  });
});

describe('tsconfd -watch across etcd failures', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  test('etcd killed and restarted while puts continue: no update lost; staleness reported', async () => {
    await etcd.put('/f1/svc/a', 'v0');
    const a = new WatchAgent(serviceWorkspace({ prefix: '/f1' }), ['-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-stale-after', '1s']);
    try {
      await a.until('first render', () => a.content() === 'a=v0\n');
      const member = etcd.members[0]!;
      await member.kill();
      await a.until('stale reported', () => /STALE/.test(a.logText()), 10_000);
      assert.equal(a.content(), 'a=v0\n', 'the file is kept while etcd is down');
      await member.start();
      for (let i = 1; i <= 20; i++) await etcd.put(`/f1/svc/k${i}`, String(i));
      await etcd.put('/f1/svc/a', 'v1');
      const names = ['a', ...Array.from({ length: 20 }, (_, i) => `k${i + 1}`)].sort();
      const expected = names.map((n) => (n === 'a' ? 'a=v1' : `${n}=${n.slice(1)}`)).join('\n') + '\n';
      await a.until('all updates after the restart', () => a.content() === expected, 20_000);
      await a.until('no longer stale', () => /no longer stale/.test(a.logText()), 10_000);
    } finally {
      await a.stop();
      a.ws.cleanup();
    }
  });

  test('compaction past the watch revision: the mirror re-reads and continues', async () => {
    await etcd.put('/f2/svc/a', 'before');
    const member = etcd.members[0]!;
    const port = new URL(member.clientUrl).port;
    const a = new WatchAgent(serviceWorkspace({ prefix: '/f2' }), ['-backend', 'etcdv3', '-node', member.clientUrl]);
    try {
      await a.until('first render', () => a.content() === 'a=before\n');
      // Restart etcd where the agent cannot reach it, change and compact history there, then
      // bring it back: the agent resumes from a revision that no longer exists.
      await member.stop();
      const hidden = `http://127.0.0.1:${await freePort()}`;
      await member.start(['--listen-client-urls', hidden, '--advertise-client-urls', hidden]);
      const run = (args: string[]) =>
        import('node:child_process').then(({ execFileSync }) =>
          execFileSync('etcdctl', [`--endpoints=${hidden}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' }),
        );
      await run(['put', '/f2/svc/a', 'during']);
      await run(['put', '/f2/svc/b', 'new']);
      const status = JSON.parse(await run(['endpoint', 'status', '-w', 'json'])) as Array<{ Status: { header: { revision: number } } }>;
      await run(['compact', String(status[0]!.Status.header.revision)]);
      await member.stop();
      await member.start();
      assert.equal(new URL(member.clientUrl).port, port);
      await a.until('render after compaction', () => a.content() === 'a=during\nb=new\n', 20_000);
      assert.match(a.logText(), /compacted/);
      await etcd.put('/f2/svc/a', 'after');
      await a.until('live again', () => a.content() === 'a=after\nb=new\n');
    } finally {
      await a.stop();
      a.ws.cleanup();
    }
  });
});
