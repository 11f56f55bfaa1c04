import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturingLogger, quietLogger } from '../helpers/log.js';
import { isSecretKey, logChange, logRemoval, redactedDiff, secretValues } from '../../src/resource/audit.js';
import { loadResources } from '../../src/resource/load.js';
import type { TemplateResource } from '../../src/resource/model.js';
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

test('logChange and logRemoval log at INFO only with logDiff; removal masks lines naming secrets or of no known shape', async () => {
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
    writeFileSync(gone, 'a=1\napi_token = abc\nname=x\n');
    await logRemoval(r, store, gone, '/gone', { log, logDiff: true });
    assert.match(lines.at(-1)!, /-log-diff .*gone\.conf \(removed\):\n--- .*\n\+\+\+ \/dev\/null\n@@ -1,3 \+0,0 @@\n-a=1\n-<redacted>\n-<redacted>\n$/);
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

const PEM_OLD = '-----BEGIN PRIVATE KEY-----\nOLDAAAAline1\nOLDBBBBline2\n-----END PRIVATE KEY-----\n';
const PEM_NEW = '-----BEGIN PRIVATE KEY-----\nNEWAAAAline1\nNEWBBBBline2\nNEWCCCCline3\n-----END PRIVATE KEY-----\n';

test('a multi-line secret, rotated: no line of the old or new value, other changes shown', async () => {
  const { r, root } = resource('[tls]\nkey = {{getv "/tls/key_secret"}}\nport = {{getv "/port"}}\n');
  try {
    const store = new KeyStore([['/tls/key_secret', PEM_NEW], ['/port', '81']]);
    const oldText = `[tls]\nkey = ${PEM_OLD}\nport = 81\n`;
    const newText = `[tls]\nkey = ${PEM_NEW}\nport = 81\n`;
    assert.equal(await redactedDiff(r, store, oldText, newText), '', 'only the secret changed');
    // The same key, the port changed: the old port line is known by its shape.
    const sameKey = `[tls]\nkey = ${PEM_NEW}\nport = 80\n`;
    assert.equal(
      await redactedDiff(r, store, sameKey, newText),
      `--- ${r.dest}\n+++ ${r.dest}\n@@ -1,4 +1,4 @@\n [tls]\n key = <redacted>\n \n-port = 80\n+port = 81\n`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a secret filling whole lines is found after the line before it; an old secret that cannot be placed masks every unknown line', async () => {
  const { r, root } = resource('# cert\n{{getv "/key_secret"}}# end\nname = {{getv "/name"}}\n');
  try {
    const store = new KeyStore([['/key_secret', PEM_NEW], ['/name', 'b']]);
    const newText = `# cert\n${PEM_NEW}# end\nname = b\n`;
    const diff = await redactedDiff(r, store, `# cert\n${PEM_OLD}# end\nname = a\n`, newText);
    assert.equal(diff, `--- ${r.dest}\n+++ ${r.dest}\n@@ -1,4 +1,4 @@\n # cert\n <redacted>\n # end\n-name = a\n+name = b\n`);
    // Another layout: where the old key was is unknown, so nothing but known lines is shown.
    const other = await redactedDiff(r, store, `# by hand\n${PEM_OLD}name = a\n`, newText);
    for (const line of PEM_OLD.split('\n').filter((l) => l !== '')) assert.ok(!other.includes(line), other);
    assert.doesNotMatch(other, /by hand|name = a/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a secret key deleted (the template reads it with a default): no line of the old value', async () => {
  const { r, root } = resource('name = {{getv "/name"}}\nkey = {{getv "/tls/key_secret" ""}}\n');
  try {
    const store = new KeyStore([['/name', 'b']]);
    const diff = await redactedDiff(r, store, `name = a\nkey = ${PEM_OLD}\n`, 'name = b\nkey = \n');
    for (const line of PEM_OLD.split('\n').filter((l) => l !== '')) assert.ok(!diff.includes(line), diff);
    assert.match(diff, /^-name = a\n(-<redacted>\n)+/m);
    assert.match(diff, /^\+name = b\n\+key = \n/m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
