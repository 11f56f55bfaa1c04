// QA: Go's flag package parses `-flag=value` booleans with strconv.ParseBool, so `-noop=1`,
// `-noop=t`, `-noop=T`, `-noop=TRUE` and `-noop=True` all mean noop, and `-noop=maybe` is an
// error. An operator who types `-noop=1` must never get a written destination.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';

before(() => ensureBuilt());

const files = {
  'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n',
  'templates/app.tmpl': 'x={{getv "/app/x"}}\n',
};

for (const spelling of ['1', 't', 'T', 'TRUE', 'True']) {
  test(`-noop=${spelling} writes nothing (Go ParseBool spelling of true)`, async () => {
    const ws = new Workspace(files);
    try {
      const keys = join(ws.root, 'keys.yaml');
      writeFileSync(keys, 'app:\n  x: new\n');
      writeFileSync(join(ws.out, 'app.conf'), 'old\n');
      const r = await runCli(['-onetime', `-noop=${spelling}`, '-backend', 'file', '-file', keys, '-confdir', ws.confdir], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old\n', `-noop=${spelling} rewrote the destination`);
    } finally {
      ws.cleanup();
    }
  });
}

for (const spelling of ['maybe', 'yes', '2']) {
  test(`-noop=${spelling} is a usage error, not silently false`, async () => {
    const ws = new Workspace(files);
    try {
      const keys = join(ws.root, 'keys.yaml');
      writeFileSync(keys, 'app:\n  x: new\n');
      writeFileSync(join(ws.out, 'app.conf'), 'old\n');
      const r = await runCli(['-onetime', `-noop=${spelling}`, '-backend', 'file', '-file', keys, '-confdir', ws.confdir], { timeoutMs: 20_000 });
      assert.notEqual(r.code, 0, 'a bad boolean value was accepted');
      assert.match(r.stderr, /noop/);
      assert.match(r.stderr, /-h/);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old\n');
    } finally {
      ws.cleanup();
    }
  });
}
