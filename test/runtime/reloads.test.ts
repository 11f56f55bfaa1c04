// ReloadScheduler with real /bin/sh commands and a real HTTP server: one run per pass for a shared reload,
// min_reload_interval defers (never drops), timeouts kill the process group, nothing runs at shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../src/log.js';
import type { TemplateResource } from '../../src/resource/model.js';
import { commandSettings, ReloadScheduler } from '../../src/runtime/reloads.js';
import { Metrics } from '../../src/runtime/metrics.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { fileLines as lines } from '../helpers/files.js';
import { alive } from '../helpers/proc.js';
import { quietLogger } from '../helpers/log.js';
import { until } from '../helpers/wait.js';

function resource(name: string, extra: Partial<TemplateResource> = {}): TemplateResource {
  return {
    file: `/etc/confd/conf.d/${name}.toml`, src: '/t', name: 't', dest: `/out/${name}`, prefix: '/', keys: ['/k'],
    mode: undefined, modeError: undefined, uid: 0, gid: 0, checkCmd: '', reloadCmd: '', engine: 'go', inPlace: true,
    wait: '', minKeys: undefined, allowEmpty: false, reloadAction: '', minReloadInterval: '', commandTimeout: '', ...extra,
  };
}

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-reloads-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}


test('commandSettings: defaults, durations, actions, and errors that name the file and key', () => {
  assert.deepEqual(commandSettings(resource('a'), 60_000), { timeoutMs: 60_000, minReloadIntervalMs: 0, action: undefined });
  const s = commandSettings(resource('a', { commandTimeout: '1.5s', minReloadInterval: '250ms', reloadAction: 'signal:HUP:/run/x.pid' }), 60_000);
  assert.equal(s.timeoutMs, 1500);
  assert.equal(s.minReloadIntervalMs, 250);
  assert.deepEqual(s.action, { kind: 'signal', signal: 'SIGHUP', pidfile: '/run/x.pid' });
  assert.throws(() => commandSettings(resource('a', { commandTimeout: 'soon' }), 1), /a\.toml: template\.command_timeout: invalid duration "soon"/);
  assert.throws(() => commandSettings(resource('a', { commandTimeout: '0s' }), 1), /command_timeout must be above 0/);
  assert.throws(() => commandSettings(resource('a', { minReloadInterval: '5 s' }), 1), /template\.min_reload_interval/);
  assert.throws(() => commandSettings(resource('a', { reloadAction: 'signal:HUP:relative.pid' }), 1), /template\.reload: .*absolute path/);
});

test('a reload_cmd shared by two resources runs once per pass; distinct ones run once each', async (t) => {
  const dir = scratch(t);
  const shared = `echo x >> ${join(dir, 'shared')}`;
  const own = `echo x >> ${join(dir, 'own')}`;
  const metrics = new Metrics({ processMetrics: false });
  const s = new ReloadScheduler({ log: quietLogger(), metrics, defaultTimeoutMs: 5_000, signal: new AbortController().signal });
  const a = resource('a', { reloadCmd: shared });
  const b = resource('b', { reloadCmd: shared });
  const c = resource('c', { reloadCmd: own });
  for (const r of [a, b, c]) s.hooks().queueReload(r);
  await s.flush();
  assert.equal(lines(join(dir, 'shared')).length, 1);
  assert.equal(lines(join(dir, 'own')).length, 1);
  // Nothing queued: a flush runs nothing.
  await s.flush();
  assert.equal(lines(join(dir, 'shared')).length, 1);
  s.queue(b);
  await s.flush();
  assert.equal(lines(join(dir, 'shared')).length, 2);
  const families = parsePrometheusText(await metrics.text());
  assert.equal(sampleValue(families, 'tsconfd_command_exits_total', { resource: 'b.toml', kind: 'reload', code: '0' }), 2);
  assert.equal(sampleValue(families, 'tsconfd_command_exits_total', { resource: 'a.toml', kind: 'reload', code: '0' }), 1);
});

