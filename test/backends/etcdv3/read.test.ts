// The etcdv3 backend's reads against a real single-member etcd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import etcd3 from 'etcd3';
import { startEtcd, freePort, type EtcdServer } from '../../helpers/etcd.js';
import { parseNode } from '../../../src/backends/etcdv3/index.js';
import { READ_CLIENTS } from './read-clients.js';
import { prefixRangeEnd } from '../../../src/backends/etcdv3/read.js';
import { minimalCover } from '../../../src/keys/index.js';

for (const [client, createReadBackend] of READ_CLIENTS) {
  describe(`etcdv3 backend, single member (${client})`, () => {
    let etcd: EtcdServer;
    before(async () => {
      etcd = await startEtcd();
    });
    after(async () => {
      await etcd?.stop();
    });

    test('reads the seed keys under a prefix, sorted, at the current revision', async () => {
      for (const [k, v] of [
        ['/docker/node/n02', '192.168.100.112'],
        ['/docker/node/n01', '192.168.100.111'],
        ['/docker/service/s01', '1005'],
        ['foo', 'bar'],
      ]) {
        await etcd.put(k!, v!);
      }
      const backend = await createReadBackend({ nodes: etcd.endpoints });
      try {
        const snap = await backend.getValues(['/docker/node', '/docker/service']);
        assert.deepEqual(snap.kvs, [
          { key: '/docker/node/n01', value: '192.168.100.111' },
          { key: '/docker/node/n02', value: '192.168.100.112' },
          { key: '/docker/service/s01', value: '1005' },
        ]);
        const status = JSON.parse(await etcd.etcdctl(['endpoint', 'status', '-w', 'json'])) as Array<{ Status: { header: { revision: number } } }>;
        assert.equal(snap.revision, status[0]!.Status.header.revision);
      } finally {
        await backend.close();
      }
    });

    test('a prefix covers itself and keys below "prefix/", never siblings that share its text', async () => {
      await etcd.put('/app', 'self');
      await etcd.put('/app/x', '1');
      await etcd.put('/app/x/y', '2');
      await etcd.put('/apple/y', 'no');
      await etcd.put('/application', 'no');
      await etcd.put('/app-b/c', 'no');
      const backend = await createReadBackend({ nodes: etcd.endpoints });
      try {
        const snap = await backend.getValues(['/app']);
        assert.deepEqual(snap.kvs.map((kv) => kv.key), ['/app', '/app/x', '/app/x/y']);
        // Overlapping and repeated prefixes give each key once, in byte order.
        const both = await backend.getValues(['/app/x', '/app', '/app', '/apple']);
        assert.deepEqual(both.kvs.map((kv) => kv.key), ['/app', '/app/x', '/app/x/y', '/apple/y']);
        const none = await backend.getValues(['/nothing/here']);
        assert.deepEqual(none.kvs, []);
        assert.ok(none.revision > 0);
      } finally {
        await backend.close();
      }
    });

    test('keeps empty values, newlines and non-ASCII bytes; orders by bytes', async () => {
      await etcd.put('/bytes/empty', '');
      await etcd.put('/bytes/multi', 'a\nb\r\n');
      await etcd.put('/bytes/\u00e9', 'e-acute');
      await etcd.put('/bytes/z', 'z');
      const backend = await createReadBackend({ nodes: etcd.endpoints });
      try {
        const snap = await backend.getValues(['/bytes']);
        assert.deepEqual(snap.kvs, [
          { key: '/bytes/empty', value: '' },
          { key: '/bytes/multi', value: 'a\nb\r\n' },
          { key: '/bytes/z', value: 'z' },
          { key: '/bytes/\u00e9', value: 'e-acute' },
        ]);
      } finally {
        await backend.close();
      }
    });

    test('reads pages larger than gRPC\'s default 4 MiB, pinned to one revision while writes continue', async () => {
      const client = new etcd3.Etcd3({ hosts: etcd.endpoints });
      // 5,000-key pages of 1 KB values are ~5 MB each: above the default receive limit.
      const value = 'v'.repeat(1000);
      const total = 10_000;
      try {
        for (let start = 0; start < total; start += 100) {
          const ops = [];
          for (let i = start; i < start + 100; i++) ops.push(client.put(`/big/k${String(i).padStart(6, '0')}`).value(value));
          await Promise.all(ops);
        }
        const backend = await createReadBackend({ nodes: etcd.endpoints });
        try {
          // A write racing the read must not appear: every page is read at the first page's revision.
          const racing = client.put('/big/k999999').value('late');
          const snap = await backend.getValues(['/big']);
          await racing;
          const count = snap.kvs.length;
          assert.ok(count === total || count === total + 1, `got ${count} keys`);
          const hasLate = snap.kvs.some((kv) => kv.key === '/big/k999999');
          const lateRev = Number((await client.get('/big/k999999').exec()).kvs[0]!.mod_revision);
          assert.equal(hasLate, lateRev <= snap.revision);
          assert.ok(snap.kvs.reduce((n, kv) => n + kv.key.length + kv.value.length, 0) > 8 * 1024 * 1024);
          for (let i = 1; i < snap.kvs.length; i++) assert.ok(snap.kvs[i - 1]!.key < snap.kvs[i]!.key);
          assert.equal(snap.kvs[0]!.value, value);
        } finally {
          await backend.close();
        }
      } finally {
        client.close();
      }
    });

    test('accepts confd node spellings: http URL, bare host:port, trailing slash', async () => {
      const port = new URL(etcd.endpoints[0]!).port;
      for (const node of [`http://127.0.0.1:${port}`, `127.0.0.1:${port}`, `http://127.0.0.1:${port}/`, `http://localhost:${port}`]) {
        const backend = await createReadBackend({ nodes: [node] });
        try {
          const snap = await backend.getValues(['/docker/service']);
          assert.equal(snap.kvs.length, 1, node);
        } finally {
          await backend.close();
        }
      }
    });

    test('a dead first node does not stop the read', async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      const backend = await createReadBackend({ nodes: [dead, etcd.endpoints[0]!] });
      try {
        for (let i = 0; i < 5; i++) {
          const snap = await backend.getValues(['/docker/service']);
          assert.equal(snap.kvs[0]!.value, '1005');
        }
      } finally {
        await backend.close();
      }
    });
  });

  describe(`etcdv3 backend errors (${client})`, () => {
    test('a dead cluster fails with an error naming the endpoints', async () => {
      const nodes = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
      const backend = await createReadBackend({ nodes, requestTimeoutMs: 3000 });
      try {
        const started = Date.now();
        await assert.rejects(backend.getValues(['/x']), (e: Error) => {
          assert.match(e.message, /etcd cluster unreachable/);
          for (const n of nodes) assert.ok(e.message.includes(n), e.message);
          return true;
        });
        assert.ok(Date.now() - started < 10_000);
      } finally {
        await backend.close();
      }
    });

    test('mixed schemes and half a key pair are refused', async () => {
      await assert.rejects(createReadBackend({ nodes: ['http://a:1', 'https://b:2'] }), /mixes http and https/);
      await assert.rejects(createReadBackend({ nodes: ['https://a:1'], clientCert: '/x.pem' }), /given together/);
      await assert.rejects(createReadBackend({ nodes: ['https://a:1'], clientCaKeys: '/nonexistent/ca.pem' }), /cannot read -client-ca-keys \/nonexistent\/ca.pem: ENOENT/);
    });
  });
}

describe('etcdv3 node and prefix parsing', () => {
  test('parseNode', () => {
    assert.deepEqual(parseNode('http://10.0.0.1:2379', false), { address: '10.0.0.1:2379', tls: false });
    assert.deepEqual(parseNode('https://m1:2379', false), { address: 'm1:2379', tls: true });
    assert.deepEqual(parseNode('m1:2379', true), { address: 'm1:2379', tls: true });
    assert.deepEqual(parseNode('https://m1', false), { address: 'm1:443', tls: true });
    assert.throws(() => parseNode('ftp://x:1', false), /scheme must be http or https/);
    assert.throws(() => parseNode('justahost', false), /expected http/);
  });

  test('prefix range end and distinct prefixes', () => {
    assert.deepEqual(prefixRangeEnd(Buffer.from('/app')), Buffer.from('/apq'));
    assert.deepEqual(prefixRangeEnd(Buffer.from([0x61, 0xff])), Buffer.from('b'));
    assert.deepEqual(prefixRangeEnd(Buffer.from([0xff])), Buffer.from([0]));
    assert.deepEqual(minimalCover(['/app/x', '/app', '/apple', '/app']), ['/app', '/apple']);
    assert.deepEqual(minimalCover(['/', '/a']), ['/']);
  });
});
