import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileBackend, flatten, formatNumber, globToRegExp } from '../../../src/backends/file/index.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tsconfd-file-'));
}

test('nested maps flatten to /a/b; lists to /a/0; scalars as confd prints them; null skipped', () => {
  const out = new Map<string, string>();
  flatten({ a: { b: 'x', n: 5, f: 1.5, t: true, nil: null, list: ['p', { q: 'r' }] } }, '/', out);
  assert.deepEqual(Object.fromEntries(out), {
    '/a/b': 'x',
    '/a/n': '5',
    '/a/f': '1.5',
    '/a/t': 'true',
    '/a/list/0': 'p',
    '/a/list/1/q': 'r',
  });
});

test('numbers print like Go FormatFloat(f, \'f\', -1)', () => {
  assert.equal(formatNumber(1e21), '1000000000000000000000');
  assert.equal(formatNumber(1e-7), '0.0000001');
  assert.equal(formatNumber(1.25e-7), '0.000000125');
  assert.equal(formatNumber(-3), '-3');
  assert.equal(formatNumber(123.456), '123.456');
});

test('getValues reads YAML and JSON files, repeatable, keeps only covered keys, sorted', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'a.yaml'), 'docker:\n  node:\n    n01: 192.168.100.111\n  service:\n    s01: "1005"\napple: 1\napp: top\n');
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ app: { x: 'y' }, docker: { node: { n02: '192.168.100.112' } } }));
    const backend = createFileBackend({ files: [join(dir, 'a.yaml'), join(dir, 'b.json')] });
    const snap = await backend.getValues(['/docker/node', '/app']);
    assert.deepEqual(snap.kvs, [
      { key: '/app', value: 'top' },
      { key: '/app/x', value: 'y' },
      { key: '/docker/node/n01', value: '192.168.100.111' },
      { key: '/docker/node/n02', value: '192.168.100.112' },
    ]);
    assert.equal(snap.revision, 0);
    // Edits are seen on the next read.
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ app: { x: 'z' } }));
    assert.deepEqual((await backend.getValues(['/app/x'])).kvs, [{ key: '/app/x', value: 'z' }]);
    await backend.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory is searched recursively with -filter on base names', async () => {
  const dir = tmp();
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'one.yml'), 'a: "1"\n');
    writeFileSync(join(dir, 'sub', 'two.yml'), 'b: "2"\n');
    writeFileSync(join(dir, 'sub', 'skip.txt'), 'c: "3"\n');
    const backend = createFileBackend({ files: [dir], filter: '*.yml' });
    assert.deepEqual((await backend.getValues(['/'])).kvs, [
      { key: '/a', value: '1' },
      { key: '/b', value: '2' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory is walked as confd walks it: a symlinked file is read, a symlinked directory (a loop, a way out) is not entered', async () => {
  const root = tmp();
  try {
    const dir = join(root, 'keys');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    mkdirSync(join(root, 'elsewhere'));
    writeFileSync(join(dir, 'one.yml'), 'a: "1"\n');
    writeFileSync(join(dir, 'sub', 'two.yml'), 'b: "2"\n');
    writeFileSync(join(root, 'outside.yml'), 'linked: "3"\n');
    writeFileSync(join(root, 'elsewhere', 'other.yml'), 'other: "4"\n');
    symlinkSync('../outside.yml', join(dir, 'file-link.yml'));
    symlinkSync('.', join(dir, 'loop'));
    symlinkSync('..', join(dir, 'up'));
    symlinkSync('../elsewhere', join(dir, 'dir-link'));
    symlinkSync('../gone', join(dir, 'dangling.txt'));
    // confd (util.RecursiveFilesLookup: filepath.Walk, which never follows a symlinked directory)
    // reads one.yml, sub/two.yml and the file the link names; a loop made it fail with ELOOP here.
    // A dangling link -filter does not select is not looked at (confd's Walk only lstats it).
    const backend = createFileBackend({ files: [dir], filter: '*.yml' });
    assert.deepEqual((await backend.getValues(['/'])).kvs, [
      { key: '/a', value: '1' },
      { key: '/b', value: '2' },
      { key: '/linked', value: '3' },
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a broken file is an error naming the file', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'bad.yaml'), 'a: [1, 2\n');
    await assert.rejects(createFileBackend({ files: [join(dir, 'bad.yaml')] }).getValues(['/a']), /bad\.yaml/);
    await assert.rejects(createFileBackend({ files: [join(dir, 'missing.yaml')] }).getValues(['/a']), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('filter globs follow filepath.Match', () => {
  assert.ok(globToRegExp('*.y?ml').test('keys.yaml'));
  assert.ok(!globToRegExp('*.yaml').test('a/keys.yaml'));
  assert.ok(globToRegExp('[a-c]*').test('beta'));
  assert.ok(!globToRegExp('[^a-c]*').test('beta'));
});

test('YAML scalars decode as yaml.v2 into interface{}: timestamps and base-60 stay text, int64 exact, uint64 dropped, -0.0 is -0', async () => {
  const dir = tmp();
  try {
    writeFileSync(
      join(dir, 'a.yaml'),
      'v:\n  day: 2024-01-02\n  stamp: 2001-12-14t21:59:43.10-05:00\n  sexa: 1:20\n  id: 1732550000123456789\n  min: -9223372036854775808\n' +
        '  u64: 18446744073709551615\n  huge: 18446744073709551616\n  hex: 0x1F\n  oct: 010\n  neg0: -0.0\n  zero: -0\n',
    );
    const snap = await createFileBackend({ files: [join(dir, 'a.yaml')] }).getValues(['/v']);
    assert.deepEqual(Object.fromEntries(snap.kvs.map((kv) => [kv.key, kv.value])), {
      '/v/day': '2024-01-02',
      '/v/stamp': '2001-12-14t21:59:43.10-05:00',
      '/v/sexa': '1:20',
      '/v/id': '1732550000123456789',
      '/v/min': '-9223372036854775808',
      '/v/huge': '18446744073709552000',
      '/v/hex': '31',
      '/v/oct': '8',
      '/v/neg0': '-0',
      '/v/zero': '0',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
