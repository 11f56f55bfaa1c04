// -backend zookeeper against a real ZooKeeper (one per file: Java starts slowly): the seed in
// -onetime, confd's tree walk (nested znodes, a znode with children has no value of its own, a
// missing key fails), -watch following data changes, new children, deletes and a server restart,
// and health/metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SEED_EXPECTED, Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { serviceWorkspace, WatchAgent } from '../harness/watch-harness.js';
import { Agent } from '../harness/agent.js';
import { httpGet } from '../harness/operations-harness.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';
import { startZookeeper, zkWriter, zookeeperMissing, type ZkWriter, type ZookeeperServer } from '../../helpers/servers.js';

const skip = zookeeperMissing();

describe('-backend zookeeper', { skip, timeout: 240_000 }, () => {
  let server: ZookeeperServer;
  let zk: ZkWriter;

  before(async () => {
    ensureBuilt();
    server = await startZookeeper();
    zk = await zkWriter(server.node);
  });
  after(async () => {
    zk?.close();
    await server?.stop();
  });

  test('-onetime renders the seed example byte for byte', async () => {
    const seed: Record<string, string> = {
      '/docker/node/n01': '192.168.100.111',
      '/docker/node/n02': '192.168.100.112',
      '/docker/node/n03': '192.168.100.113',
      '/docker/service/s01': '1005',
      '/docker/service/s02': '1007',
    };
    for (const [k, v] of Object.entries(seed)) await zk.put(k, v);
    const ws = new Workspace({
      'conf.d/nginx.toml':
        '[template]\nprefix = "/docker"\nsrc = "nginx.tmpl"\ndest = "@OUT@/myapp.conf"\nmode = "0644"\nkeys = ["/node", "/service"]\n',
    });
    cpSync(join(ROOT, 'templates/nginx.tmpl'), join(ws.confdir, 'templates/nginx.tmpl'));
    try {
      const r = await runCli(['-onetime', '-backend', 'zookeeper', '-node', server.node, '-confdir', ws.confdir]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readFileSync(join(ws.out, 'myapp.conf')), readFileSync(SEED_EXPECTED));
      // Several nodes make one session; a dead one among them is skipped.
      const two = await runCli(['-onetime', '-backend', 'zookeeper', '-node', '127.0.0.1:1', '-node', server.node, '-confdir', ws.confdir]);
      assert.equal(two.code, 0, two.stderr);
      // -interval alone (confd's default mode) polls ZooKeeper.
      const agent = new Agent(['-interval', '1', '-backend', 'zookeeper', '-node', server.node, '-confdir', ws.confdir]);
      try {
        await zk.put('/docker/node/n03', '192.168.100.199');
        await agent.waitFor('the next poll', () => readFileSync(join(ws.out, 'myapp.conf'), 'utf8').includes('server 192.168.100.199:1005'));
      } finally {
        assert.equal(await agent.stop(), 0);
      }
    } finally {
      ws.cleanup();
    }
  });

  test("confd's walk: nested znodes are leaves' values, a znode with children has none; a missing key fails", async () => {
    await zk.put('/t/app/leaf', 'L');
    await zk.put('/t/app/dir', 'data of a znode with children: never a value');
    await zk.put('/t/app/dir/x', 'X');
    await zk.put('/t/app/dir/deeper/y', 'Y');
    await zk.put('/t/single', 'S'); // a key that is itself a leaf
    const ws = new Workspace({
      'conf.d/t.toml': '[template]\nsrc = "t.tmpl"\ndest = "@OUT@/t.conf"\nkeys = ["/t/app/*", "/t/single"]\n',
      'templates/t.tmpl': '{{range getvs "/t/*"}}{{.}}\n{{end}}{{range gets "/t/app/*"}}{{.Key}}={{.Value}}\n{{end}}{{range gets "/t/app/*/*"}}{{.Key}}={{.Value}}\n{{end}}{{range gets "/t/app/*/*/*"}}{{.Key}}={{.Value}}\n{{end}}',
    });
    try {
      const r = await runCli(['-onetime', '-backend', 'zookeeper', '-node', server.node, '-confdir', ws.confdir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(ws.out, 't.conf'), 'utf8'), 'S\n/t/app/leaf=L\n/t/app/dir/x=X\n/t/app/dir/deeper/y=Y\n');

      // A missing key fails the resource naming it (confd's "node does not exist"); the others render.
      await zk.put('/t/app/leaf', 'L2');
      ws.write({ 'conf.d/u.toml': '[template]\nsrc = "t.tmpl"\ndest = "@OUT@/u.conf"\nkeys = ["/t/nosuch"]\n' });
      const missing = await runCli(['-onetime', '-backend', 'zookeeper', '-node', server.node, '-confdir', ws.confdir]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /ERROR zookeeper: node does not exist: \/t\/nosuch/);
      assert.match(missing.stderr, /FATAL 1 of 2 template resources failed: .*u\.toml .*node does not exist: \/t\/nosuch/);
      assert.equal(readFileSync(join(ws.out, 't.conf'), 'utf8'), 'S\n/t/app/leaf=L2\n/t/app/dir/x=X\n/t/app/dir/deeper/y=Y\n', 'the other resource renders');
      assert.deepEqual(ws.outFiles(), ['t.conf'], 'nothing written for the failed one');
    } finally {
      ws.cleanup();
    }
  });

  test('-onetime with no server fails clearly', async () => {
    const ws = serviceWorkspace({ prefix: '/none' });
    try {
      const r = await runCli(['-onetime', '-backend', 'zookeeper', '-node', '127.0.0.1:1', '-confdir', ws.confdir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /zookeeper: cannot connect to 127\.0\.0\.1:1 within 5 s/);
    } finally {
      ws.cleanup();
    }
  });

  test('-watch follows data, new children, nested changes, deletes; keeps the file when every key goes; survives a restart', { timeout: 150_000 }, async () => {
    await zk.put('/w/svc/a', '1');
    const ws = serviceWorkspace({ prefix: '/w' });
    // A second resource whose key does not exist yet: it waits, the first renders.
    ws.write({
      'conf.d/later.toml': '[template]\nprefix = "/w"\nsrc = "later.tmpl"\ndest = "@OUT@/later.conf"\nkeys = ["/later"]\n',
      'templates/later.tmpl': '{{range gets "/later/*"}}{{base .Key}}={{.Value}}\n{{end}}',
    });
    const later = () => (ws.outFiles().includes('later.conf') ? readFileSync(join(ws.out, 'later.conf'), 'utf8') : undefined);
    const a = new WatchAgent(ws, ['-backend', 'zookeeper', '-node', server.node, '-http', '127.0.0.1:0', '-stale-after', '3s']);
    try {
      await a.until('first render', () => a.content() === 'a=1\n' && a.url !== '', 20_000);
      assert.equal(later(), undefined);
      await a.until('the missing key said', () => /zookeeper: node does not exist: \/w\/later; resources naming it keep their files until it exists/.test(a.logText()));
      await zk.put('/w/later/x', 'late');
      await a.until('the missing key appeared', () => later() === 'x=late\n');
      await zk.put('/w/svc/a', '2');
      await a.until('a data change', () => a.content() === 'a=2\n');
      await zk.put('/w/svc/b', '3');
      await a.until('a new child', () => a.content() === 'a=2\nb=3\n');
      // b gets a child: b has children now, so its own data is no value (confd's walk).
      await zk.put('/w/svc/b/inner', 'i');
      await a.until('b left the values', () => a.content() === 'a=2\n');
      await zk.remove('/w/svc/b/inner');
      await a.until('b a leaf again', () => a.content() === 'a=2\nb=3\n');
      await zk.remove('/w/svc/a');
      await a.until('a delete', () => a.content() === 'b=3\n');
      // The watch re-arms: the same znode changes again and again.
      for (const v of ['4', '5', '6']) {
        await zk.put('/w/svc/b', v);
        await a.until(`b=${v}`, () => a.content() === `b=${v}\n`);
      }

      // The whole key deleted: "node does not exist", the file is kept; created again, it renders.
      await zk.remove('/w/svc');
      await a.until('said', () => /node does not exist: \/w\/svc; resources naming it keep their files/.test(a.logText()));
      await a.waitFor('not ready meanwhile (strict readiness: the mirror is not in sync)', async () => {
        const r = await httpGet(`${a.url}/readyz?strict`);
        return r.status === 503 && /not in sync/.test(r.body);
      });
      assert.equal(a.content(), 'b=6\n');
      await zk.put('/w/svc/c', '7');
      await a.until('prefix back', () => a.content() === 'c=7\n');
      await a.waitFor('ready', async () => (await httpGet(`${a.url}/readyz?strict`)).status === 200);

      await server.restart({ crash: true, downMs: 500 });
      await a.waitFor('not ready while down or just back', () => /disconnected from|session expired/.test(a.logText()), 20_000);
      const writer = await zkWriter(server.node);
      try {
        await writer.put('/w/svc/c', '8');
        await writer.put('/w/svc/d', '9');
      } finally {
        writer.close();
      }
      await a.until('values set after the restart', () => a.content() === 'c=8\nd=9\n', 40_000);

      // A rebuilt server (data dir wiped): the session is expired, a new one reads and watches everything.
      await server.restart({ wipe: true });
      const rebuilt = await zkWriter(server.node);
      try {
        await rebuilt.put('/w/svc/e', '10');
        await rebuilt.put('/w/later/x', 'again');
      } finally {
        rebuilt.close();
      }
      await a.until('the new session follows the rebuilt tree', () => a.content() === 'e=10\n' && later() === 'x=again\n', 40_000);
      await a.until('the new session said', () =>
        /zookeeper: (the session expired \(its watches are gone\)|no session for 8 s \(a rebuilt server refuses the old one\)); starting a new session/.test(a.logText()),
      );
      await a.waitFor('ready again', async () => (await httpGet(`${a.url}/readyz?strict`)).status === 200, 20_000);
      const metrics = parsePrometheusText((await httpGet(`${a.url}/metrics`)).body);
      assert.ok(sampleValue(metrics, 'tsconfd_backend_errors_total', { op: 'watch' }) >= 1, 'the outage counted');
      assert.equal(sampleValue(metrics, 'tsconfd_build_info', { backend: 'zookeeper' }), 1);
      assert.equal(await a.stop(), 0);
    } finally {
      await a.stop();
      a.ws.cleanup();
    }
  });
});
