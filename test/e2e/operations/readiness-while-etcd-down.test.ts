// The watch runtime in process against real etcd: what it reports to the health endpoint
// (runtime.readiness(), judged by evaluateReadiness) while etcd is up, down and back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { serviceWorkspace } from '../harness/watch-harness.js';
import { until } from '../../helpers/wait.js';
import { createEtcdV3Backend } from '../../../src/backends/etcdv3/index.js';
import { loadResources } from '../../../src/resource/load.js';
import { WatchRuntime } from '../../../src/runtime/watch.js';
import { evaluateReadiness } from '../../../src/runtime/health.js';
import { quietLogger } from '../../helpers/log.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

test('readiness follows the mirror: ready, stale and unreachable while etcd is down, ready again', async () => {
  await etcd.put('/r/svc/a', '1');
  const ws = serviceWorkspace({ prefix: '/r' });
  const log = quietLogger();
  const backend = await createEtcdV3Backend({ nodes: etcd.endpoints, watch: { minBackoffMs: 50, maxBackoffMs: 300 } });
  const runtime = new WatchRuntime(loadResources({ confdir: ws.confdir, prefix: '', log }), backend, {
    noop: false, syncOnly: true, keepStageFile: false, commandTimeoutMs: 10_000, log, writeDiff: () => undefined,
    wait: { minMs: 0, maxMs: 0 }, reconcileMs: 0, staleAfterMs: 600,
  });
  try {
    const before = runtime.readiness();
    assert.equal(before.mirrorAgeMs, null);
    assert.equal(evaluateReadiness(before).ready, false);
    await runtime.start();
    assert.deepEqual(evaluateReadiness(runtime.readiness()), { ready: true, reasons: [], stale: false });

    await etcd.members[0]!.kill();
    await until('not ready (strict)', () => !evaluateReadiness(runtime.readiness(), true).ready);
    // By default the rendered files keep the agent ready; the verdict says stale.
    await until('stale verdict', () => evaluateReadiness(runtime.readiness()).stale);
    assert.equal(evaluateReadiness(runtime.readiness()).ready, true);
    await until('stale', () => runtime.status().stale && runtime.readiness().mirrorAgeMs! > 600);
    const verdict = evaluateReadiness(runtime.readiness());
    assert.ok(verdict.reasons.includes('backend unreachable'), JSON.stringify(verdict));
    assert.ok(verdict.reasons.some((r) => r.startsWith('mirror is stale')), JSON.stringify(verdict));

    await etcd.members[0]!.start();
    await until('ready again (strict)', () => evaluateReadiness(runtime.readiness(), true).ready, 20_000);
    // The stale flag (and its log line) follows on the next staleness check.
    await until('stale flag cleared', () => !runtime.status().stale, 2_000);

    // Never blank a config: the kept destination shows in health until keys come back.
    await etcd.etcdctl(['del', '--prefix', '/r/svc']);
    await until('guard reported', () => evaluateReadiness(runtime.readiness()).reasons.some((r) => r.startsWith('kept with too few keys')));
    assert.deepEqual(runtime.readiness().destinationsGuarded, [ws.out + '/app.conf']);
    assert.equal(evaluateReadiness(runtime.readiness()).ready, true, 'the kept file is good: ready, stale');
    assert.equal(evaluateReadiness(runtime.readiness(), true).ready, false);
    await etcd.put('/r/svc/b', '2');
    await until('ready after keys return', () => evaluateReadiness(runtime.readiness(), true).ready);
  } finally {
    await runtime.stop();
    await backend.close();
    ws.cleanup();
  }
});
