// lookupIP/lookupSRV names often come from key values: a name starting with "-" is looked up as
// a name, never read as an option of getent or of the node child (--require would run a file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemResolver } from '../../../src/template/confd/funcs.js';

test('getent: a name like --help is a name (no answer), not getent\'s option', () => {
  assert.equal(systemResolver.lookupHost('--help'), null);
});

test('without getent (node child): a name like --require=FILE runs nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resolver-'));
  const marker = join(dir, 'ran');
  const evil = join(dir, 'evil.cjs');
  writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`);
  const path = process.env.PATH;
  process.env.PATH = dir; // no getent here
  try {
    assert.deepEqual(systemResolver.lookupHost('localhost')?.includes('127.0.0.1'), true, 'the node child resolves');
    assert.equal(systemResolver.lookupHost(`--require=${evil}`), null);
    assert.equal(systemResolver.lookupSRV(`--require=${evil}`), null);
    assert.equal(existsSync(marker), false, 'a looked-up name ran as a node option');
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
});
