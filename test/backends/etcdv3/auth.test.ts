// etcd user/password auth (confd: -basic-auth -username U -password P).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import type { EtcdConnectionOptions } from '../../../src/backends/etcdv3/endpoints.js';
import { READ_CLIENTS } from './read-clients.js';

for (const [client, createReadBackend] of READ_CLIENTS) {
  describe(`etcdv3 backend with etcd auth (${client})`, () => {
    let etcd: EtcdServer;
    before(async () => {
      etcd = await startEtcd();
      await etcd.put('/app/db', 'postgres://db');
      await etcd.put('/secret/key', 'hidden');
      await etcd.enableAuth('rootpw');
      await etcd.etcdctl(['user', 'add', 'reader:readerpw']);
      await etcd.etcdctl(['role', 'add', 'app-reader']);
      await etcd.etcdctl(['role', 'grant-permission', 'app-reader', '--prefix=true', 'read', '/app']);
      await etcd.etcdctl(['user', 'grant-role', 'reader', 'app-reader']);
    });
    after(async () => {
      await etcd?.stop();
    });

    async function read(opts: Omit<EtcdConnectionOptions, 'nodes'>, prefixes: string[]) {
      const backend = await createReadBackend({ nodes: etcd.endpoints, requestTimeoutMs: 5000, ...opts });
      try {
        return await backend.getValues(prefixes);
      } finally {
        await backend.close();
      }
    }

    test('the right user and password read their keys', async () => {
      const snap = await read({ basicAuth: true, username: 'reader', password: 'readerpw' }, ['/app']);
      assert.deepEqual(snap.kvs, [{ key: '/app/db', value: 'postgres://db' }]);
    });

    test('a wrong password is an authentication error that does not print the password', async () => {
      await assert.rejects(read({ basicAuth: true, username: 'reader', password: 'wrong-secret' }, ['/app']), (e: Error) => {
        assert.match(e.message, /refused the credentials|authentication failed/i);
        assert.ok(!e.message.includes('wrong-secret'));
        return true;
      });
    });

    test('a key outside the role is permission denied', async () => {
      await assert.rejects(read({ basicAuth: true, username: 'reader', password: 'readerpw' }, ['/secret']), /permission denied/i);
    });

    test('without -basic-auth the username is not sent (confd), so etcd asks for a user', async () => {
      await assert.rejects(read({ username: 'reader', password: 'readerpw' }, ['/app']), /user name is empty|refused|invalid/i);
    });
  });
}
