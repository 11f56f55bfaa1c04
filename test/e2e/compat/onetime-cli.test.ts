// The built CLI's behaviour as an operator sees it: flags, config file, environment, -noop,
// -sync-only, -keep-stage-file, load errors, logs.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { BACKEND_NAMES } from '../../../src/backends/index.js';

const resource = (extra = '', dest = '@OUT@/app.conf', src = 'app.tmpl') =>
  `[template]\nsrc = "${src}"\ndest = "${dest}"\nkeys = ["/app"]\n${extra}\n`;

function keysFile(ws: Workspace, text = 'app:\n  x: "1"\n'): string {
  const path = join(ws.root, 'keys.yaml');
  writeFileSync(path, text);
  return path;
}

before(() => ensureBuilt());

test('-version and --version print the version and exit 0', async () => {
  for (const flag of ['-version', '--version']) {
    const r = await runCli([flag]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^tsconfd \d+\.\d+\.\d+/);
  }
});

test('-h prints usage on stdout in Go flag layout, exit 0', async () => {
  const r = await runCli(['-h']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage of tsconfd:\n  -backend string\n/);
  assert.match(r.stdout, /\n  -onetime\n    \trun once and exit\n/);
});

test('usage errors exit 2 as Go flag errors do, worded as confd words them, with a did-you-mean', async () => {
  const typo = await runCli(['-onetme']);
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr, "flag provided but not defined: -onetme\ndid you mean -onetime?\nRun 'tsconfd -h' for usage.\n");
  for (const args of [['-interval=abc'], ['-node'], ['-log-level', 'loud'], ['stray']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^.+\n(?:.+\n)?Run 'tsconfd -h' for usage\.\n$/, args.join(' '));
  }
});

test('a backend confd has and tsconfd lacks says so, with the supported list; a made-up name is invalid', async () => {
  const consul = await runCli(['-onetime', '-backend', 'consul', '-confdir', '/nonexistent']);
  assert.equal(consul.code, 1);
  assert.ok(consul.stderr.includes(`FATAL backend "consul" is not supported by tsconfd (supported: ${BACKEND_NAMES.join(', ')})\n`), consul.stderr);
  const bad = await runCli(['-onetime', '-backend', 'consulx', '-confdir', '/nonexistent']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /FATAL Invalid backend: consulx \(supported: /);
});

test('a resource that fails to load stops the run before anything is written (quirk 2)', async () => {
  const ws = new Workspace({
    'conf.d/a-good.toml': resource('', '@OUT@/a.conf'),
    'conf.d/b-bad.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/b.conf"\nkeys = "/app"\n',
    'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
  });
  try {
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 1);
    assert.deepEqual(ws.outFiles(), []);
    assert.match(r.stderr, /FATAL Cannot process template resource .*b-bad\.toml - .*b-bad\.toml:4:1: template\.keys must be an array of strings/);
    assert.doesNotMatch(r.stderr, / ERROR /);
  } finally {
    ws.cleanup();
  }
});

