import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileBackend } from '../../src/backends/file/index.js';
import type { Backend } from '../../src/backends/types.js';
import { capturingLogger } from '../helpers/log.js';
import { loadResources } from '../../src/resource/load.js';
import { fetchSnapshot, prefixesOf, processResources } from '../../src/runtime/pass.js';

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-pass-'));
  const out = join(root, 'out');
  mkdirSync(out);
  mkdirSync(join(root, 'conf.d'));
  mkdirSync(join(root, 'templates'));
  const res = (name: string, prefix: string, keys: string[], src: string) =>
    writeFileSync(
      join(root, 'conf.d', `${name}.toml`),
      `[template]\nprefix = "${prefix}"\nsrc = "${src}"\ndest = "${join(out, name)}"\nkeys = ${JSON.stringify(keys)}\n`,
    );
  res('a', '/docker', ['/node', '/service'], 'nodes.tmpl');
  res('b', '/docker', ['/node'], 'nodes.tmpl');
  res('c', '', ['/docker/service'], 'fail.tmpl');
  res('d', '/docker/', ['/service/'], 'services.tmpl');
  writeFileSync(join(root, 'templates', 'nodes.tmpl'), '{{range getvs "/node/*"}}{{.}} {{end}}\n');
  writeFileSync(join(root, 'templates', 'fail.tmpl'), '{{getv "/nope"}}');
  writeFileSync(join(root, 'templates', 'services.tmpl'), '{{range gets "/service/*"}}{{.Key}}={{.Value}} {{end}}\n');
  const keys = join(root, 'keys.yaml');
  writeFileSync(keys, 'docker:\n  node:\n    n1: 10.0.0.1\n    n2: 10.0.0.2\n  service:\n    s1: "80"\nother: x\n');
  return { root, out, keys };
}

test('prefixesOf drops prefixes that another one covers', () => {
  const r = (keys: string[]) => ({ keys }) as unknown as Parameters<typeof prefixesOf>[0][number];
  assert.deepEqual(prefixesOf([r(['/app/x', '/apple']), r(['/app', '/app-x', '/b/c/d'])]), ['/app', '/app-x', '/apple', '/b/c/d']);
  assert.deepEqual(prefixesOf([r(['/app/x/y', '/']), r(['/z'])]), ['/']);
  // "/app/" covers "/app/x" (etcd reads it whole); clean resource keys never end in "/" anyway.
  assert.deepEqual(prefixesOf([r(['/app/', '/app/x'])]), ['/app/']);
  // Byte order, as etcd and the other readers sort: U+E000 (EE 80 80) before U+10000 (F0 90 80 80),
  // which UTF-16 order puts first.
  assert.deepEqual(prefixesOf([r(['/\u{10000}', '/\ue000'])]), ['/\ue000', '/\u{10000}']);
});

test('distinct prefixes are fetched in one call and shared; a failing resource does not stop the others', async () => {
  const { root, out, keys } = setup();
  try {
    const { log } = capturingLogger();
    const resources = loadResources({ confdir: root, prefix: '', log });
    assert.deepEqual(prefixesOf(resources), ['/docker/node', '/docker/service']);
    const file = createFileBackend({ files: [keys] });
    const calls: string[][] = [];
    const counting: Backend = {
      name: 'counting',
      getValues: (p) => {
        calls.push([...p]);
        return file.getValues(p);
      },
      close: () => file.close(),
    };
    const snapshot = await fetchSnapshot(counting, resources);
    assert.deepEqual(calls, [['/docker/node', '/docker/service']]);
    const result = await processResources(resources, snapshot, {
      noop: false,
      syncOnly: false,
      keepStageFile: false,
      commandTimeoutMs: 5000,
      log,
      writeDiff: () => assert.fail('no diff outside -noop'),
    });
    assert.deepEqual(
      result.outcomes.map((o) => [o.resource.dest.slice(out.length + 1), o.status]),
      [['a', 'updated'], ['b', 'updated'], ['c', 'failed'], ['d', 'updated']],
    );
    assert.equal(result.failed.length, 1);
    assert.match(result.failed[0]!.error!, /error calling getv: key does not exist: \/nope/);
    assert.equal(result.failed[0]!.stage, 'render');
    assert.equal(readFileSync(join(out, 'a'), 'utf8'), '10.0.0.1 10.0.0.2 \n');
    assert.equal(readFileSync(join(out, 'd'), 'utf8'), '/service/s1=80 \n');
    // A second pass over the same snapshot finds everything in sync.
    const again = await processResources(resources, snapshot, {
      noop: false,
      syncOnly: false,
      keepStageFile: false,
      commandTimeoutMs: 5000,
      log,
      writeDiff: () => {},
    });
    assert.deepEqual(again.outcomes.map((o) => o.status), ['unchanged', 'unchanged', 'failed', 'unchanged']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
