// Bundles the CLI into dist/ (ESM, split so etcd's client is a separate chunk loaded only when
// an etcd backend is used) and copies etcd3's .proto files to proto/, where the bundled etcd3
// looks for them (${__dirname}/../proto).
import { build } from 'esbuild';
import { chmod, cp, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

await rm(join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
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
await chmod(join(root, 'dist/cli.js'), 0o755);
await rm(join(root, 'proto'), { recursive: true, force: true });
await cp(join(root, 'node_modules/etcd3/proto'), join(root, 'proto'), { recursive: true });