test('-noop prints a unified diff, warns per resource, writes nothing, runs nothing', async () => {
  const ws = new Workspace({
    'conf.d/app.toml': resource('reload_cmd = "touch @OUT@/reloaded"'),
    'conf.d/same.toml': resource('', '@OUT@/same.conf'),
    'templates/app.tmpl': 'a\nx={{getv "/app/x"}}\nc\n',
  });
  try {
    writeFileSync(join(ws.out, 'app.conf'), 'a\nx=0\nc\n');
    writeFileSync(join(ws.out, 'same.conf'), 'a\nx=1\nc\n');
    const r = await runCli(['-onetime', '-noop', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'a\nx=0\nc\n');
    assert.deepEqual(ws.outFiles(), ['app.conf', 'same.conf']);
    const dest = join(ws.out, 'app.conf');
    assert.equal(r.stdout, `--- ${dest}\n+++ ${dest} (new)\n@@ -1,3 +1,3 @@\n a\n-x=0\n+x=1\n c\n`);
    assert.match(r.stderr, new RegExp(`WARNING Noop mode enabled\\. ${dest} will not be modified`));
    assert.match(r.stderr, /WARNING Noop mode enabled\. .*same\.conf will not be modified/);
  } finally {
    ws.cleanup();
  }
});

test('-sync-only writes but skips check_cmd and reload_cmd', async () => {
  const ws = new Workspace({
    'conf.d/app.toml': resource('check_cmd = "false"\nreload_cmd = "touch @OUT@/reloaded"'),
    'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
  });
  try {
    const r = await runCli(['-onetime', '-sync-only', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ws.outFiles(), ['app.conf']);
  } finally {
    ws.cleanup();
  }
});

test('-keep-stage-file keeps the stage file of a failed check and says where', async () => {
  const ws = new Workspace({ 'conf.d/app.toml': resource('check_cmd = "exit 1"'), 'templates/app.tmpl': 'x={{getv "/app/x"}}\n' });
  try {
    const r = await runCli(['-onetime', '-keep-stage-file', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 1);
    const files = ws.outFiles();
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^\.app\.conf\d+$/);
    assert.equal(readFileSync(join(ws.out, files[0]!), 'utf8'), 'x=1\n');
    assert.match(r.stderr, new RegExp(`INFO Keeping staged file: ${ws.out}/\\.app\\.conf\\d+`));
  } finally {
    ws.cleanup();
  }
});

test('confd.toml, CONFD_* variables and flags combine with flags > env > file', async () => {
  const ws = new Workspace({ 'conf.d/app.toml': resource(), 'templates/app.tmpl': 'x={{getv "/app/x"}}\n' });
  try {
    const keys = keysFile(ws);
    const config = join(ws.root, 'confd.toml');
    writeFileSync(config, `backend = "etcdv3"\nconfdir = "${ws.confdir}"\nfile = ["${keys}"]\nlog-level = "debug"\n`);
    // The file says etcdv3; the environment says file; the flag keeps the log quiet.
    const r = await runCli(['-onetime', '-config-file', config, '-log-level', 'error'], { env: { CONFD_BACKEND: 'file' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'x=1\n');
    assert.equal(r.stderr, '');
  } finally {
    ws.cleanup();
  }
});

test('the env backend reads /app/x from APP_X', async () => {
  const ws = new Workspace({ 'conf.d/app.toml': resource(), 'templates/app.tmpl': '{{range gets "/app/*"}}{{.Key}}={{.Value}}\n{{end}}' });
  try {
    const r = await runCli(['-onetime', '-backend', 'env', '-confdir', ws.confdir], { env: { APP_X: 'from-env', APP_Y: 'why' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), '/app/x=from-env\n/app/y=why\n');
  } finally {
    ws.cleanup();
  }
});

test('-log-format json prints one JSON object per line', async () => {
  const ws = new Workspace({ 'conf.d/app.toml': resource(), 'templates/app.tmpl': 'x\n' });
  try {
    const r = await runCli(['-onetime', '-log-format', 'json', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
    assert.ok(lines.length >= 3);
    assert.ok(lines.some((l) => l.level === 'info' && /Target config .*app\.conf has been updated/.test(l.msg)));
    for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  } finally {
    ws.cleanup();
  }
});

test('text logs use confd\'s line format', async () => {
  const ws = new Workspace({ 'conf.d/app.toml': resource(), 'templates/app.tmpl': 'x\n' });
  try {
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keysFile(ws), '-confdir', ws.confdir]);
    for (const line of r.stderr.trim().split('\n')) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ tsconfd\[\d+\]: (DEBUG|INFO|WARNING|ERROR|FATAL) /);
    }
    assert.ok(existsSync(join(ws.out, 'app.conf')));
  } finally {
    ws.cleanup();
  }
});

test('a broken confd.toml or CONFD_* value is an error naming where, exit 1', async () => {
  const ws = new Workspace();
  try {
    const config = join(ws.root, 'confd.toml');
    writeFileSync(config, 'backend = "file"\ninterval = 0644\n');
    const r = await runCli(['-onetime', '-config-file', config]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^tsconfd: ${config}:2:\\d+: [^\n]+\n$`));
    const e = await runCli(['-onetime'], { env: { CONFD_INTERVAL: 'often' } });
    assert.equal(e.code, 1);
    assert.equal(e.stderr, 'tsconfd: invalid value "often" for environment variable CONFD_INTERVAL: parse error\n');
  } finally {
    ws.cleanup();
  }
});

test('the Backend source(s) line masks user:password@ in a -node URL', async () => {
  const ws = new Workspace({ 'conf.d/app.toml': resource(), 'templates/app.tmpl': 'x\n' });
  try {
    // Port 1 refuses at once: the run fails, but only after announcing its source.
    const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', 'http://root:S3cret-node@127.0.0.1:1', '-confdir', ws.confdir]);
    const line = r.stderr.split('\n').find((l) => l.includes('Backend source(s) set to'));
    assert.ok(line, r.stderr);
    assert.match(line, /INFO Backend source\(s\) set to http:\/\/\*\*\*@127\.0\.0\.1:1$/);
  } finally {
    ws.cleanup();
  }
});
