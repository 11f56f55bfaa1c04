// `tsconfd -watch` against the seed's production shape: three etcd members with TLS and client
// certificates (made in the test), members dying, the whole cluster restarting; plus etcd auth.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, startTlsCluster, type EtcdServer } from '../../helpers/etcd.js';
import { serviceWorkspace, WatchAgent } from '../harness/watch-harness.js';

describe('tsconfd -watch, three-member TLS cluster', () => {
  let cluster: EtcdServer;
  let tlsArgs: string[];
  before(async () => {
    cluster = await startTlsCluster();
    const c = cluster.certs!;
    tlsArgs = ['-client-ca-keys', c.ca, '-client-cert', c.client.cert, '-client-key', c.client.key];
  });
  after(async () => {
    await cluster?.stop();
  });

  function agent(prefix: string, extra: string[] = []): WatchAgent {
    const nodes = cluster.endpoints.flatMap((e) => ['-node', e]);
    return new WatchAgent(serviceWorkspace({ prefix }), ['-backend', 'etcdv3', ...nodes, ...tlsArgs, '-wait', '20ms:200ms', ...extra]);
  }

  test('members killed one after another while puts continue, then the whole cluster restarted: nothing lost', async () => {
    await cluster.put('/c1/svc/a', '0');
    const a = agent('/c1');
    try {
      await a.until('first render', () => a.content() === 'a=0\n');
      let n = 0;
      for (const member of cluster.members) {
        await member.kill();
        for (let i = 0; i < 5; i++) await cluster.put('/c1/svc/a', String(++n));
        await a.until(`value ${n} with ${member.name} down`, () => a.content() === `a=${n}\n`, 20_000);
        await member.start();
      }
      await cluster.restartAll();
      await cluster.put('/c1/svc/b', 'after-restart');
      await a.until('update after the cluster restart', () => a.content() === `a=${n}\nb=after-restart\n`, 30_000);
    } finally {
      assert.equal(await a.stop(), 0);
      a.ws.cleanup();
    }
  });

  test('quorum lost: require-leader ends the watch, the agent reports itself stale, then recovers', async () => {
    await cluster.put('/c3/svc/a', '1');
    const a = agent('/c3', ['-stale-after', '2s']);
    const [m1, m2] = cluster.members;
    try {
      await a.until('first render', () => a.content() === 'a=1\n');
      await Promise.all([m1!.kill(), m2!.kill()]);
      // The surviving member has no leader: it must not keep serving a silent, frozen watch.
      await a.until('stale reported', () => /STALE/.test(a.logText()), 30_000);
      assert.equal(a.content(), 'a=1\n');
      await Promise.all([m1!.launch(), m2!.launch()]);
      await cluster.put('/c3/svc/a', '2');
      await a.until('update after the quorum returned', () => a.content() === 'a=2\n', 30_000);
      await a.until('no longer stale', () => /no longer stale/.test(a.logText()), 10_000);
    } finally {
      await a.stop();
      a.ws.cleanup();
    }
  });

  test('the first -node dead at start', async () => {
    await cluster.put('/c2/svc/a', '1');
    const first = cluster.members[0]!;
    await first.kill();
    const a = agent('/c2');
    try {
      await a.until('first render with the first node down', () => a.content() === 'a=1\n', 20_000);
      await cluster.put('/c2/svc/a', '2');
      await a.until('update', () => a.content() === 'a=2\n', 20_000);
    } finally {
      await first.start();
      await a.stop();
      a.ws.cleanup();
    }
  });

  test('a server certificate our CA did not sign: refused, said clearly, nothing written', async () => {
    const c = cluster.certs!;
    const nodes = cluster.endpoints.flatMap((e) => ['-node', e]);
    const a = new WatchAgent(serviceWorkspace({ prefix: '/c1' }), [
      '-backend', 'etcdv3', ...nodes, '-client-ca-keys', c.otherCa, '-client-cert', c.client.cert, '-client-key', c.client.key,
    ]);
    try {
      await a.until('the TLS error in the log', () => /TLS handshake failed/.test(a.logText()), 20_000);
      assert.equal(a.content(), undefined);
    } finally {
      await a.stop();
      a.ws.cleanup();
    }
  });
});

describe('tsconfd -watch with etcd auth', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
    await etcd.put('/au/svc/a', '1');
    await etcd.enableAuth('rootpw');
    await etcd.etcdctl(['user', 'add', 'agent:agentpw']);
    await etcd.etcdctl(['role', 'add', 'agent-role']);
    await etcd.etcdctl(['role', 'grant-permission', 'agent-role', '--prefix=true', 'read', '/au']);
    await etcd.etcdctl(['user', 'grant-role', 'agent', 'agent-role']);
  });
  after(async () => {
    await etcd?.stop();
  });

  test('username and password: renders and follows changes; the password never reaches the log', async () => {
    const a = new WatchAgent(serviceWorkspace({ prefix: '/au' }), [
      '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-basic-auth', '-username', 'agent', '-password', 'agentpw',
    ]);
    try {
      await a.until('first render', () => a.content() === 'a=1\n');
      await etcd.put('/au/svc/a', '2');
      await a.until('update', () => a.content() === 'a=2\n');
      // A restart forgets every auth token: the watch must log in again, not retry a dead token.
      await etcd.members[0]!.stop();
      await etcd.members[0]!.start();
      await etcd.put('/au/svc/a', '3');
      await a.until('update after etcd restarted', () => a.content() === 'a=3\n', 20_000);
      assert.ok(!a.logText().includes('agentpw'));
    } finally {
      await a.stop();
      a.ws.cleanup();
    }
  });
});
