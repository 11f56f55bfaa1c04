import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResources, findResourceFiles, ResourceLoadError } from '../../src/resource/load.js';
import { capturingLogger } from '../helpers/log.js';

function confdir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-load-'));
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'templates'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const minimal = (dest: string) => `[template]\nsrc = "t.tmpl"\ndest = "${dest}"\n`;

test('discovery: recursive, byte order, every regular file named *toml (quirks 8, 9)', () => {
  const dir = confdir({
    'conf.d/a.toml': minimal('/a'),
    'conf.d/.hidden.toml': minimal('/h'),
    'conf.d/dtoml': minimal('/d'),
    'conf.d/E.TOML': minimal('/e'),
    'conf.d/c.toml.bak': minimal('/c'),
    'conf.d/f.tml': minimal('/f'),
    'conf.d/dir.toml/inner.toml': minimal('/i'),
    'conf.d/sub/deeper/e.toml': minimal('/se'),
    'conf.d/10-first.toml': minimal('/1'),
    'conf.d/9-last.toml': minimal('/9'),
    'conf.d/A-upper.toml': minimal('/A'),
  });
  try {
    const rel = findResourceFiles(join(dir, 'conf.d')).map((p) => p.slice(dir.length + 'conf.d/'.length + 1));
    assert.deepEqual(rel, ['.hidden.toml', '10-first.toml', '9-last.toml', 'A-upper.toml', 'a.toml', 'dir.toml/inner.toml', 'dtoml', 'sub/deeper/e.toml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fields: prefix joined to keys, -prefix overrides, case-insensitive names, defaults', () => {
  const dir = confdir({
    'conf.d/a.toml':
      '# comment\n[template]\nprefix = "docker"\nSRC = "sub/app.tmpl"\ndest = "/tmp/x"\nkeys = ["/node", "/service/", "", "/"]\nunknown = 1\ncheck_cmd = "c {{.src}}"\nreload_cmd = "r"\n',
  });
  try {
    const { log } = capturingLogger();
    const [r] = loadResources({ confdir: dir, prefix: '', log });
    assert.equal(r!.src, join(dir, 'templates', 'sub/app.tmpl'));
    assert.equal(r!.name, 'app.tmpl');
    assert.equal(r!.prefix, '/docker');
    assert.deepEqual(r!.keys, ['/docker/node', '/docker/service', '/docker', '/docker']);
    assert.equal(r!.mode, undefined);
    assert.equal(r!.uid, process.geteuid!());
    assert.equal(r!.gid, process.getegid!());
    assert.equal(r!.checkCmd, 'c {{.src}}');
    assert.equal(r!.reloadCmd, 'r');
    assert.equal(r!.engine, 'go');
    assert.equal(r!.inPlace, true);
    const [p] = loadResources({ confdir: dir, prefix: '/production', log });
    assert.deepEqual(p!.keys, ['/production/node', '/production/service', '/production', '/production']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engine: .hbs or engine = "handlebars"; in_place = false', () => {
  const dir = confdir({
    'conf.d/a.toml': '[template]\nsrc = "x.hbs"\ndest = "/tmp/a"\n',
    'conf.d/b.toml': '[template]\nsrc = "x.tmpl"\ndest = "/tmp/b"\nengine = "handlebars"\nin_place = false\n',
  });
  try {
    const rs = loadResources({ confdir: dir, prefix: '', log: capturingLogger().log });
    assert.deepEqual(rs.map((r) => [r.engine, r.inPlace]), [['handlebars', true], ['handlebars', false]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a TOML syntax error names file, line and column and stops loading', () => {
  const dir = confdir({
    'conf.d/a.toml': minimal('/a'),
    'conf.d/b.toml': '[template]\nsrc = "t.tmpl"\nmode = 0644\n',
  });
  try {
    assert.throws(
      () => loadResources({ confdir: dir, prefix: '', log: capturingLogger().log }),
      (e: unknown) =>
        e instanceof ResourceLoadError &&
        e.message.startsWith(`Cannot process template resource ${join(dir, 'conf.d/b.toml')} - ${join(dir, 'conf.d/b.toml')}:3:`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('type mismatches and an empty src stop loading (quirk 2)', () => {
  for (const body of ['keys = "/x"', 'uid = "0"', 'mode = 420', 'in_place = "no"', 'max_shrink = 1.5', 'max_shrink = "50%"']) {
    const dir = confdir({ 'conf.d/a.toml': `[template]\nsrc = "t.tmpl"\ndest = "/a"\n${body}\n` });
    try {
      assert.throws(() => loadResources({ confdir: dir, prefix: '', log: capturingLogger().log }), (e: unknown) => {
        return e instanceof ResourceLoadError && /a\.toml:4:1: template\.\w+ must be/.test(e.message);
      }, body);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const dir = confdir({ 'conf.d/a.toml': '[template]\ndest = "/a"\n' });
  try {
    assert.throws(() => loadResources({ confdir: dir, prefix: '', log: capturingLogger().log }), /empty src template/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad mode is kept for the resource (reported when processed), a decimal mode warns', () => {
  const dir = confdir({
    'conf.d/a.toml': '[template]\nsrc = "t.tmpl"\ndest = "/a"\nmode = "rw"\n',
    'conf.d/b.toml': '[template]\nsrc = "t.tmpl"\ndest = "/b"\nmode = "644"\n',
  });
  try {
    const { log, lines } = capturingLogger();
    const [a, b] = loadResources({ confdir: dir, prefix: '', log });
    assert.equal(a!.modeError, 'strconv.ParseUint: parsing "rw": invalid syntax');
    assert.equal(b!.mode, 0o204);
    assert.ok(lines.some((l) => / WARNING .*b\.toml: mode "644" is read as the decimal number 644/.test(l)), lines.join(''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('owner and group names resolve through /etc/passwd and /etc/group; unknown names warn and fall back', () => {
  const dir = confdir({
    'conf.d/a.toml': '[template]\nsrc = "t.tmpl"\ndest = "/a"\nowner = "root"\ngroup = "root"\n',
    'conf.d/b.toml': '[template]\nsrc = "t.tmpl"\ndest = "/b"\nowner = "no-such-user-xyz"\ngroup = "no-such-group-xyz"\n',
    'conf.d/c.toml': '[template]\nsrc = "t.tmpl"\ndest = "/c"\nowner = "no-such-user-xyz"\nuid = 12\ngid = 34\n',
  });
  try {
    const { log, lines } = capturingLogger();
    const [a, b, c] = loadResources({ confdir: dir, prefix: '', log });
    assert.deepEqual([a!.uid, a!.gid], [0, 0]);
    assert.deepEqual([b!.uid, b!.gid], [process.geteuid!(), process.getegid!()]);
    assert.deepEqual([c!.uid, c!.gid], [12, 34]);
    assert.equal(lines.filter((l) => /WARNING .*unknown (owner|group)/.test(l)).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing confdir is a warning and no resources; a missing conf.d is an error', () => {
  const { log, lines } = capturingLogger();
  assert.deepEqual(loadResources({ confdir: '/nonexistent-confdir-xyz', prefix: '', log }), []);
  assert.ok(lines.some((l) => /WARNING Cannot load template resources: confdir '\/nonexistent-confdir-xyz' does not exist/.test(l)));
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-load-'));
  try {
    assert.throws(() => loadResources({ confdir: dir, prefix: '', log }), { message: `stat ${join(dir, 'conf.d')}: no such file or directory` });
    mkdirSync(join(dir, 'conf.d'));
    assert.deepEqual(loadResources({ confdir: dir, prefix: '', log }), []);
    assert.ok(lines.some((l) => /WARNING Found no templates/.test(l)));
    // A symlink to a directory is not descended into (filepath.Walk does not follow links).
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'x.toml'), minimal('/x'));
    symlinkSync(join(dir, 'real'), join(dir, 'conf.d', 'link'));
    assert.deepEqual(findResourceFiles(join(dir, 'conf.d')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys: every "/*" is removed for redis and zookeeper (stripKeyWildcards), kept literal otherwise', () => {
  const dir = confdir({ 'conf.d/a.toml': '[template]\nprefix = "/app"\nsrc = "t.tmpl"\ndest = "/tmp/x"\nkeys = ["/svc/*", "/a/*/b", "/*", "/plain"]\n' });
  try {
    const { log } = capturingLogger();
    assert.deepEqual(loadResources({ confdir: dir, prefix: '', log })[0]!.keys, ['/app/svc/*', '/app/a/*/b', '/app/*', '/app/plain']);
    assert.deepEqual(loadResources({ confdir: dir, prefix: '', log, stripKeyWildcards: true })[0]!.keys, ['/app/svc', '/app/a/b', '/app', '/app/plain']);
    assert.deepEqual(loadResources({ confdir: dir, prefix: '/', log, stripKeyWildcards: true })[0]!.keys, ['/svc', '/a/b', '/', '/plain']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
