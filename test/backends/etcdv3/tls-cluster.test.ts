// The seed's production shape on loopback: three members, TLS with client certificates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTlsCluster, freePort, type EtcdServer } from '../../helpers/etcd.js';
import type { EtcdConnectionOptions } from '../../../src/backends/etcdv3/endpoints.js';
import { READ_CLIENTS } from './read-clients.js';

for (const [client, createReadBackend] of READ_CLIENTS) {
  describe(`etcdv3 backend, three-member TLS cluster with client certificates (${client})`, () => {
    let cluster: EtcdServer;
    let tls: Pick<EtcdConnectionOptions, 'clientCaKeys' | 'clientCert' | 'clientKey'>;
    before(async () => {
      cluster = await startTlsCluster();
      const certs = cluster.certs!;
      tls = { clientCaKeys: certs.ca, clientCert: certs.client.cert, clientKey: certs.client.key };
      await cluster.put('/docker/node/n01', '192.168.100.111');
      await cluster.put('/docker/service/s01', '1005');
    });
    after(async () => {
      await cluster?.stop();
    });

    async function read(opts: EtcdConnectionOptions, prefixes = ['/docker']) {
      const backend = await createReadBackend({ requestTimeoutMs: 5000, ...opts });
      try {
        return await backend.getValues(prefixes);
      } finally {
        await backend.close();
      }
    }

    test('reads through all three https endpoints with CA, client cert and key', async () => {
      const snap = await read({ nodes: cluster.endpoints, ...tls });
      assert.deepEqual(snap.kvs, [
        { key: '/docker/node/n01', value: '192.168.100.111' },
        { key: '/docker/service/s01', value: '1005' },
      ]);
    });

    test('bare host:port endpoints use TLS when TLS files are given (as confd)', async () => {
      const bare = cluster.endpoints.map((e) => new URL(e).host);
      const snap = await read({ nodes: bare, ...tls });
      assert.equal(snap.kvs.length, 2);
    });

    test('without a client certificate the cluster refuses the client', async () => {
      await assert.rejects(read({ nodes: cluster.endpoints, clientCaKeys: cluster.certs!.ca }), (e: Error) => {
        assert.match(e.message, /etcd/);
        assert.ok(cluster.endpoints.some((ep) => e.message.includes(ep)), e.message);
        return true;
      });
    });

    test('a server certificate our CA did not sign is refused with a TLS error', async () => {
      const certs = cluster.certs!;
      await assert.rejects(
        read({ nodes: cluster.endpoints, clientCaKeys: certs.otherCa, clientCert: certs.client.cert, clientKey: certs.client.key }),
        (e: Error) => {
          assert.match(e.message, /TLS handshake failed/);
          assert.match(e.message, /certificate/);
          return true;
        },
      );
    });

    test('-client-insecure skips server verification (no CA, or the wrong one)', async () => {
      const certs = cluster.certs!;
      const withWrongCa = await read({
        nodes: cluster.endpoints, clientCaKeys: certs.otherCa, clientCert: certs.client.cert, clientKey: certs.client.key, clientInsecure: true,
      });
      assert.equal(withWrongCa.kvs.length, 2);
      const noCa = await read({ nodes: cluster.endpoints, clientCert: certs.client.cert, clientKey: certs.client.key, clientInsecure: true });
      assert.equal(noCa.kvs.length, 2);
    });

    test('a dead first -node: reads still work', async () => {
      const dead = `https://127.0.0.1:${await freePort()}`;
      const snap = await read({ nodes: [dead, ...cluster.endpoints.slice(1)], ...tls });
      assert.equal(snap.kvs.length, 2);
    });

    test('one member killed: reads keep working, and after its restart too', async () => {
      const first = cluster.members[0]!;
      await first.kill();
      try {
        const backend = await createReadBackend({ nodes: cluster.endpoints, ...tls, requestTimeoutMs: 5000 });
        try {
          for (let i = 0; i < 10; i++) {
            await cluster.put('/docker/service/s02', String(2000 + i));
            const snap = await backend.getValues(['/docker/service']);
            assert.equal(snap.kvs.find((kv) => kv.key === '/docker/service/s02')?.value, String(2000 + i));
          }
        } finally {
          await backend.close();
        }
      } finally {
        await first.start();
      }
      const snap = await read({ nodes: [first.clientUrl], ...tls }, ['/docker/service']);
      assert.equal(snap.kvs.find((kv) => kv.key === '/docker/service/s02')?.value, '2009');
    });
  });
}
