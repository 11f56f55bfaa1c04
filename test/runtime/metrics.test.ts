import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/runtime/metrics.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

function fakeClock(startMs: number) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function scrape(metrics: Metrics) {
  return parsePrometheusText(await metrics.text());
}

test('every tsconfd family is exported with its type and help, and the text parses', async () => {
  const families = await scrape(new Metrics({ processMetrics: false }));
  const expected: Record<string, string> = {
    tsconfd_build_info: 'gauge',
    tsconfd_renders_total: 'counter',
    tsconfd_writes_total: 'counter',
    tsconfd_skipped_unchanged_total: 'counter',
    tsconfd_failures_total: 'counter',
    tsconfd_last_success_timestamp_seconds: 'gauge',
    tsconfd_write_failing: 'gauge',
    tsconfd_command_duration_seconds: 'histogram',
    tsconfd_command_exits_total: 'counter',
    tsconfd_reloads_deferred_total: 'counter',
    tsconfd_backend_requests_total: 'counter',
    tsconfd_backend_errors_total: 'counter',
    tsconfd_backend_request_duration_seconds: 'histogram',
    tsconfd_watch_revision: 'gauge',
    tsconfd_watch_lag_revisions: 'gauge',
    tsconfd_watch_lag_seconds: 'gauge',
    tsconfd_mirror_age_seconds: 'gauge',
    tsconfd_resources: 'gauge',
    tsconfd_ready: 'gauge',
    tsconfd_stale: 'gauge',
  };
  for (const [name, type] of Object.entries(expected)) {
    const family = families.get(name);
    assert.ok(family, `missing ${name}`);
    assert.equal(family.type, type, name);
    assert.ok(family.help && family.help.length > 10, `help of ${name}`);
  }
  assert.deepEqual([...families.keys()].filter((n) => !(n in expected)), [], 'no unexpected families without process metrics');
});

