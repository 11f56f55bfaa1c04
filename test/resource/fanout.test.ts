// Fan-out resources on a real filesystem, with stores built from plain data (no backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../src/log.js';
import { loadResources, ResourceLoadError } from '../../src/resource/load.js';
import type { TemplateResource } from '../../src/resource/model.js';
import { manifestPath, processFanout } from '../../src/resource/fanout.js';
import { ResourceError, type ProcessOptions } from '../../src/resource/model.js';
import { KeyStore } from '../../src/template/confd/store.js';

function setUp(toml: string, tmpl: string) {
  const root = mkdtempSync(join(tmpdir(), 'fanout-'));
  const out = join(root, 'out');
  mkdirSync(join(root, 'conf.d'), { recursive: true });
  mkdirSync(join(root, 'templates'));
  mkdirSync(out);
  writeFileSync(join(root, 'conf.d/sites.toml'), toml.replaceAll('@OUT@', out));
  writeFileSync(join(root, 'templates/site.tmpl'), tmpl);
  const lines: string[] = [];
  const diffs: string[] = [];
  const log = new Logger({ level: 'debug', write: (l) => lines.push(l) });
  const load = (): TemplateResource[] => loadResources({ confdir: root, prefix: '', log });
  const opts = (extra: Partial<ProcessOptions> = {}): ProcessOptions => ({
    noop: false,
    syncOnly: false,
    keepStageFile: false,
    commandTimeoutMs: 5000,
    log,
    writeDiff: (t) => diffs.push(t),
    ...extra,
  });
  return { root, out, load, opts, lines, diffs, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const TOML = '[template]\nsrc = "site.tmpl"\ndest = "@OUT@/{{base .Key}}.conf"\nrange = "/sites/*"\n';
const store = (kv: Record<string, string>) => new KeyStore(Object.entries(kv));

test('range adds its directory to keys, after the prefix', () => {
  const s = setUp('[template]\nprefix = "/p"\nsrc = "site.tmpl"\ndest = "@OUT@/{{base .Key}}"\nrange = "/sites/web-*"\nkeys = ["/shared"]\n', '');
  try {
    const [r] = s.load();
    assert.deepEqual(r!.keys, ['/p/shared', '/p/sites']);
    assert.equal(r!.ext?.range, '/sites/web-*');
  } finally {
    s.cleanup();
  }
});

test('load errors: a literal dest, a templated directory, a relative range, Handlebars', () => {
  const cases: Array<[string, RegExp]> = [
    ['[template]\nsrc = "site.tmpl"\ndest = "@OUT@/fixed.conf"\nrange = "/sites/*"\n', /template\.dest must be a template/],
    ['[template]\nsrc = "site.tmpl"\ndest = "@OUT@/{{base .Key}}/x.conf"\nrange = "/sites/*"\n', /only the file name may be templated/],
    ['[template]\nsrc = "site.tmpl"\ndest = "@OUT@/{{base .Key}}"\nrange = "sites/*"\n', /template\.range must start with "\/"/],
    ['[template]\nsrc = "site.hbs"\ndest = "@OUT@/{{base .Key}}"\nrange = "/sites/*"\n', /works with Go templates only/],
    ['[template]\nsrc = "site.tmpl"\ndest = "@OUT@/x"\nrange = 3\n', /template\.range must be a string/],
  ];
  for (const [toml, re] of cases) {
    const s = setUp(toml, '');
    try {
      assert.throws(() => s.load(), (e: Error) => e instanceof ResourceLoadError && re.test(e.message) && /sites\.toml - /.test(e.message));
    } finally {
      s.cleanup();
    }
  }
});

test('one file per key with the KVPair as dot; removed keys remove only recorded files', async () => {
  const s = setUp(TOML, 'name={{base .Key}} value={{.Value}} all={{len (gets "/sites/*")}}\n');
  try {
    const [r] = s.load();
    writeFileSync(join(s.out, 'c.conf'), 'not recorded\n');
    assert.equal(await processFanout(r!, store({ '/sites/a': '1', '/sites/b': '2' }), s.opts()), 'updated');
    assert.equal(readFileSync(join(s.out, 'a.conf'), 'utf8'), 'name=a value=1 all=2\n');
    assert.equal(readFileSync(join(s.out, 'b.conf'), 'utf8'), 'name=b value=2 all=2\n');
    assert.equal(manifestPath(r!), join(s.out, '.tsconfd-manifest-sites.json'));
    assert.equal(await processFanout(r!, store({ '/sites/a': '1', '/sites/b': '2' }), s.opts()), 'unchanged');
    // c appears: c.conf was there before and is not the resource's: the key is refused, the file kept.
    await assert.rejects(
      processFanout(r!, store({ '/sites/a': '1', '/sites/c': '3' }), s.opts()),
      (e: Error) => e instanceof ResourceError && /key "\/sites\/c" refused: .*c\.conf exists and was not written by this fan-out/.test(e.message),
    );
    assert.equal(readFileSync(join(s.out, 'c.conf'), 'utf8'), 'not recorded\n');
    assert.equal(existsSync(join(s.out, 'b.conf')), false);
    assert.deepEqual(JSON.parse(readFileSync(manifestPath(r!), 'utf8')).files, { 'a.conf': '/sites/a' });
    // Every key gone: nothing is lost unless the resource allows an empty range (min_keys).
    await assert.rejects(processFanout(r!, store({}), s.opts()), (e: Error) => e instanceof ResourceError && e.stage === 'min_keys');
    assert.deepEqual(readdirSync(s.out).sort(), ['.tsconfd-manifest-sites.json', 'a.conf', 'c.conf']);
    // Allowed: every recorded file goes, the manifest stays (empty), the file it did not write stays.
    assert.equal(await processFanout({ ...r!, allowEmpty: true }, store({}), s.opts()), 'updated');
    assert.deepEqual(readdirSync(s.out).sort(), ['.tsconfd-manifest-sites.json', 'c.conf']);
  } finally {
    s.cleanup();
  }
});

test('a key that fails keeps its old file; the others are written; the error names the key', async () => {
  const s = setUp(TOML, '{{if eq .Value "bad"}}{{getv "/missing"}}{{end}}v={{.Value}}\n');
  try {
    const [r] = s.load();
    await processFanout(r!, store({ '/sites/a': '1', '/sites/b': '2' }), s.opts());
    await assert.rejects(processFanout(r!, store({ '/sites/a': 'bad', '/sites/b': '3' }), s.opts()), (e: Error) => {
      assert.ok(e instanceof ResourceError);
      assert.match(e.message, /a\.conf \(key \/sites\/a\): template: site\.tmpl:1:\d+: executing .*key does not exist: \/missing/);
      return true;
    });
    assert.equal(readFileSync(join(s.out, 'a.conf'), 'utf8'), 'v=1\n');
    assert.equal(readFileSync(join(s.out, 'b.conf'), 'utf8'), 'v=3\n');
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(manifestPath(r!), 'utf8')).files), ['a.conf', 'b.conf']);
  } finally {
    s.cleanup();
  }
});

