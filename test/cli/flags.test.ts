import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean, parseFlags, UsageError, usageText } from '../../src/cli/flags.js';
import { parseGoInt } from '../../src/cli/options.js';
import { BACKEND_NAMES } from '../../src/backends/index.js';

const split = (s: string) => s.split(' ').filter((x) => x !== '');

test('the issue\'s confd command line parses as Go flags would', () => {
  const { options } = parseFlags(
    split('-onetime -backend etcdv3 -node http://127.0.0.1:2379 -node http://127.0.0.1:22379 -confdir /etc/confd -interval=60 -log-level debug'),
  );
  assert.deepEqual(options, {
    onetime: true,
    backend: 'etcdv3',
    nodes: ['http://127.0.0.1:2379', 'http://127.0.0.1:22379'],
    confdir: '/etc/confd',
    interval: 60,
    logLevel: 'debug',
  });
});

test('every confd flag is accepted in its single-dash form', () => {
  const { options } = parseFlags(
    split(
      '-onetime -backend etcdv3 -node URL1 -node URL2 -confdir DIR -config-file F -prefix P -interval 5 -watch -noop -sync-only ' +
        '-keep-stage-file -log-level warn -client-cert C -client-key K -client-ca-keys CA -client-insecure -username U -password PW ' +
        '-file A -file B -filter *.yml -separator _ -version',
    ),
  );
  assert.deepEqual(options, {
    onetime: true,
    backend: 'etcdv3',
    nodes: ['URL1', 'URL2'],
    confdir: 'DIR',
    configFile: 'F',
    prefix: 'P',
    interval: 5,
    watch: true,
    noop: true,
    syncOnly: true,
    keepStageFile: true,
    logLevel: 'warning',
    clientCert: 'C',
    clientKey: 'K',
    clientCaKeys: 'CA',
    clientInsecure: true,
    username: 'U',
    password: 'PW',
    files: ['A', 'B'],
    filter: '*.yml',
    separator: '_',
    version: true,
  });
});

test('-flag=value and --long forms', () => {
  assert.deepEqual(parseFlags(['-node=a', '-node=b', '--backend=file', '--onetime', '--prefix', '/p']).options, {
    nodes: ['a', 'b'],
    backend: 'file',
    onetime: true,
    prefix: '/p',
  });
  assert.deepEqual(parseFlags(['-onetime=false', '-noop=true']).options, { onetime: false, noop: true });
});

test('a list flag takes one value per occurrence (not greedy)', () => {
  assert.throws(() => parseFlags(['-node', 'a', 'b']), /unexpected argument: b/);
});

test('a repeated single-value flag keeps the last value, as Go does', () => {
  assert.equal(parseFlags(['-backend', 'etcd', '-backend', 'file']).options.backend, 'file');
});

test('unknown flags, typos, missing values and bad values are usage errors', () => {
  assert.throws(
    () => parseFlags(['-onetim']),
    (e: unknown) => e instanceof UsageError && e.message === 'flag provided but not defined: -onetim' && e.hint === 'did you mean -onetime?',
  );
  assert.throws(() => parseFlags(['-nodes', 'x']), (e: unknown) => e instanceof UsageError && e.hint === 'did you mean -node?');
  assert.throws(() => parseFlags(['-backend']), /^UsageError: flag needs an argument: -backend$|flag needs an argument: -backend/);
  // As in Go, a value flag takes the next word whatever it looks like.
  assert.equal(parseFlags(['-backend', '-onetime']).options.backend, '-onetime');
  assert.throws(() => parseFlags(['-onetime', '--', 'x']), /unexpected argument: x/);
  assert.throws(
    () => parseFlags(['-onetime', 'false', '-backend', 'file']),
    (e: unknown) => e instanceof UsageError && e.hint === 'a boolean flag takes its value after "=": -onetime=false',
  );
  assert.throws(() => parseFlags(['-interval=abc']), /invalid value "abc" for flag -interval/);
  assert.throws(() => parseFlags(['-interval', '1.5']), /invalid value "1.5" for flag -interval/);
  assert.throws(() => parseFlags(['-log-level', 'loud']), /invalid value "loud" for flag -log-level/);
  assert.throws(() => parseFlags(['-log-format', 'xml']), /invalid value "xml" for flag -log-format/);
});

test('-interval takes Go integer syntax', () => {
  assert.equal(parseFlags(['-interval', '0x10']).options.interval, 16);
  assert.equal(parseFlags(['-interval=010']).options.interval, 8);
});

test('-h and --help ask for help; the help lists the supported flags, tsconfd test and the CONFD_* variables', () => {
  assert.equal(parseFlags(['-h']).help, true);
  assert.equal(parseFlags(['--help']).help, true);
  const text = usageText();
  for (const flag of ['onetime', 'node', 'client-ca-keys', 'log-format', 'keep-stage-file']) assert.match(text, new RegExp(`\\n  -${flag}\\b`));
  assert.match(text, /  -confdir string\n    \tconfd conf directory \(default "\/etc\/confd"\)\n/);
  assert.match(text, /  -interval int\n/);
  assert.match(text, /\n  tsconfd test DIR/);
  assert.match(text, /\n  CONFD_BACKEND +-backend\n/);
  // confd's flags for backends tsconfd lacks are accepted (to say "not supported") but not offered.
  for (const flag of ['srv-domain', 'table', 'auth-token', 'role-id', 'scheme']) assert.doesNotMatch(text, new RegExp(`-${flag}\\b`));
  assert.doesNotMatch(text, /--onetime /);
  assert.ok(text.includes(`-backend string\n    \tbackend to use: ${BACKEND_NAMES.join(', ')} (default "etcd")\n`), 'the supported list comes from BACKEND_NAMES');
});

test('did-you-mean only for near misses', () => {
  assert.equal(didYouMean('watc'), 'did you mean -watch?');
  assert.equal(didYouMean('confidr'), 'did you mean -confdir?');
  assert.equal(didYouMean('log_level'), 'did you mean -log-level?');
  assert.equal(didYouMean('zzzzzz'), '');
});

test('-flag=value booleans take Go ParseBool spellings; anything else is a usage error', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.deepEqual(parseFlags([`-noop=${t}`]).options, { noop: true });
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.deepEqual(parseFlags([`--onetime=${f}`]).options, { onetime: false });
  assert.deepEqual(parseFlags(['-noop', '-noop=0']).options, { noop: false });
  for (const bad of ['maybe', 'yes', '2', '']) {
    assert.throws(() => parseFlags([`-noop=${bad}`]), (e: unknown) => e instanceof UsageError && e.message === `invalid boolean value "${bad}" for -noop: parse error`);
  }
});

test('integer flags take what strconv.ParseInt(s, 0, 64) takes, underscores included', () => {
  // Go 1.19's answers (undefined: ParseInt returned an error).
  const go: Array<[string, number | undefined]> = [
    ['1_0', 10], ['0_10', 8], ['0x_1f', 31], ['+1_0', 10], ['-0b1_0', -2], ['0o_7', 7], ['00', 0],
    ['1_', undefined], ['1__0', undefined], ['0_', undefined], ['0x1f_', undefined], ['_1', undefined], ['08', undefined],
  ];
  for (const [text, want] of go) assert.equal(parseGoInt(text), want, text);
});
