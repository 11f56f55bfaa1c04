import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { Logger, parseLogLevel, parseLogFormat } from '../../src/log.js';

const at = () => new Date(Date.UTC(2026, 10, 25, 1, 9, 9, 123));

test('text lines follow confd: RFC3339 UTC, host, program[pid], LEVEL, message', () => {
  const lines: string[] = [];
  const log = new Logger({ level: 'debug', write: (l) => lines.push(l), now: at });
  log.info('Target config /tmp/myapp.conf out of sync');
  log.warning('w');
  log.error('e');
  log.fatal('f');
  log.debug('d');
  const prefix = `2026-11-25T01:09:09Z ${hostname()} tsconfd[${process.pid}]: `;
  assert.deepEqual(lines, [
    `${prefix}INFO Target config /tmp/myapp.conf out of sync\n`,
    `${prefix}WARNING w\n`,
    `${prefix}ERROR e\n`,
    `${prefix}FATAL f\n`,
    `${prefix}DEBUG d\n`,
  ]);
});

test('levels filter; logrus spellings are accepted', () => {
  const lines: string[] = [];
  const log = new Logger({ level: parseLogLevel('warn'), write: (l) => lines.push(l), now: at });
  log.debug('no');
  log.info('no');
  log.warning('yes');
  log.error('yes');
  assert.equal(lines.length, 2);
  assert.equal(parseLogLevel('WARNING'), 'warning');
  assert.equal(parseLogLevel('panic'), 'fatal');
  assert.throws(() => parseLogLevel('verbose'), /not a valid log level: "verbose"/);
  assert.throws(() => parseLogFormat('yaml'), /not a valid log format/);
});

test('json lines carry level, msg and time', () => {
  const lines: string[] = [];
  const log = new Logger({ format: 'json', write: (l) => lines.push(l), now: at });
  log.warning('Noop mode enabled. "x" will not be modified');
  assert.deepEqual(JSON.parse(lines[0]!), { level: 'warning', msg: 'Noop mode enabled. "x" will not be modified', time: '2026-11-25T01:09:09Z' });
  assert.ok(lines[0]!.endsWith('}\n'));
});

test('with(): json lines carry the fields, keys sorted as logrus; text lines unchanged; level follows the parent', () => {
  const lines: string[] = [];
  const log = new Logger({ format: 'json', level: 'info', write: (l) => lines.push(l), now: at });
  const child = log.with({ resource: '/etc/confd/conf.d/a.toml', dest: '/etc/a.conf' }).with({ revision: 7 });
  child.info('Target config /etc/a.conf has been updated');
  child.debug('hidden');
  log.level = 'debug';
  child.debug('shown');
  assert.equal(lines.length, 2);
  assert.equal(
    lines[0],
    '{"dest":"/etc/a.conf","level":"info","msg":"Target config /etc/a.conf has been updated","resource":"/etc/confd/conf.d/a.toml","revision":7,"time":"2026-11-25T01:09:09Z"}\n',
  );
  const text: string[] = [];
  new Logger({ write: (l) => text.push(l), now: at }).with({ dest: '/x' }).error('boom');
  assert.match(text[0]!, /: ERROR boom\n$/);
});
