import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteRetries } from '../../src/runtime/write-retry.js';
import type { TemplateResource } from '../../src/resource/model.js';
import type { ResourceOutcome } from '../../src/runtime/pass.js';
import { capturingLogger } from '../helpers/log.js';

const r = { file: 'conf.d/app.toml', dest: '/etc/app.conf' } as TemplateResource;
const writeFailed: ResourceOutcome[] = [{ resource: r, status: 'failed', stage: 'write', error: 'open /etc/.app.conf1: no space left on device' }];
const updated: ResourceOutcome[] = [{ resource: r, status: 'updated' }];

test('backoff doubles from 1 s to at most 60 s while the write fails; a success ends it, once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { log, lines } = capturingLogger('info');
  const due: TemplateResource[] = [];
  const failing: boolean[] = [];
  const retries = new WriteRetries({ log, retry: (x) => due.push(x), onFailing: (_x, f) => failing.push(f) });
  for (let i = 0; i < 9; i++) retries.settled(r, writeFailed);
  const delays = lines.map((l) => /retrying in (\S+)\s*$/.exec(l)?.[1]).filter(Boolean);
  assert.deepEqual(delays, ['1.0s', '2.0s', '4.0s', '8.0s', '16s', '32s', '60s', '60s', '60s']);
  assert.deepEqual(failing, [true], 'the gauge is set once');
  assert.match(retries.describe()[0]!, /^conf\.d\/app\.toml \(dest \/etc\/app\.conf\): open .*no space left on device; failing for .*, 9 failed write\(s\), next retry in 60s$/);
  t.mock.timers.tick(60_000);
  assert.deepEqual(due, [r], 'one pending retry, not nine');
  retries.settled(r, updated);
  assert.deepEqual(failing, [true, false]);
  assert.deepEqual(retries.describe(), []);
  assert.ok(lines.some((l) => l.includes('/etc/app.conf: written after 9 failed write(s)')));
  retries.settled(r, updated);
  assert.deepEqual(failing, [true, false]);
});

test('a render supersedes the pending retry; close() cancels all; other failures are not retried', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const due: TemplateResource[] = [];
  const retries = new WriteRetries({ log: capturingLogger().log, retry: (x) => due.push(x) });
  retries.settled(r, writeFailed);
  retries.rendering(r);
  t.mock.timers.tick(5_000);
  assert.deepEqual(due, []);
  retries.settled(r, [{ resource: r, status: 'failed', stage: 'check', error: 'Config check failed' }]);
  assert.deepEqual(retries.describe(), [], 'a check failure is not a write failure');
  retries.settled(r, writeFailed);
  retries.close();
  t.mock.timers.tick(5_000);
  assert.deepEqual(due, []);
  assert.deepEqual(retries.describe(), []);
});