test('min_reload_interval defers the trailing reload and runs it once, never drops it', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'runs');
  const metrics = new Metrics({ processMetrics: false });
  const s = new ReloadScheduler({ log: quietLogger(), metrics, defaultTimeoutMs: 5_000, signal: new AbortController().signal });
  const r = resource('a', { reloadCmd: `date +%s%N >> ${file}`, minReloadInterval: '1500ms' });
  // 1.5 s leaves room for the first run's spawn and the three passes below on a busy machine. The interval
  // counts from the moment the scheduler starts a run, which is no earlier than firstQueued; the first
  // shell's `date` may print much later (spawn latency), so it is not the baseline.
  const firstQueued = Date.now();
  s.queue(r);
  await s.flush();
  assert.equal(lines(file).length, 1);
  const first = Date.now();
  // Three passes inside the interval: all deferred to one run at its end.
  for (let i = 0; i < 3; i++) {
    s.queue(r);
    await s.flush();
    assert.equal(lines(file).length, 1, 'deferred, not run');
  }
  while (lines(file).length < 2 && Date.now() - first < 15_000) await new Promise((res) => setTimeout(res, 20));
  assert.equal(lines(file).length, 2, 'the trailing reload ran');
  const [t1, t2] = lines(file).map((l) => Number(BigInt(l) / 1_000_000n));
  // 5 ms for the coarser clock of Date.now() against date's nanoseconds.
  assert.ok(t2! - firstQueued >= 1495, `the trailing run started ${t2! - firstQueued} ms after the first was queued (first ran at +${t1! - firstQueued} ms)`);
  await new Promise((res) => setTimeout(res, 700));
  assert.equal(lines(file).length, 2, 'exactly one trailing run');
  assert.equal(sampleValue(parsePrometheusText(await metrics.text()), 'tsconfd_reloads_deferred_total', { resource: 'a.toml' }), 1);
});

test('a hanging reload is killed at its command_timeout together with its children', async (t) => {
  const dir = scratch(t);
  const pidFile = join(dir, 'child.pid');
  const metrics = new Metrics({ processMetrics: false });
  const s = new ReloadScheduler({ log: quietLogger(), metrics, defaultTimeoutMs: 60_000, signal: new AbortController().signal });
  s.queue(resource('a', { reloadCmd: `sleep 120 & echo $! > ${pidFile}; wait`, commandTimeout: '400ms' }));
  const started = Date.now();
  await s.flush();
  const took = Date.now() - started;
  assert.ok(took >= 380 && took < 4_000, `took ${took} ms`);
  const child = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(alive(child), false, 'the backgrounded sleep was killed too');
  const families = parsePrometheusText(await metrics.text());
  assert.equal(sampleValue(families, 'tsconfd_command_exits_total', { resource: 'a.toml', kind: 'reload', code: 'timeout' }), 1);
  assert.equal(sampleValue(families, 'tsconfd_failures_total', { resource: 'a.toml', reason: 'reload' }), 1);
});

test('a hung reload holds back neither another reload nor its own next run beyond one at a time', async (t) => {
  const dir = scratch(t);
  const hung = join(dir, 'hung');
  const other = join(dir, 'other');
  const s = new ReloadScheduler({ log: quietLogger(), defaultTimeoutMs: 60_000, signal: new AbortController().signal });
  // a's run prints its shell's pid and hangs until its 5 s command_timeout kills it.
  const a = resource('a', { reloadCmd: `echo $$ >> ${hung}; sleep 30`, commandTimeout: '5s' });
  const b = resource('b', { reloadCmd: `echo x >> ${other}` });
  s.queue(a);
  const aDone = s.flush();
  await until("a's first run started", () => lines(hung).length === 1);
  const hungPid = Number(lines(hung)[0]);
  // The next pass: b's reload runs at once, beside a's hung one (not after its timeout).
  s.queue(b);
  s.queue(a);
  void s.flush();
  await until("b's reload", () => lines(other).length === 1);
  assert.ok(alive(hungPid), "b's reload ran while a's hung run was still going, not behind it");
  // a's second run waits for its first (runs of one reload never overlap), then runs once.
  assert.equal(lines(hung).length, 1);
  s.queue(a);
  void s.flush();
  await aDone;
  await s.idle();
  assert.equal(lines(hung).length, 2, 'one more run of a after the hung one, for both asks');
});

