import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/cli/config.js';
import { parseConfigText, ConfigFileError } from '../../src/cli/config-file.js';
import { readEnv, EnvError } from '../../src/cli/env.js';

function withConfigFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-config-'));
  try {
    const path = join(dir, 'confd.toml');
    writeFileSync(path, text);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('precedence: flags > environment > config file > defaults, key by key', () => {
  withConfigFile(
    'backend = "file"\nconfdir = "/from/file"\nprefix = "/file"\ninterval = 30\nnodes = ["http://file:2379"]\nlog-level = "error"\n',
    (path) => {
      const env = { CONFD_PREFIX: '/env', CONFD_INTERVAL: '40', CONFD_LOG_LEVEL: 'warn' };
      const { options, configFileRead } = resolveConfig(['-config-file', path, '-interval', '50'], env);
      assert.equal(configFileRead, path);
      assert.equal(options.backend, 'file'); // file only
      assert.equal(options.confdir, '/from/file'); // file only
      assert.equal(options.prefix, '/env'); // env beats file
      assert.equal(options.interval, 50); // flag beats env and file
      assert.equal(options.logLevel, 'warning'); // env beats file
      assert.deepEqual(options.nodes, ['http://file:2379']);
      assert.equal(options.filter, '*'); // default
      assert.equal(options.onetime, false);
    },
  );
});

test('the config file can be named by CONFD_CONFIG_FILE; a missing default file is skipped like confd, a named one is an error', () => {
  withConfigFile('backend = "env"\n', (path) => {
    assert.equal(resolveConfig([], { CONFD_CONFIG_FILE: path }).options.backend, 'env');
  });
  assert.throws(() => resolveConfig(['-config-file', '/nonexistent/confd.toml'], {}), /^Error: config file \/nonexistent\/confd\.toml \(-config-file\) does not exist$/);
  assert.throws(() => resolveConfig([], { CONFD_CONFIG_FILE: '/nonexistent/confd.toml' }), /\(CONFD_CONFIG_FILE\) does not exist/);
  // -h and -version answer whatever the file.
  assert.equal(resolveConfig(['-config-file', '/nonexistent/confd.toml', '-h'], {}).help, true);
});

test('confd.toml: confd key spellings, case-insensitive, unknown keys ignored with a warning (file:line, did-you-mean)', () => {
  const warnings: string[] = [];
  const o = parseConfigText(
    'Backend = "etcdv3"\nclient_cakeys = "/ca.pem"\nclient_cert = "/c.pem"\nsync-only = true\nfile = "/k.yaml"\nsrv_domain = "x"\nwhatever = 1\nconfidr = "/x"\nsecret_keyring = "/k"\n',
    'confd.toml',
    (w) => warnings.push(w),
  );
  assert.deepEqual(warnings, [
    'confd.toml:7: unknown key "whatever" is ignored',
    'confd.toml:8: unknown key "confidr" is ignored (did you mean "confdir"?)',
    'confd.toml:9: secret_keyring is ignored: tsconfd does not use it',
  ]);
  assert.deepEqual(o, {
    backend: 'etcdv3',
    clientCaKeys: '/ca.pem',
    clientCert: '/c.pem',
    syncOnly: true,
    files: ['/k.yaml'],
    srvDomain: 'x',
  });
});

test('confd.toml errors name file, line and column', () => {
  assert.throws(() => parseConfigText('backend = "x"\ninterval = 0644\n', '/etc/confd/confd.toml'), (e: unknown) => {
    return e instanceof ConfigFileError && /^\/etc\/confd\/confd\.toml:2:\d+: /.test(e.message);
  });
  assert.throws(() => parseConfigText('backend = "x"\nnodes = 5\n', 'c.toml'), /c\.toml:2: nodes must be a string or an array of strings/);
  assert.throws(() => parseConfigText('interval = "60"\n', 'c.toml'), /interval must be a positive integer/);
  // A mistyped secret is reported by its kind; the value never reaches the FATAL line.
  assert.throws(() => parseConfigText('password = 31337420\n', 'c.toml'), (e: Error) => /c\.toml:1: password must be a string, not a number$/.test(e.message));
});

test('CONFD_* variables: every option, comma lists, Go booleans, errors for bad values', () => {
  assert.deepEqual(
    readEnv({
      CONFD_BACKEND: 'file',
      CONFD_NODE: 'http://a:2379, http://b:2379',
      CONFD_ONETIME: 'true',
      CONFD_SYNC_ONLY: '1',
      CONFD_KEEP_STAGE_FILE: 'F',
      CONFD_CLIENT_CAKEYS: '/ca.pem',
      CONFD_FILE: 'a.yaml,b.yaml',
      CONFD_LOG_FORMAT: 'json',
      CONFD_COMMAND_TIMEOUT: '5',
      CONFD_PREFIX: '',
    }),
    {
      backend: 'file',
      nodes: ['http://a:2379', 'http://b:2379'],
      onetime: true,
      syncOnly: true,
      keepStageFile: false,
      clientCaKeys: '/ca.pem',
      files: ['a.yaml', 'b.yaml'],
      logFormat: 'json',
      commandTimeout: 5,
    },
  );
  assert.throws(() => readEnv({ CONFD_ONETIME: 'yes' }), (e: unknown) => e instanceof EnvError && /CONFD_ONETIME/.test(e.message));
  assert.throws(() => readEnv({ CONFD_INTERVAL: 'ten' }), /invalid value "ten" for environment variable CONFD_INTERVAL/);
});

test('an environment error surfaces through resolveConfig', () => {
  assert.throws(() => resolveConfig(['-onetime'], { CONFD_LOG_LEVEL: 'chatty' }), /CONFD_LOG_LEVEL/);
});

test('-exec and its settings: flag, CONFD_EXEC, confd.toml exec / exec_kill_timeout', () => {
  withConfigFile('exec = "nginx -g \'daemon off;\'"\nexec_kill_timeout = "10s"\nexec-restart = true\n', (path) => {
    const fromFile = resolveConfig(['-config-file', path], {}).options;
    assert.equal(fromFile.exec, "nginx -g 'daemon off;'");
    assert.equal(fromFile.execKillTimeout, '10s');
    assert.equal(fromFile.execRestart, true);
    assert.equal(fromFile.execReloadSignal, 'SIGHUP');
    const fromEnv = resolveConfig(['-config-file', path], { CONFD_EXEC: 'haproxy -db', CONFD_EXEC_SPLAY: '2s' }).options;
    assert.equal(fromEnv.exec, 'haproxy -db');
    assert.equal(fromEnv.execSplay, '2s');
    const fromFlags = resolveConfig(['-config-file', path, '-exec', 'envoy', '-exec-kill-signal', 'SIGQUIT', '-notify-ready-early'], { CONFD_EXEC: 'x' }).options;
    assert.equal(fromFlags.exec, 'envoy');
    assert.equal(fromFlags.execKillSignal, 'SIGQUIT');
    assert.equal(fromFlags.notifyReadyEarly, true);
  });
});
