// A secret key deleted from the backend leaves its value in the old file; -noop's and -log-diff's diffs must
// not show it on the old side, whoever rendered it: a template the resource's template includes (the store has
// no secret value any more, and the including template names none), or a range over keys (`password: "..."`,
// a line that fits a non-secret value line's shape).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';
import { WatchAgent } from '../harness/watch-harness.js';

ensureBuilt();

const SECRET = 'hunter2-OLD-s3cret-value';

function workspace(): { ws: Workspace; before: string; after: string } {
  const ws = new Workspace({
    'conf.d/inc.toml': '[template]\nsrc = "inc.tmpl"\ndest = "@OUT@/inc.conf"\nkeys = ["/db"]\n',
    'templates/inc.tmpl': 'host = {{getv "/db/host"}}\n{{include "db-auth.tmpl"}}',
    'templates/db-auth.tmpl': 'pw = {{getv "/db/password" ""}}\n',
    'conf.d/range.toml': '[template]\nsrc = "range.tmpl"\ndest = "@OUT@/range.conf"\nkeys = ["/db"]\n',
    'templates/range.tmpl': '{{range gets "/db/*"}}{{base .Key}}: "{{.Value}}"\n{{end}}',
  });
  const before = join(ws.root, 'before.yaml');
  const after = join(ws.root, 'after.yaml');
  writeFileSync(before, `db:\n  host: h1\n  password: "${SECRET}"\n`);
  writeFileSync(after, 'db:\n  host: h2\n');
  return { ws, before, after };
}

test('-noop and -log-diff never show the value of a secret key that was deleted (included template, range over keys)', async () => {
  const { ws, before, after } = workspace();
  try {
    const first = await runCli(['-onetime', '-backend', 'file', '-file', before, '-confdir', ws.confdir]);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(readFileSync(join(ws.out, 'inc.conf'), 'utf8').includes(SECRET), 'the old files hold the secret');
    assert.ok(readFileSync(join(ws.out, 'range.conf'), 'utf8').includes(SECRET));

    const noop = await runCli(['-onetime', '-noop', '-backend', 'file', '-file', after, '-confdir', ws.confdir]);
    assert.equal(noop.code, 0, noop.stderr);
    const noopOut = noop.stdout + noop.stderr;
    assert.ok(!noopOut.includes(SECRET), `-noop leaked the deleted secret:\n${noopOut}`);
    assert.match(noopOut, /\+host = h2/, 'the diff still shows the non-secret change');
    assert.match(noopOut, /\+host: "h2"/);

    const logDiff = await runCli(['-onetime', '-log-diff', '-backend', 'file', '-file', after, '-confdir', ws.confdir]);
    assert.equal(logDiff.code, 0, logDiff.stderr);
    const logOut = logDiff.stdout + logDiff.stderr;
    assert.ok(!logOut.includes(SECRET), `-log-diff leaked the deleted secret:\n${logOut}`);
    assert.match(logOut, /-<redacted>/);
    assert.equal(readFileSync(join(ws.out, 'range.conf'), 'utf8'), 'host: "h2"\n');
  } finally {
    ws.cleanup();
  }
});

test('-watch -log-diff: a secret key deleted or rotated is masked on the old side even on a line that looks like a plain value line', async (t) => {
  // `server <value>;` for every key: the token's line has no secret word and fits the host line's shape,
  // so only knowing the old value (the view the change replaced) can mask it.
  const ws = new Workspace({
    'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/db"]\n',
    'templates/app.tmpl': '{{range gets "/db/*"}}server {{.Value}};\n{{end}}',
  });
  t.after(() => ws.cleanup());
  const keys = join(ws.root, 'keys.yaml');
  const save = (yaml: string) => {
    writeFileSync(`${keys}.tmp`, yaml);
    renameSync(`${keys}.tmp`, keys);
  };
  save(`db:\n  host: h1\n  token: "${SECRET}"\n`);
  const agent = new WatchAgent(ws, ['-backend', 'file', '-file', keys, '-log-diff']);
  t.after(() => agent.stop());
  await agent.until('first render', () => agent.content() === `server h1;\nserver ${SECRET};\n`);
  const ROTATED = 'rotated-N3W-s3cret-value';
  save(`db:\n  host: h2\n  token: "${ROTATED}"\n`);
  await agent.until('rotated', () => agent.content() === `server h2;\nserver ${ROTATED};\n` && agent.count(/-log-diff .*app\.conf/) >= 2);
  save('db:\n  host: h3\n');
  await agent.until('deleted', () => agent.content() === 'server h3;\n' && agent.count(/-log-diff .*app\.conf/) >= 3);
  const log = agent.logText();
  assert.ok(!log.includes(SECRET) && !log.includes(ROTATED), `-log-diff leaked a secret:\n${log}`);
  assert.match(log, /\+server h3;/, 'the diff still shows the non-secret change');
});