test('resource counters count per resource and per reason', async () => {
  const clock = fakeClock(1_700_000_000_000);
  const metrics = new Metrics({ processMetrics: false, now: clock.now });
  metrics.render('nginx.toml');
  metrics.render('nginx.toml');
  metrics.render('app.toml');
  metrics.write('nginx.toml');
  clock.advance(5_000);
  metrics.skippedUnchanged('nginx.toml');
  metrics.failure('app.toml', 'check');
  metrics.failure('app.toml', 'check');
  metrics.failure('app.toml', 'template');
  const f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_renders_total', { resource: 'nginx.toml' }), 2);
  assert.equal(sampleValue(f, 'tsconfd_renders_total', { resource: 'app.toml' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_writes_total', { resource: 'nginx.toml' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_skipped_unchanged_total', { resource: 'nginx.toml' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_failures_total', { resource: 'app.toml', reason: 'check' }), 2);
  assert.equal(sampleValue(f, 'tsconfd_failures_total', { resource: 'app.toml', reason: 'template' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_last_success_timestamp_seconds', { resource: 'nginx.toml' }), 1_700_000_005);
  assert.throws(() => sampleValue(f, 'tsconfd_last_success_timestamp_seconds', { resource: 'app.toml' }), /0 samples/);
});

test('command durations land in histogram buckets and outcomes are counted by code', async () => {
  const metrics = new Metrics({ processMetrics: false });
  metrics.command('nginx.toml', 'check', 30, 0);
  metrics.command('nginx.toml', 'check', 40, 1);
  metrics.command('nginx.toml', 'reload', 2_500, 'timeout');
  metrics.command('nginx.toml', 'reload', 10, 'SIGKILL');
  const f = await scrape(metrics);
  const check = { resource: 'nginx.toml', kind: 'check' };
  assert.equal(sampleValue(f, 'tsconfd_command_duration_seconds_count', check), 2);
  assert.ok(Math.abs(sampleValue(f, 'tsconfd_command_duration_seconds_sum', check) - 0.07) < 1e-9);
  assert.equal(sampleValue(f, 'tsconfd_command_duration_seconds_bucket', { ...check, le: '0.025' }), 0);
  assert.equal(sampleValue(f, 'tsconfd_command_duration_seconds_bucket', { ...check, le: '0.05' }), 2);
  const reload = { resource: 'nginx.toml', kind: 'reload' };
  assert.equal(sampleValue(f, 'tsconfd_command_duration_seconds_bucket', { ...reload, le: '1' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_command_duration_seconds_bucket', { ...reload, le: '5' }), 2);
  assert.equal(sampleValue(f, 'tsconfd_command_exits_total', { ...check, code: '0' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_command_exits_total', { ...check, code: '1' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_command_exits_total', { ...reload, code: 'timeout' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_command_exits_total', { ...reload, code: 'SIGKILL' }), 1);
});

test('backend requests, errors and durations per operation', async () => {
  const metrics = new Metrics({ processMetrics: false });
  metrics.backendRequest('range', 3, true);
  metrics.backendRequest('range', 2_000, false);
  metrics.backendRequest('watch', 1, true);
  const f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_backend_requests_total', { op: 'range' }), 2);
  assert.equal(sampleValue(f, 'tsconfd_backend_errors_total', { op: 'range' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_backend_requests_total', { op: 'watch' }), 1);
  assert.throws(() => sampleValue(f, 'tsconfd_backend_errors_total', { op: 'watch' }), /0 samples/);
  assert.equal(sampleValue(f, 'tsconfd_backend_request_duration_seconds_bucket', { op: 'range', le: '0.005' }), 1);
});

test('watch revision and lag', async () => {
  const metrics = new Metrics({ processMetrics: false });
  metrics.watchRevision(120, 125, 40);
  let f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_watch_revision'), 120);
  assert.equal(sampleValue(f, 'tsconfd_watch_lag_revisions'), 5);
  assert.equal(sampleValue(f, 'tsconfd_watch_lag_seconds'), 0.04);
  metrics.watchRevision(125);
  f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_watch_revision'), 125);
  assert.equal(sampleValue(f, 'tsconfd_watch_lag_revisions'), 5, 'an unknown head leaves the last lag');
});

test('mirror age is absent before the first sync and grows at scrape time', async () => {
  const clock = fakeClock(1_000_000);
  const metrics = new Metrics({ processMetrics: false, now: clock.now });
  let f = await scrape(metrics);
  assert.deepEqual(f.get('tsconfd_mirror_age_seconds')?.samples, []);
  metrics.mirrorSynced();
  clock.advance(2_500);
  f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_mirror_age_seconds'), 2.5);
  clock.advance(30_000);
  f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_mirror_age_seconds'), 32.5);
  metrics.mirrorSynced(clock.now() - 1_000);
  f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_mirror_age_seconds'), 1);
});

test('removeResource drops every series of that resource and keeps the others', async () => {
  const metrics = new Metrics({ processMetrics: false });
  for (const r of ['gone.toml', 'kept.toml']) {
    metrics.render(r);
    metrics.write(r);
    metrics.failure(r, 'reload');
    metrics.command(r, 'reload', 5, 0);
    metrics.reloadDeferred(r);
  }
  metrics.removeResource('gone.toml');
  const f = await scrape(metrics);
  const withGone = [...f.values()].flatMap((fam) => fam.samples).filter((s) => s.labels.resource === 'gone.toml');
  assert.deepEqual(withGone, []);
  assert.equal(sampleValue(f, 'tsconfd_failures_total', { resource: 'kept.toml', reason: 'reload' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_command_duration_seconds_count', { resource: 'kept.toml', kind: 'reload' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_reloads_deferred_total', { resource: 'kept.toml' }), 1);
});

test('label values with quotes, backslashes and newlines survive the text format', async () => {
  const metrics = new Metrics({ processMetrics: false });
  const odd = 'dir "x"\\y\nz.toml';
  metrics.render(odd);
  const f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_renders_total', { resource: odd }), 1);
});

test('build info and resource count; process metrics on by default', async () => {
  const metrics = new Metrics({ version: '0.1.0', backend: 'etcdv3' });
  metrics.resourcesLoaded(3);
  const f = await scrape(metrics);
  assert.equal(sampleValue(f, 'tsconfd_build_info', { version: '0.1.0', backend: 'etcdv3' }), 1);
  assert.equal(sampleValue(f, 'tsconfd_resources'), 3);
  assert.ok(sampleValue(f, 'process_resident_memory_bytes') > 1_000_000);
  assert.ok(f.has('nodejs_eventloop_lag_seconds'));
  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
});

test('the text parser rejects what Prometheus rejects', () => {
  const bad: Record<string, string> = {
    'no final newline': 'a 1',
    'bad value': 'a one\n',
    'bad label name': 'a{1x="v"} 1\n',
    'unterminated label': 'a{x="v} 1\n',
    'duplicate series': 'a{x="1"} 1\na{x="1"} 2\n',
    'TYPE after samples': 'a 1\n# TYPE a gauge\n',
    'non-contiguous family': '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n',
    'negative counter': '# TYPE c counter\nc -1\n',
    'histogram without +Inf': '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
    'histogram not cumulative': '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    'histogram +Inf != count': '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n',
  };
  for (const [why, text] of Object.entries(bad)) assert.throws(() => parsePrometheusText(text), Error, why);
  const good = parsePrometheusText('# HELP h a \\\\ help\n# TYPE h histogram\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\nx{a="b",} 1e3 1700000000\n');
  assert.equal(good.get('h')?.help, 'a \\ help');
  assert.equal(sampleValue(good, 'x', { a: 'b' }), 1000);
});
