// etcd user/password auth (confd: -basic-auth -username U -password P).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import type { EtcdConnectionOptions } from '../../../src/backends/etcdv3/endpoints.js';
import { READ_CLIENTS } from './read-clients.js';
import { createEtcdV3Backend } from '../../../src/backends/etcdv3/index.js';
import { until } from '../../helpers/wait.js';
import { Logger } from '../../../src/log.js';

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

// Sibling prefixes share one etcd watcher over their covering range; a role that may read each
// prefix but not what lies between them, or only each prefix alone, must still get its watches.
describe('etcdv3 watch with a role per prefix', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
    for (const k of ['/w/a/1', '/w/b/secret', '/w/c/1', '/v/a/1', '/v/b/1']) await etcd.put(k, 'x');
    await etcd.enableAuth('rootpw');
    await etcd.etcdctl(['user', 'add', 'watcher:watcherpw']);
    await etcd.etcdctl(['role', 'add', 'w-reader']);
    for (const p of ['/w/a', '/w/c', '/v/a', '/v/b']) await etcd.etcdctl(['role', 'grant-permission', 'w-reader', '--prefix=true', 'read', p]);
    await etcd.etcdctl(['user', 'grant-role', 'watcher', 'w-reader']);
  });
  after(async () => {
    await etcd?.stop();
  });

  for (const [what, prefixes] of [
    ['an unreadable key between them', ['/w/a', '/w/c']],
    ['adjacent prefixes granted one by one', ['/v/a', '/v/b']],
  ] as const) {
    test(`prefixes with ${what} are all watched`, async () => {
      const lines: string[] = [];
      const logger = new Logger({ level: 'debug', write: (line) => void lines.push(line) });
      const backend = await createEtcdV3Backend({ nodes: etcd.endpoints, basicAuth: true, username: 'watcher', password: 'watcherpw', requestTimeoutMs: 5000, logger });
      try {
        const snap = await backend.getValues([...prefixes]);
        const got = new Map<string, string[]>();
        const errors: string[] = [];
        const watches = prefixes.map((p) =>
          backend.watchPrefix(p, snap.revision + 1, {
            onEvents: (events) => got.set(p, [...(got.get(p) ?? []), ...events.map((e) => e.value)]),
            onProgress: () => undefined,
            onCompacted: () => errors.push(`${p} compacted`),
            onConnection: (e) => e && errors.push(e.message),
          }),
        );
        for (const p of prefixes) await etcd.put(`${p}/2`, `new ${p}`);
        await until('every prefix got its event', () => prefixes.every((p) => got.get(p)?.includes(`new ${p}`)), 15_000, () => JSON.stringify([...got]) + lines.join(''));
        assert.deepEqual(errors, [], lines.join(''));
        await Promise.all(watches.map((w) => w.cancel()));
        if (process.env.SHOW_WATCH_LOG) console.log(lines.filter((l) => /etcd watch/.test(l)).join(''));
      } finally {
        await backend.close();
      }
    });
  }
});
