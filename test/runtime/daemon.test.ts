// runDaemon in process, -interval mode over the file backend (a real YAML file): the endpoint, metrics, live
// resources (SIGHUP and conf.d changes), a broken resource on /readyz, SIGTERM's exit code, and start-up failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../src/log.js';
import { createFileBackend } from '../../src/backends/file/index.js';
import { runDaemon, type DaemonOptions } from '../../src/runtime/daemon.js';
import type { SignalTarget } from '../../src/runtime/signals.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { until } from '../helpers/wait.js';

function workspace(t: { after: (fn: () => void) => void }) {
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-daemon-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const confdir = join(root, 'confdir');
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  mkdirSync(join(confdir, 'templates'));
  mkdirSync(join(root, 'out'));
  const resource = (name: string, extra = '') =>
    writeFileSync(
      join(confdir, 'conf.d', `${name}.toml`),
      `[template]\nsrc = "app.tmpl"\ndest = "${join(root, 'out', name)}.conf"\nkeys = ["/app"]\nreload_cmd = "echo reload >> ${join(root, 'reloads')}"\n${extra}`,
    );
  writeFileSync(join(confdir, 'templates/app.tmpl'), '{{range gets "/app/*"}}{{base .Key}}={{.Value}}\n{{end}}');
  writeFileSync(join(root, 'keys.yaml'), 'app:\n  a: "1"\n');
  const out = (name: string) => (existsSync(join(root, 'out', `${name}.conf`)) ? readFileSync(join(root, 'out', `${name}.conf`), 'utf8') : undefined);
  const reloads = () => (existsSync(join(root, 'reloads')) ? readFileSync(join(root, 'reloads'), 'utf8').split('\n').filter(Boolean) : []);
  return { root, confdir, resource, out, reloads };
}

function options(ws: ReturnType<typeof workspace>, extra: Partial<DaemonOptions> = {}): DaemonOptions & { logs: string[]; signals: EventEmitter } {
  const logs: string[] = [];
  const signals = new EventEmitter();
  return {
    mode: 'interval', confdir: ws.confdir, prefix: '', intervalMs: 300, wait: { minMs: 0, maxMs: 0 }, staleAfterMs: 0,
    http: '127.0.0.1:0', version: 'test', backendName: 'file', noop: false, syncOnly: false, keepStageFile: false,
    commandTimeoutMs: 10_000, log: new Logger({ level: 'debug', write: (line: string) => logs.push(line) }), writeDiff: () => undefined,
    openBackend: async () => createFileBackend({ files: [join(ws.root, 'keys.yaml')], filter: '*' }),
    signalTarget: signals as unknown as SignalTarget, debounceMs: 100, graceMs: 5_000, ...extra, logs, signals,
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

test('-interval: renders, serves probes and metrics, reloads resources live, keeps a broken one, exits 0 on SIGTERM', async (t) => {
  const ws = workspace(t);
  ws.resource('one');
  ws.resource('two');
  let url = '';
  const opts = options(ws, { onListening: (u) => (url = u) });
  const exit = runDaemon(opts);
  t.after(() => void opts.signals.emit('SIGTERM'));
  await until('first pass', () => ws.out('one') === 'a=1\n' && ws.out('two') === 'a=1\n');
  await until('the shared reload', () => ws.reloads().length === 1);
  assert.equal((await get(`${url}/healthz`)).status, 200);
  await until('ready', async () => (await get(`${url}/readyz`)).status === 200);

  // A value change reaches the files at the next interval, with one reload for both.
  writeFileSync(join(ws.root, 'keys.yaml'), 'app:\n  a: "2"\n');
  await until('second value', () => ws.out('one') === 'a=2\n' && ws.out('two') === 'a=2\n');
  await until('one reload for the pass', () => ws.reloads().length === 2);

  // A new resource appears without a restart (the conf.d watcher).
  ws.resource('three');
  await until('new resource rendered', () => ws.out('three') === 'a=2\n');

  // A broken edit: reported on /readyz and in the metrics; the last good version keeps rendering.
  writeFileSync(join(ws.confdir, 'conf.d/one.toml'), '[template]\nsrc = "app.tmpl"\ndest = 5\n');
  let reasons = '';
  await until('the broken file on /readyz', async () => {
    const res = await get(`${url}/readyz`);
    reasons = (JSON.parse(res.body) as { reasons: string[] }).reasons.join('\n');
    return res.status === 503 && reasons.includes('one.toml');
  });
  assert.match(reasons, /conf\.d\/one\.toml \(does not load: .*dest must be a string/);
  writeFileSync(join(ws.root, 'keys.yaml'), 'app:\n  a: "3"\n');
  await until('last good one.toml still renders', () => ws.out('one') === 'a=3\n');

  const metrics = async () => parsePrometheusText((await get(`${url}/metrics`)).body);
  // Metrics are recorded when the whole pass ends, a moment after the file is renamed into place.
  await until('the third write counted', async () => sampleValue(await metrics(), 'tsconfd_writes_total', { resource: 'one.toml' }) === 3);
  const families = await metrics();
  assert.ok(sampleValue(families, 'tsconfd_failures_total', { resource: 'one.toml', reason: 'load' }) >= 1);
  assert.equal(sampleValue(families, 'tsconfd_resources'), 3);
  assert.ok(sampleValue(families, 'tsconfd_backend_requests_total', { op: 'range' }) >= 3);

  // Fixed and removed: SIGHUP on demand picks both up.
  ws.resource('one');
  rmSync(join(ws.confdir, 'conf.d/three.toml'));
  opts.signals.emit('SIGHUP');
  await until('ready again', async () => (await get(`${url}/readyz`)).status === 200);
  await until('three.toml forgotten', async () => sampleValue(parsePrometheusText((await get(`${url}/metrics`)).body), 'tsconfd_resources') === 2);

  opts.signals.emit('SIGTERM');
  assert.equal(await exit, 0);
  await assert.rejects(fetch(`${url}/healthz`), 'the endpoint is closed');
  assert.ok(opts.logs.some((l) => l.includes('shutdown complete')));
});

test('start-up failures exit 1 with the reason: a bad -http address, a bad command_timeout, -watch on a backend that cannot watch', async (t) => {
  const ws = workspace(t);
  ws.resource('one');
  const bad = options(ws, { http: 'nonsense' });
  assert.equal(await runDaemon(bad), 1);
  assert.ok(bad.logs.some((l) => l.includes('invalid -http address')), bad.logs.join('\n'));

  // Every shipped backend watches now (etcd; files through chokidar; env waits): a bare two-method one cannot.
  const plain = { name: 'plain', getValues: async () => ({ kvs: [], revision: 0 }), close: async () => undefined };
  const watch = options(ws, { mode: 'watch', openBackend: async () => plain });
  assert.equal(await runDaemon(watch), 1);
  assert.ok(watch.logs.some((l) => /cannot watch/.test(l)), watch.logs.join('\n'));

  ws.resource('two', 'command_timeout = "forever"');
  const timeout = options(ws);
  assert.equal(await runDaemon(timeout), 1);
  assert.ok(timeout.logs.some((l) => /two\.toml: template\.command_timeout: invalid duration/.test(l)), timeout.logs.join('\n'));
});
