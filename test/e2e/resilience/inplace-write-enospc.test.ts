// QA: a bind-mounted single-file destination (a Kubernetes subPath, a docker -v file mount) on a
// nearly full filesystem. rename gives EBUSY, so tsconfd writes in place; the in-place write is
// one write(2) whose short count is ignored, then ftruncate extends the file with a hole: the
// old config is destroyed and the destination holds the first 64 KiB of the new one followed by
// NUL bytes ("could not be verified" is logged, but too late). A failed write must leave the old
// content (check free space first, loop over short writes, and restore the old bytes on error).
// Suspected: src/resource/atomic-write.ts writeInPlace (fh.write without a loop, truncate after).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';

before(() => ensureBuilt());

test('in-place write of a bind-mounted dest on a full filesystem keeps the old content', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for mount');
  const ws = new Workspace({
    'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/app"]\n',
    // About 320 KB: far more than the 64 KiB filesystem holds.
    'templates/app.tmpl': '{{range seq 1 20000}}{{getv "/app/x"}}\n{{end}}',
  });
  const small = join(ws.root, 'small');
  mkdirSync(small);
  const mounts: string[] = [];
  try {
    const m1 = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small], { encoding: 'utf8' });
    if (m1.status !== 0) return t.skip(`mount tmpfs refused: ${m1.stderr.trim()}`);
    mounts.unshift(small);
    const source = join(small, 'app.conf');
    const OLD = 'upstream app {\n  server 10.0.0.1:80;\n}\n';
    writeFileSync(source, OLD);
    writeFileSync(join(ws.out, 'app.conf'), '');
    const m2 = spawnSync('mount', ['--bind', source, join(ws.out, 'app.conf')], { encoding: 'utf8' });
    if (m2.status !== 0) return t.skip(`mount --bind refused: ${m2.stderr.trim()}`);
    mounts.unshift(join(ws.out, 'app.conf'));

    const keys = join(ws.root, 'keys.yaml');
    writeFileSync(keys, 'app:\n  x: db2.example.com\n');
    const r = await runCli(['-onetime', '-backend', 'file', '-file', keys, '-confdir', ws.confdir], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, r.stderr);
    const now = readFileSync(source);
    assert.ok(!now.includes(0), `the destination now holds NUL bytes (${now.length} bytes)`);
    assert.equal(now.toString('utf8'), OLD, 'the old config was destroyed by a failed in-place write');
    assert.deepEqual(ws.outFiles(), ['app.conf'], 'stage file left behind');
  } finally {
    for (const m of mounts) spawnSync('umount', [m]);
    ws.cleanup();
  }
});
