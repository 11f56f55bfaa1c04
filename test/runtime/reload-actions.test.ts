import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ReloadActionError,
  ReloadActionSyntaxError,
  describeReloadAction,
  parseReloadAction,
  runReloadAction,
} from '../../src/runtime/reload-actions.js';

test('parseReloadAction accepts the documented forms', () => {
  assert.deepEqual(parseReloadAction('signal:HUP:/run/nginx.pid'), { kind: 'signal', signal: 'SIGHUP', pidfile: '/run/nginx.pid' });
  assert.deepEqual(parseReloadAction(' signal:sigusr2:/run/a.pid '), { kind: 'signal', signal: 'SIGUSR2', pidfile: '/run/a.pid' });
  const http = parseReloadAction('http:post:http://127.0.0.1:9090/-/reload?x=1');
  assert.equal(http.kind, 'http');
  assert.equal(http.kind === 'http' && http.method, 'POST');
  assert.equal(http.kind === 'http' && http.url.href, 'http://127.0.0.1:9090/-/reload?x=1');
  assert.equal(describeReloadAction(http), 'http:POST:http://127.0.0.1:9090/-/reload?x=1');
  assert.equal(describeReloadAction(parseReloadAction('signal:SIGHUP:/p')), 'signal:HUP:/p');
});

test('parseReloadAction rejects malformed specs with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['nginx -s reload', /want signal:SIG:\/pidfile or http:METHOD:URL/],
    ['signal:HUP', /want signal/],
    ['signal:NOPE:/run/x.pid', /unknown signal "NOPE"/],
    ['signal:HUP:run/x.pid', /absolute path/],
    ['http:BREW:http://x/', /unsupported method "BREW"/],
    ['http:POST:ftp://x/', /http:\/\/ or https:\/\//],
    ['http:POST:not a url', /invalid URL/],
    ['exec:x:y', /unknown kind "exec"/],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parseReloadAction(spec), (e: unknown) => e instanceof ReloadActionSyntaxError && message.test(e.message), spec);
  }
});

test('passwords in URLs never appear in descriptions or errors', async () => {
  const action = parseReloadAction('http:POST:http://admin:s3cret@127.0.0.1:1/reload');
  assert.equal(describeReloadAction(action), 'http:POST:http://admin:***@127.0.0.1:1/reload');
  assert.throws(() => parseReloadAction('http:POST:http://admin:s3cret@[bad/'), (e: Error) => !e.message.includes('s3cret'));
  for (const spec of ['http:FETCH:http://admin:s3cret@127.0.0.1:1/reload', 'http:POST:ftp://admin:s3cret@127.0.0.1/', 'hook:POST:http://admin:s3cret@h/']) {
    assert.throws(() => parseReloadAction(spec), (e: Error) => e instanceof ReloadActionSyntaxError && !e.message.includes('s3cret'), spec);
  }
  await assert.rejects(runReloadAction(action, { timeoutMs: 2_000 }), (e: Error) => !e.message.includes('s3cret'));
});

async function tempDir(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'tsconfd-reload-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('signal action sends the signal to the pid in the pidfile', async (t) => {
  const dir = await tempDir(t);
  // A stand-in for nginx: counts SIGHUPs and prints each one.
  const child = spawn(process.execPath, ['-e', `let n = 0; process.on('SIGHUP', () => console.log('HUP ' + ++n)); console.log('ready'); setInterval(() => {}, 1000);`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const lines: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.trim().split('\n')));
  while (!lines.includes('ready')) await once(child.stdout, 'data');
  const pidfile = join(dir, 'app.pid');
  await writeFile(pidfile, `${child.pid}\n`);

  const action = parseReloadAction(`signal:HUP:${pidfile}`);
  assert.equal(await runReloadAction(action, { timeoutMs: 2_000 }), `sent SIGHUP to pid ${child.pid}`);
  while (!lines.includes('HUP 1')) await once(child.stdout, 'data');
  await runReloadAction(action, { timeoutMs: 2_000 });
  while (!lines.includes('HUP 2')) await once(child.stdout, 'data');
  assert.equal(child.exitCode, null, 'the process survived its reloads');
});

