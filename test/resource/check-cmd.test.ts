import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCheckCmd } from '../../src/resource/process.js';

test('check_cmd is a plain Go template with data {src}: missing fields print <no value>', () => {
  assert.equal(renderCheckCmd('nginx -t -c {{.src}}', '/etc/nginx/.app.conf123'), 'nginx -t -c /etc/nginx/.app.conf123');
  assert.equal(renderCheckCmd('x {{.other}}', '/a'), 'x <no value>');
  assert.equal(renderCheckCmd('no template here', '/a'), 'no template here');
});

test('a stage path that needs quoting is quoted for /bin/sh', () => {
  assert.equal(renderCheckCmd('test -s {{.src}}', "/tmp/my dir/.it's1"), "test -s '/tmp/my dir/.it'\\''s1'");
});

test('confd functions are not available to check_cmd', () => {
  assert.throws(() => renderCheckCmd('{{getv "/x"}}', '/a'), /function "getv" not defined/);
});
