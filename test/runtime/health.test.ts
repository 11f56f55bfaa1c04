import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect, createServer } from 'node:net';
import {
  evaluateReadiness,
  parseListenAddress,
  startHealthServer,
  type Readiness,
} from '../../src/runtime/health.js';
import { Metrics } from '../../src/runtime/metrics.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

const healthy: Readiness = {
  backendReachable: true,
  mirrorInSync: true,
  mirrorAgeMs: 1_000,
  staleAfterMs: 60_000,
  resourcesNeverRendered: [],
};

async function get(url: string, method = 'GET') {
  const response = await fetch(url, { method });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

test('evaluateReadiness: one reason per failed condition; after every resource rendered, a backend problem is stale, not unready', () => {
  assert.deepEqual(evaluateReadiness(healthy), { ready: true, reasons: [], stale: false });
  assert.deepEqual(evaluateReadiness({ ...healthy, backendReachable: false }), { ready: true, reasons: ['backend unreachable'], stale: true });
  assert.deepEqual(evaluateReadiness({ ...healthy, backendReachable: false }, true), { ready: false, reasons: ['backend unreachable'], stale: true });
  for (const degraded of [{ mirrorInSync: false }, { mirrorAgeMs: 61_000 }, { destinationsGuarded: ['/etc/x.conf'] }]) {
    assert.equal(evaluateReadiness({ ...healthy, ...degraded }).ready, true, JSON.stringify(degraded));
    assert.equal(evaluateReadiness({ ...healthy, ...degraded }).stale, true, JSON.stringify(degraded));
    assert.equal(evaluateReadiness({ ...healthy, ...degraded }, true).ready, false, JSON.stringify(degraded));
  }
  // Before every resource rendered once, nothing on disk can be trusted yet: not ready, strict or not.
  const starting = evaluateReadiness({ ...healthy, backendReachable: false, resourcesNeverRendered: ['a.toml'] });
  assert.deepEqual(starting, { ready: false, reasons: ['backend unreachable', 'never rendered: a.toml'], stale: false });
  assert.deepEqual(evaluateReadiness({ ...healthy, mirrorInSync: false }).reasons, ['mirror not in sync with the backend']);
  assert.deepEqual(evaluateReadiness({ ...healthy, mirrorAgeMs: 61_000 }).reasons, [
    'mirror is stale: last in sync 61s ago (stale-after 60s)',
  ]);
  assert.equal(evaluateReadiness({ ...healthy, mirrorAgeMs: 60_000 }, true).ready, true, 'exactly stale-after is still fresh');
  assert.equal(evaluateReadiness({ ...healthy, mirrorAgeMs: 10 ** 9, staleAfterMs: 0 }, true).ready, true, '0 disables the age check');
  assert.deepEqual(evaluateReadiness({ ...healthy, mirrorAgeMs: null, mirrorInSync: false }).reasons, [
    'keys never read from the backend',
  ]);
  const many = Array.from({ length: 12 }, (_, i) => `r${i}.toml`);
  assert.deepEqual(evaluateReadiness({ ...healthy, resourcesNeverRendered: many }).reasons, [
    'never rendered: r0.toml, r1.toml, r2.toml, r3.toml, r4.toml, r5.toml, r6.toml, r7.toml, r8.toml, r9.toml and 2 more',
  ]);
  const all = evaluateReadiness({ ...healthy, backendReachable: false, mirrorInSync: false, resourcesNeverRendered: ['a.toml'] }, true);
  assert.equal(all.ready, false);
  assert.equal(all.reasons.length, 3);
});

test('evaluateReadiness: a failing write is a warning once the resource rendered, a reason (never rendered) before', () => {
  const failing = 'app.toml (dest /etc/app.conf): write /etc/.app.conf1: no space left on device; failing for 3.0s, 2 failed write(s), next retry in 2.0s';
  assert.deepEqual(evaluateReadiness({ ...healthy, writesFailing: [failing] }), {
    ready: true,
    reasons: [],
    stale: false,
    warnings: [`write failing, retried with backoff: ${failing}`],
  });
  assert.equal(evaluateReadiness({ ...healthy, writesFailing: [failing] }, true).ready, false, 'strict fails on a write being retried too');
  const first = evaluateReadiness({ ...healthy, resourcesNeverRendered: ['app.toml'], writesFailing: [failing] });
  assert.equal(first.ready, false);
  assert.deepEqual(first.reasons, ['never rendered: app.toml']);
  assert.equal(first.warnings?.length, 1);
});

test('parseListenAddress reads Go-style host:port', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(parseListenAddress(':9100'), { host: '', port: 9100 });
  assert.deepEqual(parseListenAddress('[::1]:9100'), { host: '::1', port: 9100 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  for (const bad of ['9100', '127.0.0.1', '127.0.0.1:99999', '::1:9100', 'host:port', '']) {
    assert.throws(() => parseListenAddress(bad), /invalid -http address/, bad);
  }
});

test('the server answers /healthz, /readyz and /metrics and follows the readiness provider', async (t) => {
  let state: Readiness = { ...healthy, backendReachable: false, mirrorAgeMs: null, mirrorInSync: false, resourcesNeverRendered: ['nginx.toml'] };
  const metrics = new Metrics({ processMetrics: false, version: 'test' });
  const server = await startHealthServer({ listen: '127.0.0.1:0', readiness: () => state, metrics });
  t.after(() => server.close());
  assert.equal(server.address.host, '127.0.0.1');
  assert.ok(server.address.port > 0);

  const health = await get(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(health.body, 'ok\n');

  let ready = await get(`${server.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(ready.type ?? '', /^application\/json/);
  const notReady = JSON.parse(ready.body);
  assert.equal(notReady.ready, false);
  assert.deepEqual(notReady.reasons, ['backend unreachable', 'keys never read from the backend', 'never rendered: nginx.toml']);
  assert.equal(notReady.mirrorAgeSeconds, null);

  state = healthy;
  ready = await get(`${server.url}/readyz?verbose=1`);
  assert.equal(ready.status, 200);
  assert.deepEqual(JSON.parse(ready.body), {
    ready: true,
    reasons: [],
    stale: false,
    strict: false,
    backendReachable: true,
    mirrorInSync: true,
    mirrorAgeSeconds: 1,
    staleAfterSeconds: 60,
    resourcesNeverRendered: [],
    writesFailing: [],
  });

  // The backend stalls after every resource rendered: still ready (the files are good), stale, and the body says the
  // backend does not answer; ?strict (or -strict-readiness) makes it 503; /healthz is untouched.
  state = { ...healthy, mirrorAgeMs: 61_000 };
  ready = await get(`${server.url}/readyz`);
  assert.equal(ready.status, 200);
  const stale = JSON.parse(ready.body);
  assert.equal(stale.stale, true);
  assert.equal(stale.backendReachable, false);
  assert.deepEqual(stale.reasons, ['mirror is stale: last in sync 61s ago (stale-after 60s)']);
  const strict = await get(`${server.url}/readyz?strict`);
  assert.equal(strict.status, 503);
  assert.equal(JSON.parse(strict.body).strict, true);
  assert.equal((await get(`${server.url}/healthz`)).status, 200);
  let families = parsePrometheusText((await get(`${server.url}/metrics`)).body);
  assert.equal(sampleValue(families, 'tsconfd_stale', {}), 1);
  assert.equal(sampleValue(families, 'tsconfd_ready', {}), 1);
  state = healthy;

  metrics.render('nginx.toml');
  const scraped = await get(`${server.url}/metrics`);
  assert.equal(scraped.status, 200);
  assert.match(scraped.type ?? '', /^text\/plain; version=0\.0\.4/);
  families = parsePrometheusText(scraped.body);
  assert.equal(sampleValue(families, 'tsconfd_stale', {}), 0);
  assert.equal(sampleValue(families, 'tsconfd_renders_total', { resource: 'nginx.toml' }), 1);

  const head = await get(`${server.url}/readyz`, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal((await get(`${server.url}/healthz`, 'POST')).status, 405);
  assert.equal((await get(`${server.url}/nope`)).status, 404);
});

test('a readiness provider that throws gives 503 with the error as the reason', async (t) => {
  const server = await startHealthServer({
    listen: '127.0.0.1:0',
    readiness: () => {
      throw new Error('runtime not started');
    },
    metrics: new Metrics({ processMetrics: false }),
  });
  t.after(() => server.close());
  const ready = await get(`${server.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(JSON.parse(ready.body), { ready: false, reasons: ['readiness check failed: runtime not started'] });
  assert.equal((await get(`${server.url}/healthz`)).status, 200, 'liveness does not depend on readiness');
});

test('a port in use is an error at start, and close() releases the port even with a keep-alive client', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const busyPort = (blocker.address() as { port: number }).port;
  await assert.rejects(
    startHealthServer({ listen: `127.0.0.1:${busyPort}`, readiness: () => healthy, metrics: new Metrics({ processMetrics: false }) }),
    new RegExp(`^Error: -http 127\\.0\\.0\\.1:${busyPort}: address 127\\.0\\.0\\.1:${busyPort} is already in use`),
  );
  await new Promise<void>((resolve) => blocker.close(() => resolve()));

  const server = await startHealthServer({ listen: '127.0.0.1:0', readiness: () => healthy, metrics: new Metrics({ processMetrics: false }) });
  const port = server.address.port;
  // An idle keep-alive connection would hold server.close() open for Node's 5 s keep-alive timeout.
  const agent = new Agent({ keepAlive: true });
  const agentResponse = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(agentResponse, 200);
  const started = Date.now();
  await server.close();
  assert.ok(Date.now() - started < 1_000, 'close is prompt');
  agent.destroy();
  const again = await startHealthServer({ listen: `127.0.0.1:${port}`, readiness: () => healthy, metrics: new Metrics({ processMetrics: false }) });
  await again.close();
});

test('idle connections are closed by the server: one that sends nothing, one stuck in its headers, an idle keep-alive', { timeout: 30_000 }, async (t) => {
  const metrics = new Metrics({ processMetrics: false });
  const server = await startHealthServer({ listen: '127.0.0.1:0', readiness: () => healthy, metrics });
  t.after(() => server.close());
  // Resolves with what the server sent once it closed the socket; the test's timeout bounds the wait (Node's
  // own check ran every 30 s: such sockets lived 30 s before).
  const idle = (send: string) =>
    new Promise<string>((resolve, reject) => {
      let received = '';
      const socket = connect(server.address.port, '127.0.0.1', () => send !== '' && socket.write(send));
      socket.setEncoding('utf8').on('data', (d: string) => (received += d));
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
    });
  const started = Date.now();
  const [silent, partial, keptAlive] = await Promise.all([
    idle(''),
    idle('GET /healthz HTTP/1.1\r\nHost: probe\r\n'),
    idle('GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n'),
  ]);
  assert.ok(Date.now() - started < 25_000, 'closed well before the 30 s of Node\'s default check');
  assert.match(silent, /^$|^HTTP\/1\.1 408/);
  assert.match(partial, /^$|^HTTP\/1\.1 408/);
  assert.match(keptAlive, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok\n$/, 'one answer, then closed when idle');
});
