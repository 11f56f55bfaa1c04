import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveIncludeName } from '../../src/resource/include.js';
import { discoverKeys } from '../../src/resource/discover-keys.js';

test('include names: relative, subdirectories allowed, absolute and ".." refused', () => {
  assert.equal(resolveIncludeName('/etc/confd/templates', 'a.tmpl'), '/etc/confd/templates/a.tmpl');
  assert.equal(resolveIncludeName('/etc/confd/templates', 'parts/x/y.tmpl'), '/etc/confd/templates/parts/x/y.tmpl');
  assert.equal(resolveIncludeName('/etc/confd/templates', './parts//y.tmpl'), '/etc/confd/templates/parts/y.tmpl');
  assert.throws(() => resolveIncludeName('/etc/confd/templates', '/etc/passwd'), /absolute name is refused/);
  assert.throws(() => resolveIncludeName('/etc/confd/templates', '../conf.d/a.toml'), /"\.\." is refused/);
  assert.throws(() => resolveIncludeName('/etc/confd/templates', 'parts/../../x'), /"\.\." is refused/);
  assert.throws(() => resolveIncludeName('/etc/confd/templates', ''), /empty template name/);
});

test('discover_keys follows literal includes (with delimiters), refuses computed names, finds cycles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-include-'));
  try {
    mkdirSync(join(dir, 'parts'));
    writeFileSync(join(dir, 'parts/a.tmpl'), '[[getv "/a"]][[include "parts/b.tmpl"]]');
    writeFileSync(join(dir, 'parts/b.tmpl'), '[[range gets "/b/*"]][[.Value]][[end]]');
    const text = '[[include "parts/a.tmpl"]][[include "parts/b.tmpl" .]][[ls "/c"]]';
    assert.deepEqual(discoverKeys('t.tmpl', text, 'go', { delims: ['[[', ']]'], templatesDir: dir, file: join(dir, 't.tmpl') }), ['/a', '/b', '/c']);
    assert.throws(() => discoverKeys('t.tmpl', '{{include (printf "%s" "x")}}', 'go', { templatesDir: dir }), /t\.tmpl:1:\d+: include has no string literal name/);
    writeFileSync(join(dir, 'parts/b.tmpl'), '{{include "parts/a.tmpl"}}');
    writeFileSync(join(dir, 'parts/a.tmpl'), '{{include "parts/b.tmpl"}}');
    assert.throws(() => discoverKeys('t.tmpl', '{{include "parts/a.tmpl"}}', 'go', { templatesDir: dir, file: join(dir, 't.tmpl') }), /parts\/b\.tmpl:1:\d+: include cycle: t\.tmpl → parts\/a\.tmpl → parts\/b\.tmpl → parts\/a\.tmpl/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