test('shutdown: a deferred reload is dropped, a running one killed, none starts', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'runs');
  const stop = new AbortController();
  const s = new ReloadScheduler({ log: quietLogger(), defaultTimeoutMs: 60_000, signal: stop.signal });
  const r = resource('a', { reloadCmd: `echo x >> ${file}; sleep 30`, minReloadInterval: '10s' });
  s.queue(r);
  const running = s.flush();
  await new Promise((res) => setTimeout(res, 200));
  s.queue(r);
  void s.flush(); // deferred by min_reload_interval
  const started = Date.now();
  stop.abort();
  await s.close();
  await running;
  assert.ok(Date.now() - started < 2_000, 'the running reload was killed at once');
  assert.equal(lines(file).length, 1);
  s.queue(resource('b', { reloadCmd: `echo x >> ${file}` }));
  await s.flush();
  assert.equal(lines(file).length, 1, 'nothing runs after shutdown began');
});

test('a built-in http reload action runs once for the resources sharing it, without a shell', async (t) => {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    res.statusCode = req.method === 'POST' ? 200 : 405;
    res.end('ok');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const spec = `http:POST:http://127.0.0.1:${port}/-/reload`;
  const s = new ReloadScheduler({ log: quietLogger(), defaultTimeoutMs: 5_000, signal: new AbortController().signal });
  s.queue(resource('a', { reloadAction: spec }));
  s.queue(resource('b', { reloadAction: spec }));
  await s.flush();
  assert.equal(hits, 1);
});

test('a shell reload is named by its resources above debug: its text (which may hold a token) stays out of the log', async (t) => {
  const dir = scratch(t);
  const logged: string[] = [];
  const log = new Logger({ level: 'info', write: (l: string) => logged.push(l) });
  const s = new ReloadScheduler({ log, defaultTimeoutMs: 5_000, signal: new AbortController().signal });
  const cmd = `echo x >> ${join(dir, 'r')}; test -z "Bearer SECRET-TOKEN"`;
  s.queue(resource('a', { reloadCmd: cmd, minReloadInterval: '1h' }));
  s.queue(resource('b', { reloadCmd: cmd }));
  await s.flush();
  s.queue(resource('a', { reloadCmd: cmd, minReloadInterval: '1h' }));
  await s.flush(); // deferred: logged at info
  await s.close();
  const text = logged.join('');
  assert.match(text, /reload for \/out\/a, \/out\/b failed: reload_cmd of a\.toml, b\.toml: exit status 1/);
  assert.match(text, /reload_cmd of a\.toml: deferred/);
  assert.doesNotMatch(text, /SECRET-TOKEN/);
});

test('command_timeout as an integer of seconds, like -command-timeout', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'a.toml');
  const { writeFileSync } = await import('node:fs');
  const { readResource } = await import('../../src/resource/load.js');
  writeFileSync(file, '[template]\nsrc = "a.tmpl"\ndest = "/tmp/a"\ncommand_timeout = 5\n');
  const r = readResource(file, { confdir: dir, prefix: '', log: quietLogger() });
  assert.equal(commandSettings(r, 60_000).timeoutMs, 5_000);
  writeFileSync(file, '[template]\nsrc = "a.tmpl"\ndest = "/tmp/a"\ncommand_timeout = 1.5\n');
  assert.throws(() => readResource(file, { confdir: dir, prefix: '', log: quietLogger() }), /command_timeout must be a duration like "30s" or an integer of seconds/);
});
