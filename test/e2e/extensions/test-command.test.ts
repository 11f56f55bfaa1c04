// `tsconfd test DIR` through the built CLI: a passing fixture (the seed example, plus a fan-out),
// a failing one (diff printed, exit 1), a missing expected file, and -update rewriting expected/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SEED_EXPECTED, Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { writeFileWithDirs } from '../../helpers/files.js';

const SEED_KEYS = readFileSync(join(ROOT, 'examples/seed-keys.yaml'), 'utf8');

function setUp(): { ws: Workspace; tests: string } {
  ensureBuilt();
  const ws = new Workspace({
    'conf.d/nginx.toml': '[template]\nprefix = "/docker"\nsrc = "nginx.tmpl"\ndest = "/etc/nginx/conf.d/myapp.conf"\nkeys = ["/node", "/service"]\n',
    'conf.d/sites.toml': '[template]\nprefix = "/docker"\nsrc = "svc.tmpl"\ndest = "/etc/svc/{{base .Key}}.port"\nrange = "/service/*"\n',
    'templates/svc.tmpl': '{{.Value}}\n',
  });
  cpSync(join(ROOT, 'templates/nginx.tmpl'), join(ws.confdir, 'templates/nginx.tmpl'));
  const tests = join(ws.root, 'tests');
  writeFileWithDirs(join(tests, 'seed/keys.yaml'), SEED_KEYS);
  writeFileWithDirs(join(tests, 'seed/expected/etc/nginx/conf.d/myapp.conf'), readFileSync(SEED_EXPECTED));
  writeFileWithDirs(join(tests, 'seed/expected/etc/svc/s01.port'), '1005\n');
  writeFileWithDirs(join(tests, 'seed/expected/etc/svc/s02.port'), '1007\n');
  return { ws, tests };
}

test('a passing fixture: exit 0, nothing written outside the tests', async () => {
  const { ws, tests } = setUp();
  try {
    const r = await runCli(['test', tests, '-confdir', ws.confdir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, 'ok   seed\n1 passed, 0 failed\n');
    assert.equal(existsSync('/etc/svc/s01.port'), false);
  } finally {
    ws.cleanup();
  }
});

test('a failing fixture: unified diff of the mismatch, missing and stale files named, exit 1; -update fixes it', async () => {
  const { ws, tests } = setUp();
  try {
    // A JSON fixture where s02 has another port and a third service exists.
    const keys = { docker: { node: { n01: '10.0.0.1' }, service: { s01: '1005', s02: '2000', s03: '3000' } } };
    writeFileWithDirs(join(tests, 'changed/keys.json'), JSON.stringify(keys));
    cpSync(join(tests, 'seed/expected'), join(tests, 'changed/expected'), { recursive: true });
    writeFileWithDirs(join(tests, 'changed/expected/etc/svc/old.port'), '1\n');
    const r = await runCli(['test', tests, '-confdir', ws.confdir]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAIL changed\n/);
    assert.match(r.stdout, /\n-1007\n\+2000\n/);
    assert.match(r.stdout, /--- .*changed\/expected\/etc\/svc\/s02\.port\n\+\+\+ \/etc\/svc\/s02\.port \(rendered\)\n@@ -1 \+1 @@\n/);
    assert.match(r.stdout, /\/etc\/svc\/s03\.port: no expected file .*-update/);
    assert.match(r.stdout, /old\.port: expected, but no resource renders \/etc\/svc\/old\.port/);
    assert.match(r.stdout, /\n-    server 192\.168\.100\.112:1005\n/);
    assert.match(r.stdout, /ok {3}seed\n/);
    assert.match(r.stdout, /1 passed, 1 failed\n$/);

    const u = await runCli(['test', tests, '-confdir', ws.confdir, '-update']);
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.equal(readFileSync(join(tests, 'changed/expected/etc/svc/s03.port'), 'utf8'), '3000\n');
    assert.equal(existsSync(join(tests, 'changed/expected/etc/svc/old.port')), false);
    const again = await runCli(['test', tests, '-confdir', ws.confdir]);
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.stdout, 'ok   changed\nok   seed\n2 passed, 0 failed\n');
  } finally {
    ws.cleanup();
  }
});

test('usage errors exit 2 (as the main command line), an empty tests directory 1, each with a message', async () => {
  const { ws } = setUp();
  try {
    const r = await runCli(['test']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing the tests directory\nusage: tsconfd test DIR/);
    const u = await runCli(['test', ws.out, '-bogus']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /flag provided but not defined: -bogus/);
    const e = await runCli(['test', ws.out, '-confdir', ws.confdir]);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /no tests in /);
  } finally {
    ws.cleanup();
  }
});
