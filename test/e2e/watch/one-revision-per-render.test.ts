// A resource reading two prefixes renders one revision of both: a transaction that changes a key
// under each must never show up half-applied in the file (against a member, and through grpc-proxy).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import etcd3 from 'etcd3';
import { startCluster, startEtcd, startGrpcProxy, type EtcdServer, type GrpcProxy } from '../../helpers/etcd.js';
import { Workspace } from '../harness/onetime-harness.js';
import { WatchAgent } from '../harness/watch-harness.js';

let etcd: EtcdServer;
let cluster: EtcdServer;
let proxy: GrpcProxy;
before(async () => {
  etcd = await startEtcd();
  cluster = await startCluster();
  proxy = await startGrpcProxy(cluster);
});
after(async () => {
  await proxy?.stop();
  await cluster?.stop();
  await etcd?.stop();
});

test('two prefixes changed in one transaction never render half-applied', () => neverTorn(etcd.endpoints, etcd.endpoints[0]!));

// Through etcd's grpc-proxy no progress request is answered: the render must not trust a quiet stream either.
test('through etcd grpc-proxy too', () => neverTorn(cluster.endpoints, proxy.url));

async function neverTorn(members: readonly string[], node: string): Promise<void> {
  const client = new etcd3.Etcd3({ hosts: [...members] });
  const pair = (i: number) =>
    client.kv.txn({
      success: [
        { request_put: { key: Buffer.from('/cons/a/x'), value: Buffer.from(String(i)) } },
        { request_put: { key: Buffer.from('/cons/b/x'), value: Buffer.from(String(i)) } },
      ],
    });
  await pair(0);
  const ws = new Workspace({
    'conf.d/pair.toml': `[template]
prefix = "/cons"
src = "pair.tmpl"
dest = "@OUT@/app.conf"
keys = ["/a", "/b"]
reload_cmd = "cat @OUT@/app.conf >> @OUT@/../history"
`,
    'templates/pair.tmpl': 'a={{getv "/a/x"}} b={{getv "/b/x"}}\n',
  });
  const a = new WatchAgent(ws, ['-backend', 'etcdv3', '-node', node]);
  try {
    await a.until('first render', () => a.content() === 'a=0 b=0\n');
    const historyFile = join(ws.root, 'history');
    const history = () => (existsSync(historyFile) ? readFileSync(historyFile, 'utf8').trim().split('\n') : []);
    // Bursts of 10 back-to-back transactions, each burst sent once tsconfd has rendered (and reloaded) the
    // last one: renders then overlap 15 bursts however slow the machine is (a busy machine coalesces a
    // free-running stream of 150 into a handful of renders, which would leave little to check).
    for (let i = 1; i <= 150; i++) {
      await pair(i);
      if (i % 10 === 0) await a.until(`pair ${i} rendered`, () => history().at(-1) === `a=${i} b=${i}`);
    }
    assert.equal(a.content(), 'a=150 b=150\n');
    const lines = history();
    assert.ok(lines.length >= 15, `only ${lines.length} renders`);
    const torn = lines.filter((l) => {
      const m = /^a=(\d+) b=(\d+)$/.exec(l);
      return !m || m[1] !== m[2];
    });
    assert.deepEqual(torn, [], `${torn.length} of ${lines.length} renders mixed two revisions`);
  } finally {
    await a.stop();
    ws.cleanup();
    client.close();
  }
}
