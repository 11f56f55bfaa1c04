// The set-up most e2e test files against etcd share: dist/ built, one etcd for the whole file,
// stopped after its tests.
import { before, after } from 'node:test';
import { ensureBuilt } from './onetime-harness.js';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';

/**
 * Registers the file's before() (build, start etcd, then onStarted: the file keeps the server and
 * seeds keys or enables auth) and after() (stop etcd). The server goes to a callback rather than a
 * return value because it only exists once before() ran.
 */
export function etcdPerFile(onStarted: (etcd: EtcdServer) => unknown): void {
  let etcd: EtcdServer | undefined;
  before(async () => {
    ensureBuilt();
    etcd = await startEtcd();
    await onStarted(etcd);
  });
  after(async () => etcd?.stop());
}