test('a dest leaving the directory, or two keys on one file, are errors for those keys', async () => {
  const s = setUp('[template]\nsrc = "site.tmpl"\ndest = "@OUT@/{{.Value}}"\nrange = "/sites/*"\n', 'x\n');
  try {
    const [r] = s.load();
    await assert.rejects(
      processFanout(r!, store({ '/sites/a': '../escape', '/sites/b': 'same', '/sites/c': 'same', '/sites/d': '.tsconfd-manifest-x' }), s.opts()),
      (e: Error) => {
        assert.match(e.message, /dest for key "\/sites\/a" renders to ".*\/out\/\.\.\/escape", not a file in /);
        assert.match(e.message, /keys \/sites\/b and \/sites\/c both render to .*\/same/);
        assert.match(e.message, /dest for key "\/sites\/d" renders/);
        return true;
      },
    );
    assert.deepEqual(readdirSync(s.out).sort(), ['.tsconfd-manifest-sites.json', 'same']);
    assert.equal(existsSync(join(s.root, 'escape')), false);
  } finally {
    s.cleanup();
  }
});

test('-noop prints the diffs and removals and writes nothing; reload_cmd runs once per pass', async () => {
  const s = setUp(TOML + 'reload_cmd = "echo r >> @OUT@/../reloads"\n', 'v={{.Value}}\n');
  try {
    const [r] = s.load();
    await processFanout(r!, store({ '/sites/a': '1', '/sites/b': '2' }), s.opts());
    assert.equal(readFileSync(join(s.root, 'reloads'), 'utf8'), 'r\n');
    assert.equal(await processFanout(r!, store({ '/sites/a': '9' }), s.opts({ noop: true })), 'noop');
    assert.equal(readFileSync(join(s.out, 'a.conf'), 'utf8'), 'v=1\n');
    assert.ok(existsSync(join(s.out, 'b.conf')));
    assert.match(s.diffs.join(''), /-v=1\n\+v=9\n/);
    assert.match(s.diffs.join(''), /--- .*b\.conf\n\+\+\+ \/dev\/null \(key \/sites\/b is gone\)/);
    await processFanout(r!, store({ '/sites/a': '9' }), s.opts({ syncOnly: true }));
    assert.equal(readFileSync(join(s.root, 'reloads'), 'utf8'), 'r\n', '-sync-only skips the reload');
    await processFanout(r!, store({ '/sites/a': '10', '/sites/x': '1' }), s.opts());
    assert.equal(readFileSync(join(s.root, 'reloads'), 'utf8'), 'r\nr\n');
  } finally {
    s.cleanup();
  }
});

test('a tampered manifest naming a path outside the directory is refused, nothing removed', async () => {
  const s = setUp(TOML, 'v\n');
  try {
    const [r] = s.load();
    writeFileSync(join(s.root, 'victim'), 'keep\n');
    writeFileSync(manifestPath(r!), JSON.stringify({ resource: 'x', files: { '../victim': '/sites/gone' } }));
    await assert.rejects(processFanout(r!, store({}), s.opts()), /fan-out manifest .* is unreadable \(bad entry "\.\.\/victim"\); fix or remove it/);
    assert.equal(readFileSync(join(s.root, 'victim'), 'utf8'), 'keep\n');
  } finally {
    s.cleanup();
  }
});

test('key names in fan-out errors: refused unsafe names and keys with a newline are quoted, so no log line can be forged', async () => {
  const s = setUp('[template]\nsrc = "site.tmpl"\ndest = "@OUT@/{{.Value}}.conf"\nrange = "/sites/*"\n', '{{getv "/missing"}}\n');
  try {
    const [r] = s.load();
    await assert.rejects(processFanout(r!, store({ '/sites/a\nERROR forged': 'safe', '/sites/b': 'x y' }), s.opts()), (e: Error) => {
      assert.ok(!e.message.includes('\n'), e.message);
      assert.match(e.message, /\(key "\/sites\/a\\nERROR forged"\)/);
      assert.match(e.message, /dest for key "\/sites\/b" renders to file name "x y\.conf", which is not a safe file name/);
      return true;
    });
  } finally {
    s.cleanup();
  }
});
