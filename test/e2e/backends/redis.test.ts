// -backend redis against real redis-servers (one plain with keyspace notifications, one with
// requirepass, one with notifications off): the seed in -onetime, confd's reading rules and
// quirks, -watch following sets, deletes, new keys and a server crash, and health/metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ioredis from 'ioredis';
import { ROOT, SEED_EXPECTED, Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { serviceWorkspace, WatchAgent } from '../harness/watch-harness.js';
import { httpGet } from '../harness/operations-harness.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';
import { redisMissing, startRedis, type RedisServer } from '../../helpers/servers.js';

const skip = redisMissing();

describe('-backend redis', { skip, timeout: 180_000 }, () => {
  let redis: RedisServer;
  let locked: RedisServer;
  let quiet: RedisServer;
  let client: InstanceType<typeof ioredis.Redis>;
  const PASSWORD = 'pa55-Word-not-in-logs';

  before(async () => {
    ensureBuilt();
    [redis, locked, quiet] = await Promise.all([startRedis({ unixSocket: true }), startRedis({ password: PASSWORD }), startRedis({ notify: '' })]);
    client = new ioredis.Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 1000) });
    client.on('error', () => undefined);
    await client.connect();
  });
  after(async () => {
    client?.disconnect();
    await Promise.all([redis?.stop(), locked?.stop(), quiet?.stop()]);
  });

  function seedWorkspace(): Workspace {
    const ws = new Workspace({
      'conf.d/nginx.toml':
        '[template]\nprefix = "/docker"\nsrc = "nginx.tmpl"\ndest = "@OUT@/myapp.conf"\nmode = "0644"\nkeys = ["/node", "/service"]\n',
    });
    cpSync(join(ROOT, 'templates/nginx.tmpl'), join(ws.confdir, 'templates/nginx.tmpl'));
    return ws;
  }

  test('-onetime renders the seed example byte for byte; over TCP, a unix socket, and a database number', async () => {
    const seed: Record<string, string> = {
      '/docker/node/n01': '192.168.100.111',
      '/docker/node/n02': '192.168.100.112',
      '/docker/node/n03': '192.168.100.113',
      '/docker/service/s01': '1005',
      '/docker/service/s02': '1007',
    };
    for (const [k, v] of Object.entries(seed)) await client.set(k, v);
    // The same keys in database 3, and nothing else there.
    const db3 = client.duplicate({ db: 3 });
    for (const [k, v] of Object.entries(seed)) await db3.set(k, v);
    await db3.set('/docker/node/n04', '192.168.100.114');
    db3.disconnect();
    const expected = readFileSync(SEED_EXPECTED);
    // The first node that connects is used: a dead one first is skipped.
    for (const nodes of [[redis.node], [redis.socket!], ['127.0.0.1:1', redis.node]]) {
      const node = nodes.join(' ');
      const ws = seedWorkspace();
      try {
        const r = await runCli(['-onetime', '-backend', 'redis', ...nodes.flatMap((n) => ['-node', n]), '-confdir', ws.confdir]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(readFileSync(join(ws.out, 'myapp.conf')), expected, node);
      } finally {
        ws.cleanup();
      }
    }
    const ws = seedWorkspace();
    try {
      const r = await runCli(['-onetime', '-backend', 'redis', '-node', `${redis.node}/3`, '-confdir', ws.confdir]);
      assert.equal(r.code, 0, r.stderr);
      const text = readFileSync(join(ws.out, 'myapp.conf'), 'utf8');
      assert.match(text, /server 192\.168\.100\.114:1005\n/, 'database 3 was read');
    } finally {
      ws.cleanup();
    }
  });

  test("confd's reading rules: a string, a hash named by a key, a scan that skips hashes, /* stripped, -separator", async () => {
    await client.set('/q/str', 'plain');
    await client.hset('/q/hash', { a: '1', b: '2' });
    await client.set('/q/tree/x', 'X');
    await client.set('/q/tree/y', 'Y');
    await client.hset('/q/tree/h', { f: 'in a hash below a scanned key' });
    await client.rpush('/q/tree/list', 'l');
    // -separator ':' : /q/sep/db/url is stored as q:sep:db:url.
    await client.set('q:sep:db:url', 'postgres://db');
    await client.set('q:sep:db:user', 'app');
    const ws = new Workspace({
      'conf.d/q.toml': '[template]\nsrc = "q.tmpl"\ndest = "@OUT@/q.conf"\nkeys = ["/q/str", "/q/hash", "/q/tree/*"]\n',
      'templates/q.tmpl': '{{range gets "/q/*"}}{{.Key}}={{.Value}}\n{{end}}{{range gets "/q/*/*"}}{{.Key}}={{.Value}}\n{{end}}',
      'conf.d/sep.toml': '[template]\nprefix = "/q/sep"\nsrc = "sep.tmpl"\ndest = "@OUT@/sep.conf"\nkeys = ["/db"]\n',
      'templates/sep.tmpl': '{{range gets "/db/*"}}{{.Key}}={{.Value}}\n{{end}}',
    });
    try {
      const r = await runCli(['-onetime', '-backend', 'redis', '-node', redis.node, '-confdir', ws.confdir, '-separator', ':']);
      assert.equal(r.code, 0, r.stderr);
      // With ':' the keys are looked up as q:str, q:hash, q:tree:* — which do not exist: nothing but sep.
      assert.equal(readFileSync(join(ws.out, 'sep.conf'), 'utf8'), '/db/url=postgres://db\n/db/user=app\n');
      const plain = await runCli(['-onetime', '-backend', 'redis', '-node', redis.node, '-confdir', ws.confdir]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(
        readFileSync(join(ws.out, 'q.conf'), 'utf8'),
        '/q/str=plain\n/q/hash/a=1\n/q/hash/b=2\n/q/tree/x=X\n/q/tree/y=Y\n',
        'the hash and the list under the scanned /q/tree are not read, as in confd',
      );
      assert.equal(plain.stderr.match(/hold a hash, list or set and are not read/g)?.length, 1, plain.stderr);
    } finally {
      ws.cleanup();
    }
  });

  test('the password: -password, CONFD_PASSWORD, confd.toml, and confd\'s -client-key; a wrong one is refused clearly', async () => {
    await locked.command('SET', '/lk/svc/a', 'locked-value');
    const ws = serviceWorkspace({ prefix: '/lk' });
    const base = ['-onetime', '-backend', 'redis', '-node', locked.node, '-confdir', ws.confdir];
    const conf = join(ws.root, 'confd.toml');
    writeFileSync(conf, `password = "${PASSWORD}"\n`);
    try {
      const ok = [
        await runCli([...base, '-password', PASSWORD]),
        await runCli(base, { env: { CONFD_PASSWORD: PASSWORD } }),
        await runCli([...base, '-config-file', conf]),
      ];
      for (const r of ok) {
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /client-key/);
      }
      const quirk = await runCli([...base, '-client-key', PASSWORD]);
      assert.equal(quirk.code, 0, quirk.stderr);
      assert.match(quirk.stderr, /WARNING redis: using the -client-key value as the redis password, as confd does/);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'a=locked-value\n');

      const wrong = await runCli([...base, '-password', 'not-the-password']);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /FATAL redis: cannot connect to the node \(127\.0\.0\.1:\d+: wrong password or username \(WRONGPASS\)/);
      const none = await runCli(base);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /the server requires a password \(NOAUTH\)/);
      for (const r of [...ok, quirk, wrong, none]) {
        assert.ok(!r.stderr.includes(PASSWORD) && !r.stdout.includes(PASSWORD), 'the password never reaches the output');
      }
    } finally {
      ws.cleanup();
    }
  });

  test('-watch follows a set, a new key, a delete; keeps the file when every key goes; survives a server crash', { timeout: 90_000 }, async () => {
    await client.set('/w/svc/a', '1');
    const a = new WatchAgent(serviceWorkspace({ prefix: '/w' }), ['-backend', 'redis', '-node', redis.node, '-http', '127.0.0.1:0', '-stale-after', '2s']);
    try {
      await a.until('first render', () => a.content() === 'a=1\n' && a.url !== '');
      await client.set('/w/svc/a', '2');
      await a.until('a set', () => a.content() === 'a=2\n');
      await client.set('/w/svc/b', '3');
      await a.until('a new key', () => a.content() === 'a=2\nb=3\n');
      await client.del('/w/svc/a');
      await a.until('a delete', () => a.content() === 'b=3\n');
      await client.set('/w/other', 'x'); // not under /w/svc
      // A key becoming a hash leaves the scan (as a full read would).
      await client.del('/w/svc/b');
      await client.hset('/w/svc/b', { f: '1' });
      await client.set('/w/svc/c', '4');
      await a.until('hash dropped, c added', () => a.content() === 'c=4\n');

      // Never blank: every key deleted keeps the last file, and /readyz says why.
      await client.del('/w/svc/c');
      await a.until('guard logged', () => /kept|min_keys|fewer keys/i.test(a.logText()) && a.content() === 'c=4\n');
      await client.set('/w/svc/c', '5');
      await a.until('keys back', () => a.content() === 'c=5\n');
      await a.waitFor('ready', async () => (await httpGet(`${a.url}/readyz?strict`)).status === 200);

      // Down: strict readiness says so (the file stays); then a crash and a restart.
      await redis.stop();
      await a.waitFor('not ready while redis is down', async () => {
        const r = await httpGet(`${a.url}/readyz?strict`);
        return r.status === 503 && /unreachable|not in sync|stale/.test(r.body);
      }, 20_000);
      assert.equal(a.content(), 'c=5\n');
      await redis.start();
      await redis.restart({ crash: true, downMs: 500 });
      await client.set('/w/svc/c', '6');
      await client.set('/w/svc/d', '7');
      await a.until('values set after the restart', () => a.content() === 'c=6\nd=7\n', 30_000);
      await a.waitFor('ready again', async () => (await httpGet(`${a.url}/readyz?strict`)).status === 200, 20_000);
      const metrics = parsePrometheusText((await httpGet(`${a.url}/metrics`)).body);
      assert.ok(sampleValue(metrics, 'tsconfd_backend_errors_total', { op: 'watch' }) >= 1, 'the outage counted');
      assert.ok(sampleValue(metrics, 'tsconfd_writes_total', { resource: 'app.toml' }) >= 6);
      assert.equal(sampleValue(metrics, 'tsconfd_build_info', { backend: 'redis' }), 1);
      await a.until('the reconnect said', () => /redis: pub\/sub connection to .* restored; reading every watched prefix again/.test(a.logText()));
      assert.equal(await a.stop(), 0);
    } finally {
      await a.stop();
      a.ws.cleanup();
    }
  });

  test('-watch where CONFIG is refused says it cannot check, and still follows notifications', { timeout: 60_000 }, async () => {
    const locked = await startRedis({ extraArgs: ['--rename-command', 'CONFIG', ''] });
    const a = new WatchAgent(serviceWorkspace({ prefix: '/c' }), ['-backend', 'redis', '-node', locked.node]);
    try {
      await locked.command('SET', '/c/svc/a', '1');
      await a.until('first render', () => a.content() === 'a=1\n');
      await a.until('the warning', () => /WARNING redis: cannot check notify-keyspace-events \(CONFIG GET refused: /.test(a.logText()));
      await locked.command('SET', '/c/svc/a', '2');
      await a.until('the notification', () => a.content() === 'a=2\n');
    } finally {
      await a.stop();
      a.ws.cleanup();
      await locked.stop();
    }
  });

  test('-watch with keyspace notifications off says so and follows changes at -interval', { timeout: 60_000 }, async () => {
    await quiet.command('SET', '/n/svc/a', '1');
    const a = new WatchAgent(serviceWorkspace({ prefix: '/n' }), ['-backend', 'redis', '-node', quiet.node, '-interval', '1', '-log-format', 'json']);
    try {
      await a.until('first render', () => a.content() === 'a=1\n');
      await a.until('the warning', () => a.logText().includes('keyspace notifications are off (notify-keyspace-events is \\"\\"'));
      await quiet.command('SET', '/n/svc/a', '2');
      await a.until('the -interval re-read', () => a.content() === 'a=2\n', 10_000);
      // -log-format json: lines about a resource carry it and its dest.
      const line = a.log.map((l) => JSON.parse(l) as Record<string, unknown>).find((o) => /has been updated/.test(String(o.msg ?? o.message)));
      assert.ok(line && line.resource !== undefined && line.dest === a.dest, JSON.stringify(line));
      assert.equal(a.log.filter((l) => l.includes('keyspace notifications are off')).length, 1, 'said once');
    } finally {
      await a.stop();
      a.ws.cleanup();
    }
  });
});
