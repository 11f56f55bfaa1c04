// Reading many prefixes (the Txn batches of read.ts) against a real etcd: every key each prefix
// covers, once, in byte order, all at one revision, including a prefix that needs several pages
// inside a later batch and prefixes whose keys interleave ("/a/x" sorts after "/a-b").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import etcd3 from 'etcd3';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { createEtcdV3Backend, EtcdConnection } from '../../../src/backends/etcdv3/index.js';
import { readPrefixes, type RangeReader } from '../../../src/backends/etcdv3/read.js';
import { EtcdUnaryClient } from '../../../src/backends/etcdv3/unary.js';
import { compareBytes, covers } from '../../../src/keys/index.js';

describe('etcdv3 reads of many prefixes', () => {
  let etcd: EtcdServer;
  let client: InstanceType<typeof etcd3.Etcd3>;
  const all = new Map<string, string>();

  before(async () => {
    etcd = await startEtcd();
    client = new etcd3.Etcd3({ hosts: etcd.endpoints });
    // 300 services (three Txn batches of 128); svc-0250 has 6,000 nodes (several pages at the page sizes below).
    for (let s = 0; s < 300; s++) {
      const svc = `/many/svc-${String(s).padStart(4, '0')}`;
      all.set(`${svc}/port`, String(8000 + s));
      const nodes = s === 250 ? 6000 : 3;
      for (let n = 0; n < nodes; n++) all.set(`${svc}/nodes/n${String(n).padStart(5, '0')}`, `10.0.${s % 256}.${n % 256}`);
    }
    // Siblings that share text (never covered) and keys that interleave between prefixes.
    for (const [k, v] of [
      ['/many/svc-0001-canary/port', 'no'],
      ['/many/svc-0001x', 'no'],
      ['/il/a', 'a'],
      ['/il/a/x', 'ax'],
      ['/il/a-b', 'ab'],
      ['/il/a-b/y', 'aby'],
      ['/il/\u00e9', 'e-acute'],
    ] as const) {
      all.set(k, v);
    }
    const entries = [...all];
    for (let i = 0; i < entries.length; i += 100) {
      const txn = client.namespace('').if('x', 'Create', '==', 0);
      await txn.then(...entries.slice(i, i + 100).map(([k, v]) => client.put(k).value(v))).commit();
    }
  });

  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  // Both clients that read: etcd3's pool (-watch, -interval) and node:http2 (-onetime).
  const readers: Array<[string, (nodes: string[]) => RangeReader & { close(): unknown }]> = [
    ['etcd3', (nodes) => new EtcdConnection({ nodes })],
    ['node:http2', (nodes) => new EtcdUnaryClient({ nodes })],
  ];
  const cases = readers.flatMap(([reader, connect]) => [undefined, 1000].map((pageKeys) => ({ reader, connect, pageKeys })));
  for (const { reader, connect, pageKeys } of cases) {
    test(`300 per-service prefixes plus interleaving ones: the keys they cover, sorted, at one revision (pages of ${pageKeys ?? 'the default'}, ${reader})`, async () => {
      const prefixes = ['/il/a', '/il/a-b', '/il/\u00e9'];
      for (let s = 0; s < 300; s++) prefixes.push(`/many/svc-${String(s).padStart(4, '0')}`);
      // Order and duplicates in the request do not matter; a covered prefix adds nothing.
      prefixes.reverse();
      prefixes.push('/many/svc-0007', '/many/svc-0007/nodes');
      const conn = connect(etcd.endpoints);
      try {
        // Writes racing the read: none may show up, since every request is pinned to the first one's revision.
        let racing = true;
        const racer = (async () => {
          for (let i = 0; racing && i < 200; i++) await client.put(`/many/svc-0299/nodes/late${i}`).value('late');
        })();
        const snap = await readPrefixes(conn, prefixes, pageKeys);
        racing = false;
        await racer;

        const atRevision = await client.getAll().prefix('/').revision(snap.revision).strings();
        const expected = Object.keys(atRevision)
          .filter((k) => prefixes.some((p) => covers(p, k)))
          .sort(compareBytes)
          .map((key) => ({ key, value: atRevision[key]! }));
        assert.equal(snap.kvs.length, expected.length);
        assert.deepEqual(snap.kvs, expected);
        assert.ok(snap.kvs.length > 6900, `only ${snap.kvs.length} keys`);
        assert.deepEqual(
          snap.kvs.filter((kv) => kv.key.startsWith('/il/')).map((kv) => kv.key),
          ['/il/a', '/il/a-b', '/il/a-b/y', '/il/a/x', '/il/\u00e9'],
        );
        assert.ok(!snap.kvs.some((kv) => kv.key.startsWith('/many/svc-0001-canary') || kv.key === '/many/svc-0001x'));
      } finally {
        await conn.close();
      }
    });
  }

  test('no prefixes: no keys, and the current revision', async () => {
    const backend = await createEtcdV3Backend({ nodes: etcd.endpoints });
    try {
      const snap = await backend.getValues([]);
      assert.deepEqual(snap.kvs, []);
      const head = Number((await client.get('/il/a').exec()).header.revision);
      assert.equal(snap.revision, head);
    } finally {
      await backend.close();
    }
  });
});