test('signal action refuses bad pidfiles and reports stale ones', async (t) => {
  const dir = await tempDir(t);
  const run = (pidfile: string) => runReloadAction(parseReloadAction(`signal:HUP:${pidfile}`), { timeoutMs: 2_000 });
  const write = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  // 0 and negative pids would signal whole process groups, tsconfd's own included.
  for (const [name, text] of [['zero', '0\n'], ['negative', '-1\n'], ['junk', 'nginx\n'], ['empty', '']]) {
    await assert.rejects(run(await write(name, text)), (e: unknown) => e instanceof ReloadActionError && /does not hold a pid/.test(e.message), name);
  }
  await assert.rejects(run(join(dir, 'missing.pid')), /ENOENT/);

  const exited = spawn(process.execPath, ['-e', '0']);
  await once(exited, 'exit');
  await assert.rejects(run(await write('stale', `${exited.pid}\n`)), /no process \d+ \(stale pidfile\?\)/);
});

async function httpServer(t: { after(fn: () => Promise<void> | void): void }, handler: (req: IncomingMessage, body: string) => [number, string] | 'hang') {
  const seen: Array<{ method?: string; url?: string; authorization?: string }> = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
    const answer = handler(req, body);
    if (answer === 'hang') return; // never answers
    res.writeHead(answer[0], { 'content-type': 'text/plain' }).end(answer[1]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { base: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

test('http action: 2xx is success; the method, path and basic auth are sent', async (t) => {
  const { base, seen } = await httpServer(t, () => [200, 'reloaded']);
  const url = new URL(`${base}/-/reload`);
  url.username = 'ops';
  url.password = 'p@ss:word';
  const action = parseReloadAction(`http:POST:${url.href}`);
  const result = await runReloadAction(action, { timeoutMs: 2_000 });
  assert.match(result, /^POST http:\/\/ops:\*\*\*@127\.0\.0\.1:\d+\/-\/reload → HTTP 200 OK$/);
  assert.deepEqual(seen, [{ method: 'POST', url: '/-/reload', authorization: `Basic ${Buffer.from('ops:p@ss:word').toString('base64')}` }]);
});

test('http action: a non-2xx answer fails with the status and the start of the body', async (t) => {
  const { base } = await httpServer(t, (req) => (req.url === '/redirect' ? [302, ''] : [500, 'config invalid: line 3\n' + 'x'.repeat(500)]));
  await assert.rejects(runReloadAction(parseReloadAction(`http:PUT:${base}/reload`), { timeoutMs: 2_000 }), (e: unknown) => {
    assert.ok(e instanceof ReloadActionError);
    assert.equal(e.timedOut, false);
    assert.match(e.message, /: HTTP 500 Internal Server Error: config invalid: line 3\nx+$/);
    assert.ok(e.message.length < 400, 'the body is truncated');
    return true;
  });
  // A redirect is not followed: the reload endpoint moved, which the operator must fix.
  await assert.rejects(runReloadAction(parseReloadAction(`http:POST:${base}/redirect`), { timeoutMs: 2_000 }), /HTTP 302/);
});

test('http action: a server that never answers is abandoned at the timeout', async (t) => {
  const { base } = await httpServer(t, () => 'hang');
  const started = Date.now();
  await assert.rejects(runReloadAction(parseReloadAction(`http:POST:${base}/reload`), { timeoutMs: 300 }), (e: unknown) => {
    assert.ok(e instanceof ReloadActionError);
    assert.equal(e.timedOut, true);
    assert.match(e.message, /timed out after 300ms/);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 290 && elapsed < 2_000, `took ${elapsed}ms`);
});

test('http action: refused connection and abort by the caller', async (t) => {
  // A port that was just free: nothing listens there.
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  probe.close();
  await once(probe, 'close');
  await assert.rejects(runReloadAction(parseReloadAction(`http:POST:http://127.0.0.1:${port}/`), { timeoutMs: 2_000 }), /ECONNREFUSED/);

  const { base } = await httpServer(t, () => 'hang');
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    runReloadAction(parseReloadAction(`http:POST:${base}/`), { timeoutMs: 5_000, signal: controller.signal }),
    (e: unknown) => e instanceof ReloadActionError && !e.timedOut && /aborted/.test(e.message),
  );
});
