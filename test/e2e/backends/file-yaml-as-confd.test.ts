// QA: confd's file backend decodes YAML with gopkg.in/yaml.v2 into interface{}, which keeps a
// timestamp-looking scalar as the original string ("for backward compatibility", decode.go), and
// prints -0.0 with strconv.FormatFloat('f', -1) as "-0". tsconfd turns `2024-01-02` into
// "2024-01-02T00:00:00.000Z" (a JS Date), so a template printing an expiry date or a release day
// changes bytes after the move from confd.
// Suspected: src/backends/file/ (YAML schema: timestamps should stay strings).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';

before(() => ensureBuilt());

test('-backend file: YAML dates and timestamps are kept as written; -0.0 prints -0', async () => {
  const ws = new Workspace({
    'conf.d/a.toml': '[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\nkeys = ["/v"]\n',
    'templates/a.tmpl': '{{range gets "/v/*"}}{{.Key}}={{.Value}}\n{{end}}',
  });
  try {
    const keys = join(ws.root, 'keys.yaml');
    writeFileSync(keys, 'v:\n  day: 2024-01-02\n  stamp: 2001-12-14t21:59:43.10-05:00\n  neg0: -0.0\n');
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keys, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'a.conf'), 'utf8'), '/v/day=2024-01-02\n/v/neg0=-0\n/v/stamp=2001-12-14t21:59:43.10-05:00\n');
  } finally {
    ws.cleanup();
  }
});

test('-backend file: integers beyond 2^53 keep their digits (yaml.v2 decodes them as int64)', async () => {
  const ws = new Workspace({
    'conf.d/a.toml': '[template]\nsrc = "a.tmpl"\ndest = "@OUT@/a.conf"\nkeys = ["/v"]\n',
    'templates/a.tmpl': '{{getv "/v/id"}}\n',
  });
  try {
    const keys = join(ws.root, 'keys.yaml');
    writeFileSync(keys, 'v:\n  id: 1732550000123456789\n');
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keys, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'a.conf'), 'utf8'), '1732550000123456789\n');
  } finally {
    ws.cleanup();
  }
});
