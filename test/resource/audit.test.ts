import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturingLogger, quietLogger } from '../helpers/log.js';
import { isSecretKey, logChange, logRemoval, redactedDiff, secretValues } from '../../src/resource/audit.js';
import { loadResources, type TemplateResource } from '../../src/resource/load.js';
import { processResource } from '../../src/resource/process.js';
import { KeyStore } from '../../src/template/confd/store.js';

function resource(tmpl: string, extra = ''): { r: TemplateResource; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'audit-'));
  mkdirSync(join(root, 'conf.d'));
  mkdirSync(join(root, 'templates'));
  writeFileSync(join(root, 'conf.d/app.toml'), `[template]\nsrc = "app.tmpl"\ndest = "${root}/app.conf"\nkeys = ["/"]\n${extra}`);
  writeFileSync(join(root, 'templates/app.tmpl'), tmpl);
  const [r] = loadResources({ confdir: root, prefix: '', log: quietLogger() });
  return { r: r!, root };
}

test('secret keys: names with password/secret/token (any case), secret_keys patterns and subtrees', () => {
  assert.ok(isSecretKey('/db/password', []));
  assert.ok(isSecretKey('/api/GitHub_Token', []));
  assert.ok(isSecretKey('/client_secret/x', []));
  assert.ok(!isSecretKey('/db/host', []));
  assert.ok(isSecretKey('/db/dsn', ['/db/*']));
  assert.ok(!isSecretKey('/db/a/b', ['/db/*']));
  assert.ok(isSecretKey('/vault/a/b', ['/vault']));
  assert.ok(!isSecretKey('/vaulted', ['/vault']));
  assert.ok(!isSecretKey('/x', ['[']), 'a bad pattern matches nothing');
  assert.deepEqual(secretValues(new KeyStore([['/a/password', 'pw'], ['/b/token', 'longer-token'], ['/c', 'plain'], ['/d/secret', '']]), []), ['longer-token', 'pw']);
});

test('a changed password shows masked on both sides; other lines as they are', async () => {
  const { r, root } = resource('host={{getv "/db/host"}}\npass={{getv "/db/password"}}\nuser={{getv "/db/user"}}\n', 'secret_keys = ["/db/user"]\n');
  try {
    const store = new KeyStore([['/db/host', 'h2'], ['/db/password', 'n3w-pass'], ['/db/user', 'admin']]);
    const diff = await redactedDiff(r, store, 'host=h1\npass=old-pass\nuser=admin\n', 'host=h2\npass=n3w-pass\nuser=admin\n');
    assert.equal(diff, `--- ${r.dest}\n+++ ${r.dest}\n@@ -1,3 +1,3 @@\n-host=h1\n+host=h2\n pass=<redacted>\n user=<redacted>\n`);
    // Only the secret changed: nothing to show.
    assert.equal(await redactedDiff(r, store, 'host=h2\npass=old-pass\nuser=admin\n', 'host=h2\npass=n3w-pass\nuser=admin\n'), '');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('when the masked render fails, secret values are still replaced wherever they appear', async () => {
  // atoi fails on "<redacted>", so only value replacement applies.
  const { r, root } = resource('port={{atoi (getv "/svc/token")}}\nalso={{getv "/svc/token"}}\n');
  try {
    const store = new KeyStore([['/svc/token', '4242']]);
    const diff = await redactedDiff(r, store, '', 'port=4242\nalso=4242\n');
    assert.doesNotMatch(diff, /4242/);
    assert.match(diff, /\+port=<redacted>\n\+also=<redacted>\n/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('logChange and logRemoval log at INFO only with logDiff; removal masks lines naming secrets', async () => {
  const { r, root } = resource('a={{getv "/a"}}\n');
  try {
    const { log, lines } = capturingLogger('info');
    const store = new KeyStore([['/a', '2']]);
    await logChange(r, store, Buffer.from('a=1\n'), Buffer.from('a=2\n'), { log });
    assert.deepEqual(lines, []);
    await logChange(r, store, Buffer.from('a=1\n'), Buffer.from('a=2\n'), { log, logDiff: true });
    assert.match(lines.join(''), /INFO -log-diff .*app\.conf:\n--- .*\n\+\+\+ .*\n@@ -1 \+1 @@\n-a=1\n\+a=2\n$/);
    await logChange(r, store, Buffer.from('a=2\n'), Buffer.from('a=2\n'), { log, logDiff: true });
    assert.match(lines.at(-1)!, /-log-diff .*: mode or owner changed/);
    const gone = join(root, 'gone.conf');
    writeFileSync(gone, 'name=x\napi_token = abc\n');
    await logRemoval(r, store, gone, { log, logDiff: true });
    assert.match(lines.at(-1)!, /-log-diff .*gone\.conf \(removed\):\n--- .*\n\+\+\+ \/dev\/null\n@@ -1,2 \+0,0 @@\n-name=x\n-<redacted>\n$/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('-noop prints its diff with secrets redacted as -log-diff does, and writes nothing', async () => {
  const { r, root } = resource('host={{getv "/db/host"}}\npass={{getv "/db/password"}}\n');
  try {
    writeFileSync(r.dest, 'host=h1\npass=old-pass\n');
    const diffs: string[] = [];
    const opts = { noop: true, syncOnly: false, keepStageFile: false, commandTimeoutMs: 5000, log: quietLogger(), writeDiff: (t: string) => diffs.push(t) };
    const run = (host: string) => processResource(r, new KeyStore([['/db/host', host], ['/db/password', 'n3w-pass']]), opts);
    assert.equal(await run('h2'), 'noop');
    assert.equal(diffs.join(''), `--- ${r.dest}\n+++ ${r.dest} (new)\n@@ -1,2 +1,2 @@\n-host=h1\n+host=h2\n pass=<redacted>\n`);
    diffs.length = 0;
    await run('h1');
    assert.equal(diffs.join(''), `--- ${r.dest}\n+++ ${r.dest} (new): redacted values only changed\n`);
    assert.equal(readFileSync(r.dest, 'utf8'), 'host=h1\npass=old-pass\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
