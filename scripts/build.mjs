// Bundles the CLI into dist/ (ESM, split so etcd's client is a separate chunk loaded only when
// an etcd backend is used) and copies etcd3's .proto files to proto/, where the bundled etcd3
// looks for them (${__dirname}/../proto).
import { build } from 'esbuild';
import { chmod, cp, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

// Build beside dist/ and swap it in, so a CLI running from dist/ meanwhile (tests, a second
// build) never sees a half-written or missing bundle for longer than two renames.
const staging = `dist.build-${process.pid}`;
await rm(join(root, staging), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
  define: {
    __dirname: 'import.meta.dirname',
    __TSCONFD_VERSION__: JSON.stringify(pkg.version),
  },
  banner: {
    // Bundled CommonJS dependencies call require(); ESM has none, so give them one.
    js: "#!/usr/bin/env node\nimport { createRequire as __tsconfdCreateRequire } from 'node:module';\nconst require = __tsconfdCreateRequire(import.meta.url);",
  },
});
await chmod(join(root, staging, 'cli.js'), 0o755);
const old = `dist.old-${process.pid}`;
await rename(join(root, 'dist'), join(root, old)).catch((e) => {
  if (e.code !== 'ENOENT') throw e;
});
await rename(join(root, staging), join(root, 'dist'));
await rm(join(root, old), { recursive: true, force: true });
await cp(join(root, 'node_modules/etcd3/proto'), join(root, 'proto'), { recursive: true, force: true });
