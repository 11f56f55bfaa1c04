// A/B micro-benchmark of the key hot paths moved into src/keys/ (issue 11): store lookups, gets/getvs,
// ls/lsdir, the per-resource store build (SnapshotStores), watch-mode stores following changes
// (LiveStores.apply before the immutable views; MirrorViews.apply + taking each view now) and the prefix cover, over the perf data set's "large" size (1000 services x 10 nodes = 12k keys).
// A is an older tree's src/ (say, main before the change), B this tree's. Both are bundled by esbuild
// into one file, as the product is (dist/tsconfd.cjs), so a call across modules costs what it costs
// there; rounds alternate A and B in one process, so load on the machine hits both alike.
//   git archive main src | tar -x -C /tmp/base && node bench/keys-ab.mjs /tmp/base
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.argv[2];
if (!base) throw new Error('usage: node bench/keys-ab.mjs BASE_DIR (a tree holding the old src/)');
const here = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'keys-ab-'));
const entry = join(dir, 'entry.ts');
writeFileSync(
  entry,
  `import * as aStore from ${JSON.stringify(join(base, 'src/template/confd/store.ts'))};
import { minimalCover as aCover } from ${JSON.stringify(join(base, 'src/keys/index.ts'))};
import * as bStore from ${JSON.stringify(join(here, 'src/template/confd/store.ts'))};
import * as bViews from ${JSON.stringify(join(here, 'src/runtime/views.ts'))};
import { minimalCover as bCover } from ${JSON.stringify(join(here, 'src/keys/index.ts'))};
import { run } from ${JSON.stringify(join(here, 'bench/keys-ab-cases.ts'))};
// A: a tree whose template/confd/store.ts still built stores (SnapshotStores, LiveStores); B: runtime/views.ts.
const aLive = (read) => Object.assign(new aStore.LiveStores(read), { follow(keys, values) { this.apply(keys, values); } });
const bLive = (read) => {
  const views = new bViews.MirrorViews(read);
  return {
    follow: (keys, values) => views.apply({ keys, values }),
    storeFor: (prefix, keys) => {
      const held = views.hold([{ prefix, keys }]);
      const store = held.storeFor(prefix, keys);
      held.release();
      return store;
    },
  };
};
run([
  { name: 'A', store: aStore, snapshotStores: (kvs) => new aStore.SnapshotStores(kvs), followingStores: aLive, cover: aCover },
  { name: 'B', store: bStore, snapshotStores: (kvs) => new bViews.SnapshotStores(kvs), followingStores: bLive, cover: bCover },
]);
`,
);
const out = join(dir, 'bench.mjs');
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'error', nodePaths: [join(here, 'node_modules')] });
const r = spawnSync(process.execPath, [out], { stdio: 'inherit', env: process.env });
process.exit(r.status ?? 1);
