// The -onetime client (node:http2, unary.ts) where it decides alone what etcd3 decided before: which
// member next after a deadline or a refused connection, a TLS handshake that never ends, a token
// etcd forgot, and a close that must not wait for a member that stopped answering. The promises it
// shares with etcd3's client are checked for both in read, auth, read-batches and tls-cluster tests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { startEtcd, freePort, type EtcdServer } from '../../helpers/etcd.js';
import { sleep } from '../../helpers/wait.js';
import { createEtcdV3ReadBackend, EtcdUnaryClient } from '../../../src/backends/etcdv3/unary.js';
import { encodeRangeRequest } from '../../../src/backends/etcdv3/range-codec.js';

/** A TCP server that accepts connections and never says a word: a frozen member, as the kernel still accepts for it. */
async function silentServer(): Promise<{ url: string; host: string; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('etcd reads over node:http2 (-onetime)', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
    await etcd.put('/u/a', '1');
  });
  after(async () => {
    await etcd?.stop();
  });

  test('a member that takes the connection and never answers costs one deadline, then the next member answers', async () => {
    const silent = await silentServer();
    try {
      // Members are tried in a random order: read with new clients until one met the silent member first.
      for (let i = 0; i < 30 && silent.connections() === 0; i++) {
        const backend = await createEtcdV3ReadBackend({ nodes: [silent.url, etcd.endpoints[0]!], requestTimeoutMs: 1000 });
        try {
          const snap = await backend.getValues(['/u']);
          assert.deepEqual(snap.kvs, [{ key: '/u/a', value: '1' }]);
        } finally {
          await backend.close();
        }
      }
      assert.equal(silent.connections(), 1, 'the silent member was never tried first');
    } finally {
      await silent.close();
    }
  });

  test('members that never answer: two deadlines at most, however many members, and the error says so', async () => {
    const silent = await Promise.all([silentServer(), silentServer(), silentServer()]);
    try {
      const nodes = silent.map((s) => s.url);
      const backend = await createEtcdV3ReadBackend({ nodes, requestTimeoutMs: 700 });
      const started = Date.now();
      try {
        await assert.rejects(backend.getValues(['/u']), (e: Error) => {
          assert.match(e.message, /did not answer within 700 ms \(deadline exceeded\)/);
          for (const n of nodes) assert.ok(e.message.includes(n), e.message);
          return true;
        });
      } finally {
        // Closing does not wait for the silent members.
        await backend.close();
      }
      const took = Date.now() - started;
      assert.ok(took >= 1400 && took < 2100 + 1000, `took ${took} ms`);
      assert.equal(silent.reduce((n, s) => n + s.connections(), 0), 2);
    } finally {
      await Promise.all(silent.map((s) => s.close()));
    }
  });

  test('a TLS handshake that never finishes is given up after the dial timeout, and the next member is tried', async () => {
    const silent = await silentServer();
    const refused = `https://127.0.0.1:${await freePort()}`;
    try {
      const client = new EtcdUnaryClient({ nodes: [`https://${silent.host}`, refused], dialTimeoutMs: 300, requestTimeoutMs: 5000 });
      const started = Date.now();
      await assert.rejects(client.rangePage({ key: Buffer.from('/u'), rangeEnd: Buffer.from('/v') }), (e: Error) => {
        assert.match(e.message, /etcd (cluster unreachable|TLS handshake failed)/);
        return true;
      });
      await client.close();
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
      assert.equal(silent.connections(), 1);
    } finally {
      await silent.close();
    }
  });

  test('a closed client refuses new calls', async () => {
    const client = new EtcdUnaryClient({ nodes: etcd.endpoints });
    assert.equal((await client.rangePage({ key: Buffer.from('/u/a'), rangeEnd: Buffer.alloc(0) })).kvs.length, 1);
    await client.close();
    await assert.rejects(client.rangePage({ key: Buffer.from('/u/a'), rangeEnd: Buffer.alloc(0) }), /closed/);
  });

  test('the request travels as gRPC expects: one length-prefixed message (a 100 KB key range request)', async () => {
    // etcd checks the framing: a wrong prefix or length is an error, not an empty answer.
    const client = new EtcdUnaryClient({ nodes: etcd.endpoints });
    try {
      const key = Buffer.alloc(100_000, 0x61);
      assert.ok(encodeRangeRequest({ key, rangeEnd: Buffer.alloc(0) }).length > 100_000);
      const page = await client.rangePage({ key, rangeEnd: Buffer.alloc(0) });
      assert.equal(page.kvs.length, 0);
      assert.ok(page.revision > 0);
    } finally {
      await client.close();
    }
  });
});

describe('etcd auth over node:http2 (-onetime): a token etcd forgot', () => {
  let etcd: EtcdServer;
  before(async () => {
    // Simple tokens expire after --auth-token-ttl seconds without use.
    etcd = await startEtcd({ extraArgs: ['--auth-token-ttl', '1'] });
    await etcd.put('/u/a', '1');
    await etcd.enableAuth('rootpw');
  });
  after(async () => {
    await etcd?.stop();
  });

  test('a token etcd no longer knows ("invalid auth token") is replaced once, and the read succeeds', async () => {
    const client = new EtcdUnaryClient({ nodes: etcd.endpoints, basicAuth: true, username: 'root', password: 'rootpw', requestTimeoutMs: 5000 });
    try {
      const range = { key: Buffer.from('/u'), rangeEnd: Buffer.from('/v') };
      assert.equal((await client.rangePage(range)).kvs.length, 1);
      // Not an assertion: the time for etcd to forget the token (its TTL is 1 s).
      await sleep(2500);
      assert.equal((await client.rangePage(range)).kvs.length, 1);
    } finally {
      await client.close();
    }
  });
});
