import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCheckCmd } from '../../src/resource/check-and-reload.js';

test('check_cmd is a plain Go template with data {src}: missing fields print <no value>', () => {
  assert.equal(renderCheckCmd('nginx -t -c {{.src}}', '/etc/nginx/.app.conf123').script, 'nginx -t -c "${TSCONFD_SRC}"');
  assert.equal(renderCheckCmd('x {{.other}}', '/a').script, 'x <no value>');
  assert.equal(renderCheckCmd('no template here', '/a').script, 'no template here');
});

test('the stage path reaches the command in $TSCONFD_SRC, never in the script text', () => {
  const cmd = renderCheckCmd("test -s '{{.src}}'", "/tmp/my dir/.it's1");
  assert.equal(cmd.script, `test -s ''"\${TSCONFD_SRC}"''`);
  assert.deepEqual(cmd.env, { TSCONFD_SRC: "/tmp/my dir/.it's1" });
});

test('confd functions are not available to check_cmd', () => {
  assert.throws(() => renderCheckCmd('{{getv "/x"}}', '/a'), /function "getv" not defined/);
});
