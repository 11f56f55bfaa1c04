// Commit groups on a real filesystem with real check commands (stores from plain data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturingLogger } from '../helpers/log.js';
import { loadResources, ResourceLoadError } from '../../src/resource/load.js';
import { groupKeys, processGroup } from '../../src/resource/group.js';
import { renderGroupCheckCmd } from '../../src/resource/check-and-reload.js';
import type { ProcessOptions } from '../../src/resource/model.js';
import { KeyStore } from '../../src/template/confd/store.js';

function setUp(tomls: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'group-'));
  const out = join(root, 'out');
  mkdirSync(join(root, 'conf.d'), { recursive: true });
  mkdirSync(join(root, 'templates'));
  mkdirSync(out);
  for (const [name, toml] of Object.entries(tomls)) writeFileSync(join(root, 'conf.d', name), toml.replaceAll('@OUT@', out).replaceAll('@ROOT@', root));
  writeFileSync(join(root, 'templates/v.tmpl'), '{{getv "/v"}}\n');
  const { log, lines } = capturingLogger();
  const opts = (extra: Partial<ProcessOptions> = {}): ProcessOptions => ({
    noop: false,
    syncOnly: false,
    keepStageFile: false,
    commandTimeoutMs: 5000,
    log,
    writeDiff: () => {},
    ...extra,
  });
  return { root, out, lines, opts, load: () => loadResources({ confdir: root, prefix: '', log }), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const member = (name: string, extra = '') =>
  `[template]\nsrc = "v.tmpl"\ndest = "@OUT@/${name}"\nprefix = "/${name}"\nkeys = ["/v"]\ncommit_group = "g"\n${extra}`;

test('group_check_cmd: {{.root}} reaches the shell as $TSCONFD_ROOT, never as script text', () => {
  const cmd = renderGroupCheckCmd('check -c {{.root}}/etc/x.conf', "/tmp/a b'c");
  assert.equal(cmd.script, 'check -c "${TSCONFD_ROOT}"/etc/x.conf');
  assert.deepEqual(cmd.env, { TSCONFD_ROOT: "/tmp/a b'c" });
});

test('members share one group; keys of the whole group; disagreeing checks are a load error', () => {
  const s = setUp({ 'a.toml': member('a', 'group_check_cmd = "true"\n'), 'b.toml': member('b') });
  try {
    const [a, b] = s.load();
    assert.equal(a!.ext!.group, b!.ext!.group);
    assert.equal(a!.ext!.group!.checkCmd, 'true');
    assert.deepEqual(groupKeys(a!), ['/a/v', '/b/v']);
  } finally {
    s.cleanup();
  }
  const bad = setUp({ 'a.toml': member('a', 'group_check_cmd = "true"\n'), 'b.toml': member('b', 'group_check_cmd = "false"\n') });
  try {
    assert.throws(() => bad.load(), (e: Error) => e instanceof ResourceLoadError && /b\.toml - commit group "g": group_check_cmd differs/.test(e.message));
    // The message names the file with the other command, not the command itself (it may hold a token).
    assert.throws(() => bad.load(), (e: Error) => /differs from the one in \S*a\.toml$/.test(e.message) && !e.message.includes('"true"'));
  } finally {
    bad.cleanup();
  }
});

test('a failing group check keeps every old file and leaves no stage file; a passing one commits all', async () => {
  // The check sees the whole staged tree: it fails when any staged file says "bad".
  const check = 'group_check_cmd = "! grep -rq bad {{.root}}"\nreload_cmd = "echo r >> @ROOT@/reloads"\n';
  const s = setUp({ 'a.toml': member('a', check), 'b.toml': member('b', 'reload_cmd = "echo r >> @ROOT@/reloads"\n'), 'c.toml': member('c') });
  try {
    const resources = s.load();
    const group = resources[0]!.ext!.group!;
    const values = (a: string, b: string, c: string) => {
      const stores: Record<string, KeyStore> = { '/a': new KeyStore([['/v', a]]), '/b': new KeyStore([['/v', b]]), '/c': new KeyStore([['/v', c]]) };
      return (r: { prefix: string }) => stores[r.prefix]!;
    };
    let outcomes = await processGroup(group, values('1', '2', '3'), s.opts());
    assert.deepEqual(outcomes.map((o) => o.status), ['updated', 'updated', 'updated']);
    assert.equal(readFileSync(join(s.root, 'reloads'), 'utf8'), 'r\n', 'one distinct reload_cmd, run once');

    outcomes = await processGroup(group, values('4', '5', 'bad'), s.opts());
    assert.deepEqual(outcomes.map((o) => o.status), ['failed', 'failed', 'failed']);
    assert.match(outcomes[0]!.error!, /commit group "g" not committed: group check failed: exit status 1/);
    assert.deepEqual(['a', 'b', 'c'].map((n) => readFileSync(join(s.out, n), 'utf8')), ['1\n', '2\n', '3\n']);
    assert.deepEqual(readdirSync(s.out).sort(), ['a', 'b', 'c']);
    assert.equal(readFileSync(join(s.root, 'reloads'), 'utf8'), 'r\n');

    // Only b changes: the check still sees a and c staged beside it; only b is rewritten.
    outcomes = await processGroup(group, values('1', 'b2', '3'), s.opts());
    assert.deepEqual(outcomes.map((o) => o.status), ['unchanged', 'updated', 'unchanged']);
    assert.equal(readFileSync(join(s.out, 'b'), 'utf8'), 'b2\n');

    outcomes = await processGroup(group, values('1', 'b2', '3'), s.opts());
    assert.deepEqual(outcomes.map((o) => o.status), ['unchanged', 'unchanged', 'unchanged']);
    assert.equal(readFileSync(join(s.root, 'reloads'), 'utf8'), 'r\nr\n');
  } finally {
    s.cleanup();
  }
});

test('a member that fails to render, or fails its own check_cmd, stops the whole group', async () => {
  const s = setUp({ 'a.toml': member('a'), 'b.toml': member('b', 'check_cmd = "grep -q ok {{.src}}"\n') });
  try {
    const [a] = s.load();
    const group = a!.ext!.group!;
    let outcomes = await processGroup(group, (r) => (r.prefix === '/a' ? new KeyStore([['/v', 'x']]) : new KeyStore([])), s.opts());
    assert.deepEqual(outcomes.map((o) => o.status), ['failed', 'failed']);
    assert.match(outcomes[1]!.error!, /not committed: .*\/b: template: v\.tmpl:1:\d+: executing .*key does not exist: \/v/);
    assert.equal(existsSync(join(s.out, 'a')), false);

    outcomes = await processGroup(group, (r) => new KeyStore([['/v', r.prefix === '/a' ? 'ok' : 'nope']]), s.opts());
    assert.match(outcomes[0]!.error!, /\/b: Config check failed: exit status 1/);
    assert.deepEqual(readdirSync(s.out), []);

    // -sync-only skips the checks; -noop writes nothing.
    outcomes = await processGroup(group, (r) => new KeyStore([['/v', r.prefix === '/a' ? 'ok' : 'nope']]), s.opts({ noop: true }));
    assert.deepEqual(outcomes.map((o) => o.status), ['noop', 'noop']);
    assert.deepEqual(readdirSync(s.out), []);
    outcomes = await processGroup(group, (r) => new KeyStore([['/v', r.prefix === '/a' ? 'ok' : 'nope']]), s.opts({ syncOnly: true }));
    assert.deepEqual(outcomes.map((o) => o.status), ['updated', 'updated']);
  } finally {
    s.cleanup();
  }
});

test('a rename failing midway puts back the files already renamed', async () => {
  // The group check itself puts a non-empty directory where b goes, so b's rename fails after a's.
  const s = setUp({
    'a.toml': member('a', 'group_check_cmd = "mkdir -p @OUT@/b/x"\n'),
    'b.toml': member('b'),
  });
  try {
    const [a] = s.load();
    writeFileSync(join(s.out, 'a'), 'old\n');
    const outcomes = await processGroup(a!.ext!.group!, () => new KeyStore([['/v', 'new']]), s.opts());
    assert.deepEqual(outcomes.map((o) => o.status), ['failed', 'failed']);
    assert.match(outcomes[0]!.error!, /not committed: .*\/b: rename /);
    assert.equal(readFileSync(join(s.out, 'a'), 'utf8'), 'old\n');
    assert.ok(s.lines.some((l) => /restored .*\/a after a failed commit/.test(l)), s.lines.join(''));
    assert.deepEqual(readdirSync(s.out).sort(), ['a', 'b']);
  } finally {
    s.cleanup();
  }
});

test('long-running modes: a group\'s checks run as a single resource\'s do (its command_timeout, told to the runtime), its reloads are queued', async () => {
  const s = setUp({
    'a.toml': member('a', 'check_cmd = "grep -q 1 {{.src}}"\ngroup_check_cmd = "test -f {{.root}}@OUT@/b"\nreload_cmd = "echo a"\n'),
    'b.toml': member('b', 'reload_cmd = "echo b"\n'),
  });
  try {
    const group = s.load()[0]!.ext!.group!;
    const checked: Array<[string, number | string]> = [];
    const timeouts: string[] = [];
    const queued: string[] = [];
    const commands = {
      signal: new AbortController().signal,
      timeoutMs: (r: { dest: string }) => {
        timeouts.push(r.dest);
        return 5000;
      },
      checked: (r: { dest: string }, _ms: number, end: number | string) => void checked.push([r.dest, end]),
      queueReload: (r: { dest: string }) => void queued.push(r.dest),
    };
    const stores = (r: { prefix: string }) => new KeyStore([['/v', r.prefix === '/a' ? '1' : '2']]);
    const outcomes = await processGroup(group, stores, s.opts({ commands }));
    assert.deepEqual(outcomes.map((o) => o.status), ['updated', 'updated']);
    const a = join(s.out, 'a');
    assert.deepEqual(checked, [[a, 0], [a, 0]], 'the member check and the group check, each told (the group check on behalf of its first member)');
    assert.deepEqual(timeouts, [a, a]);
    assert.deepEqual(queued, [a, join(s.out, 'b')], 'every member\'s reload queued, none run here');
  } finally {
    s.cleanup();
  }
});
