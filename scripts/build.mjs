// Bundles the CLI into dist/ (ESM, split so etcd's client is a separate chunk loaded only when
// an etcd backend is used). etcd3's .proto files are parsed here, at build time, instead of by
// @grpc/proto-loader each time etcd3 loads (scripts/etcd3-proto-loader.cjs). They are still
// copied to proto/, where an unbundled etcd3 looks for them (${__dirname}/../proto).
import { build } from 'esbuild';
import { chmod, cp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

/** etcd3's rpc.proto as proto-loader 0.7 reads it: protobufjs JSON and every service method. */
function etcd3Proto() {
  // The protobufjs and lodash.camelcase that etcd3's own proto-loader uses.
  const loaderRequire = createRequire(createRequire(join(root, 'node_modules/etcd3/package.json')).resolve('@grpc/proto-loader'));
  const protobuf = loaderRequire('protobufjs');
  const camelCase = loaderRequire('lodash.camelcase');
  const protoRoot = new protobuf.Root().loadSync(join(root, 'node_modules/etcd3/proto/rpc.proto'), { keepCase: true });
  protoRoot.resolveAll();
  const services = [];
  const visit = (ns) => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Service) {
        const methods = obj.methodsArray.map((m) => [
          m.name,
          m.resolvedRequestType.fullName.slice(1),
          m.resolvedResponseType.fullName.slice(1),
          !!m.requestStream,
          !!m.responseStream,
          camelCase(m.name),
        ]);
        services.push([obj.fullName.slice(1), methods]);
      } else if (obj instanceof protobuf.Namespace) {
        visit(obj);
      }
    }
  };
  visit(protoRoot);
  return { rootJson: protoRoot.toJSON(), services };
}

/** Gives the bundled etcd3 (only it) the build-time proto loader instead of @grpc/proto-loader. */
const etcd3ProtoPlugin = {
  name: 'etcd3-proto',
  setup(b) {
    b.onResolve({ filter: /^@grpc\/proto-loader$/ }, (args) =>
      /[\\/]node_modules[\\/]etcd3[\\/]lib[\\/]/.test(args.importer) ? { path: join(root, 'scripts/etcd3-proto-loader.cjs') } : undefined,
    );
    b.onResolve({ filter: /^tsconfd:etcd3-proto$/ }, () => ({ path: 'etcd3-proto', namespace: 'tsconfd' }));
    b.onLoad({ filter: /.*/, namespace: 'tsconfd' }, () => ({ contents: JSON.stringify(etcd3Proto()), loader: 'json' }));
  },
};

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
  plugins: [etcd3ProtoPlugin],
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
