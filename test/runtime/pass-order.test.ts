// processResources runs plain resources several at a time; what confd's sequential order
// guarantees must still hold: each resource's log lines together and in resource order, a
// command sees exactly the files of the resources before it (and its own), and of two resources
// with one dest the later one's content wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileBackend } from '../../src/backends/file/index.js';
import { capturingLogger } from '../helpers/log.js';
import { loadResources } from '../../src/resource/load.js';
import { fetchSnapshot, processResources } from '../../src/runtime/pass.js';

test('plain resources processed together keep confd order: logs, commands, shared dest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-pass-order-'));
  try {
    const out = join(root, 'out');
    mkdirSync(out);
    mkdirSync(join(root, 'conf.d'));
    mkdirSync(join(root, 'templates'));
    writeFileSync(join(root, 'templates', 'ok.tmpl'), '{{range gets "/svc/*"}}{{.Key}}={{.Value}}\n{{end}}');
    writeFileSync(join(root, 'templates', 'bad.tmpl'), '{{getv "/missing"}}');
    writeFileSync(join(root, 'keys.yaml'), `svc:\n${Array.from({ length: 50 }, (_, i) => `  k${i}: v${i}\n`).join('')}`);
    for (let i = 0; i < 30; i++) {
      const name = `r${String(i).padStart(2, '0')}`;
      // r20 and r21 share a dest (r21's content must win); r07 fails to render; r15 reloads.
      const dest = i === 21 ? join(out, 'r20') : join(out, name);
      const lines = ['[template]', `src = "${i === 7 ? 'bad' : 'ok'}.tmpl"`, `dest = "${dest}"`, 'keys = ["/svc"]'];
      if (i === 15) lines.push(`reload_cmd = "ls ${out} > ${join(root, 'seen-by-r15')}"`);
      if (i === 21) lines[1] = 'src = "r21.tmpl"';
      writeFileSync(join(root, 'conf.d', `${name}.toml`), lines.join('\n') + '\n');
    }
    writeFileSync(join(root, 'templates', 'r21.tmpl'), 'written by r21\n');

    const { log, lines } = capturingLogger('debug');
    const resources = loadResources({ confdir: root, prefix: '', log });
    const snapshot = await fetchSnapshot(createFileBackend({ files: [join(root, 'keys.yaml')] }), resources);
    lines.length = 0;
    const result = await processResources(resources, snapshot, {
      noop: false,
      syncOnly: false,
      keepStageFile: false,
      commandTimeoutMs: 5000,
      log,
      writeDiff: () => assert.fail('no diff outside -noop'),
    });

    assert.deepEqual(
      result.outcomes.map((o) => o.resource.file.match(/r\d\d/)![0]),
      resources.map((r) => r.file.match(/r\d\d/)![0]),
    );
    assert.deepEqual(result.failed.map((o) => o.resource.file.match(/r\d\d/)![0]), ['r07']);
    // Every line naming a resource's file names it in resource order (so each one's lines are together);
    // r20 and r21 count as one, since r21's lines name r20's dest too.
    const order = lines.flatMap((l) => {
      const m = /[/.](r\d\d)\b/.exec(l);
      return m ? [m[1] === 'r21' ? 20 : Number(m[1]!.slice(1))] : [];
    });
    assert.ok(order.length >= 60, `only ${order.length} lines name a resource`);
    for (let i = 1; i < order.length; i++) assert.ok(order[i - 1]! <= order[i]!, `r${order[i - 1]} logged after r${order[i]}:\n${lines.join('')}`);
    assert.ok(lines.some((l) => /ERROR .*missing/.test(l)));
    // r15's reload saw r00..r15 written (r07 failed, r20 is r20/r21's shared dest), nothing after.
    const seen = readFileSync(join(root, 'seen-by-r15'), 'utf8').trim().split('\n');
    const expected = Array.from({ length: 16 }, (_, i) => `r${String(i).padStart(2, '0')}`).filter((n) => n !== 'r07');
    assert.deepEqual(seen, expected);
    assert.equal(readFileSync(join(out, 'r20'), 'utf8'), 'written by r21\n');
    assert.equal(readdirSync(out).length, 28);
    assert.equal(readFileSync(join(out, 'r29'), 'utf8').split('\n').length, 51);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
