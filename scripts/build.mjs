// Bundles the CLI into dist/: dist/tsconfd.cjs holds our code and what every run needs; the backends'
// clients (etcd's in dist/etcd3.cjs, redis' ioredis in dist/ioredis.cjs, ZooKeeper's
// node-zookeeper-client in dist/zookeeper.cjs), the YAML parser, Handlebars, prom-client and chokidar
// are each in a bundle of their own (dist/<name>.cjs, CommonJS, every dependency inside: LAZY_BUNDLES),
// and dist/cli.js is a small loader that compiles them with V8 code caches (*.cjs.cache), made here by
// running the CLI on a small example. Node 20 has no compile cache for ES modules
// (module.enableCompileCache is Node 22), and compiling ~2.7 MB of JavaScript was a good part of every
// run's start-up. A bundle apart is read and compiled only when a run first needs it; modules inside
// tsconfd.cjs that only some runs need (the daemon) are evaluated only when used: esbuild wraps what is
// reached through import() in lazy initialisers.
// etcd3's .proto files are parsed here, at build time, instead of by @grpc/proto-loader each
// time etcd3 loads (scripts/etcd3-proto-loader.cjs), so the bundle needs no .proto file at run time.
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Packages bundled apart from tsconfd.cjs (package name: bundle name), each into dist/<name>.cjs with
 * its own code cache, which the loader compiles only when our code first requires it: the backends'
 * clients (etcd's for -watch and -interval, ioredis, node-zookeeper-client as zookeeper.cjs), the
 * YAML parser (file backend), Handlebars, and the daemon's prom-client and chokidar. A -onetime run
 * against etcd reads and deserialises 0.57 MB of bundle instead of 1.31 MB (bench/onetime-profile.md).
 * dist/bundles.json lists them for scripts/build-bin.mjs.
 */
const LAZY_BUNDLES = {
  etcd3: 'etcd3',
  ioredis: 'ioredis',
  'node-zookeeper-client': 'zookeeper',
  yaml: 'yaml',
  handlebars: 'handlebars',
  'prom-client': 'prom-client',
  chokidar: 'chokidar',
};
const LAZY_FILES = Object.values(LAZY_BUNDLES).map((name) => `${name}.cjs`);
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

/**
 * grpc-js asks net.isIPv6 about each member's host when it connects; the first call compiles
 * Node's IPv6 regular expression, ~4 ms of every etcd run (bench/onetime-profile.md). A string
 * without ':' is never an IPv6 address, so those calls answer false without the expression.
 */
const grpcCheapIsIPv6Plugin = {
  name: 'grpc-cheap-isipv6',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/][^\\/]+\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const call = '(0, net_1.isIPv6)(';
      if (!text.includes(call)) return undefined;
      const helper = '\nfunction tsconfdIsIPv6(host) { return `${host}`.includes(":") && (0, net_1.isIPv6)(host); }\n';
      return { contents: text.split(call).join('tsconfdIsIPv6(') + helper, loader: 'js' };
    });
  },
};

// dist/cli.js. Compiles each bundle as Node's CommonJS loader would (same wrapper), but with its
// code cache when there is one; V8 checks that the cache belongs to this source and this V8
// (its version and flags) and otherwise compiles as usual. TSCONFD_CODE_CACHE_TRAINING is for
// trainCodeCache below: the run then writes what V8 compiled, cache included, at exit ("1": every
// bundle, else a comma list of bundle names). The loader is CommonJS (dist/package.json says so):
// an ES module entry starts Node's ESM loader, whose facade for node:fs alone loads node:stream,
// ~4.5 ms of CPU per run (bench/onetime-profile.md).
const LOADER = `#!/usr/bin/env node
// Generated by scripts/build.mjs: runs tsconfd.cjs (and etcd3.cjs and the other bundles apart when
// it asks for them) with their V8 code caches (*.cjs.cache).
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const vm = require('node:vm');

const dir = __dirname;
const compiled = [];
function run(name, require) {
  const file = dir + '/' + name;
  let cachedData;
  try {
    cachedData = readFileSync(file + '.cache');
  } catch {
    // No cache: compile as usual.
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  compiled.push([name, file, script]);
  const mod = new Module(file);
  mod.filename = file;
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, dir);
  return mod.exports;
}
const training = process.env.TSCONFD_CODE_CACHE_TRAINING;
if (training) {
  const names = training === '1' ? undefined : training.split(',');
  const write = () => {
    for (const [name, file, script] of compiled) if (!names || names.includes(name)) writeFileSync(file + '.cache', script.createCachedData());
  };
  process.on('exit', write);
  // A run stopped by SIGTERM ends by that signal (runtime/signals.ts: exitBySignal), with no 'exit' event.
  const kill = process.kill.bind(process);
  process.kill = (pid, signal) => {
    if (pid === process.pid) write();
    return kill(pid, signal);
  };
}
const base = Module.createRequire(dir + '/tsconfd.cjs');
// The bundles tsconfd.cjs loads when it first needs them (scripts/build.mjs: LAZY_BUNDLES).
const lazy = new Map(${JSON.stringify(LAZY_FILES.map((file) => './' + file))}.map((id) => [id, undefined]));
const bundleRequire = Object.assign((id) => {
  if (!lazy.has(id)) return base(id);
  let exports = lazy.get(id);
  if (exports === undefined) lazy.set(id, (exports = run(id.slice(2), base)));
  return exports;
}, base);
run('tsconfd.cjs', bundleRequire);
`;

/**
 * Makes a bundle all ASCII. esbuild escapes non-ASCII characters in strings but keeps them in
 * comments and regular expressions, and one of them makes Node decode the whole 1.5 MB file the
 * slow way into a two-byte string, on every start. A \\u escape means the same character in a
 * regular expression (with or without the u flag, surrogate pairs included), an identifier or a
 * template, and a comment does not care.
 */
async function escapeNonAscii(file) {
  const text = await readFile(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(text)) return;
  // An identity escape ("\\µ": an odd run of backslashes before it) already meant the character itself.
  const escaped = text.replace(/(\\*)([^\x00-\x7f])/g, (_, slashes, c) => `${slashes.length % 2 ? slashes.slice(1) : slashes}\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  await writeFile(file, escaped);
}

/** Runs the CLI until its stderr matches `ready`, then SIGTERM; writes the cache of `bundles` (bounded: 30 s). */
async function trainUntilStopped(dist, args, bundles, ready) {
  const child = spawn(process.execPath, [join(dist, 'cli.js'), ...args], {
    env: { ...process.env, TSCONFD_CODE_CACHE_TRAINING: bundles },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (ready.test(stderr)) child.kill('SIGTERM');
  });
  await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(kill);
}

/**
 * Makes dist/*.cjs.cache: runs the CLI as a user would, -onetime over the file backend and
 * against an etcd that is not there, each run adding what it compiled to the cache, and -watch
 * against that etcd for etcd's client. Without a cache the CLI works the same, only starts slower.
 */
async function trainCodeCache(dist) {
  const work = await mkdtemp(join(tmpdir(), 'tsconfd-code-cache-'));
  try {
    const confdir = join(work, 'confdir');
    await mkdir(join(confdir, 'conf.d'), { recursive: true });
    await mkdir(join(confdir, 'templates'), { recursive: true });
    await mkdir(join(work, 'out'));
    const keys = { svc: {} };
    for (let s = 0; s < 20; s++) {
      const nodes = {};
      for (let n = 0; n < 5; n++) nodes[`n${n}`] = `10.0.${s}.${n}:8080`;
      keys.svc[`svc-${s}`] = { nodes, port: String(8000 + s), domain: `svc-${s}.example.com` };
    }
    await writeFile(join(work, 'keys.json'), JSON.stringify(keys));
    const template = [
      '{{- range $svc := lsdir "/svc"}}{{$port := getv (printf "/svc/%s/port" $svc)}}',
      'upstream {{$svc}} {',
      '{{- range gets (printf "/svc/%s/nodes/*" $svc)}}',
      '    server {{.Value}} max_fails=3; # {{base .Key}} {{if exists "/svc"}}{{toUpper "x"}}{{end}}',
      '{{- end}}',
      '}',
      'server { listen {{$port}}; server_name {{getv (printf "/svc/%s/domain" $svc) "none"}}; }',
      '{{- end}}',
      '# {{len (getvs "/svc/*/nodes/*")}} {{join (split "a,b" ",") "-"}} {{ls "/svc" | len}}',
      '',
    ].join('\n');
    for (const name of ['a', 'b']) {
      await writeFile(join(confdir, 'templates', `${name}.tmpl`), template);
      await writeFile(
        join(confdir, 'conf.d', `${name}.toml`),
        `[template]\nsrc = "${name}.tmpl"\ndest = "${join(work, 'out', name + '.conf')}"\nmode = "0644"\nkeys = ["/svc"]\n`,
      );
    }
    // Port 1: nothing listens there, and no test's server can be given it (free ports come from the
    // ephemeral range). A port found free and closed again could be taken meanwhile by a server
    // started elsewhere on this machine, and a -watch run against it would then never fail.
    const node = 'http://127.0.0.1:1';
    const runs = [
      ['-onetime', '-backend', 'file', '-file', join(work, 'keys.json'), '-confdir', confdir],
      ['-onetime', '-backend', 'file', '-file', join(work, 'keys.json'), '-confdir', confdir],
      ['-onetime', '-backend', 'etcdv3', '-node', node, '-confdir', confdir],
      // Loads ioredis (a refused connection fails at once). ZooKeeper's client retries until its
      // 5 s connect timeout, too long for a build: its bundle (~230 KB) compiles without a cache.
      ['-onetime', '-backend', 'redis', '-node', '127.0.0.1:1', '-confdir', confdir],
    ];
    for (const args of runs) {
      spawnSync(process.execPath, [join(dist, 'cli.js'), ...args], {
        env: { ...process.env, TSCONFD_CODE_CACHE_TRAINING: 'tsconfd.cjs,yaml.cjs,ioredis.cjs' },
        stdio: 'ignore',
        timeout: 60_000,
      });
    }
    // etcd's client loads only in -watch and -interval, which run until stopped: once the first read has failed
    // (etcd3 loaded and used), SIGTERM ends the run gracefully and the caches are written at exit. Only the caches
    // of etcd3.cjs and the daemon's bundles are kept from this run, so the daemon's code does not weigh on -onetime's start.
    // A second try if the first wrote nothing (a run slowed past the 30 s bound on a busy machine).
    for (let attempt = 0; attempt < 2; attempt++) {
      await trainUntilStopped(dist, ['-watch', '-backend', 'etcdv3', '-node', node, '-confdir', confdir], 'etcd3.cjs,prom-client.cjs,chokidar.cjs', /unreachable|ERROR/);
      if (await stat(join(dist, 'etcd3.cjs.cache')).then(() => true, () => false)) break;
    }
    for (const name of ['tsconfd.cjs', 'etcd3.cjs', 'ioredis.cjs']) {
      const size = await stat(join(dist, `${name}.cache`)).then((st) => st.size).catch(() => 0);
      if (size === 0) console.warn(`build: no V8 code cache was made for ${name}; tsconfd works without it, but starts slower`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// Build beside dist/ and swap it in, so a CLI running from dist/ meanwhile (tests, a second
// build) never sees a half-written or missing bundle for longer than two renames.
const staging = `dist.build-${process.pid}`;
await rm(join(root, staging), { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  outdir: staging,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  define: {
    // ESM-only dependencies locate themselves with import.meta.url.
    'import.meta.url': '__tsconfdImportMetaUrl',
    'import.meta.dirname': '__dirname',
    __TSCONFD_VERSION__: JSON.stringify(pkg.version),
  },
  banner: { js: "var __tsconfdImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};
/** Our code's `import ... from 'etcd3'` (and the others) becomes require('./etcd3.cjs') (LAZY_BUNDLES' file), which the loader answers. */
const lazyBundlesPlugin = {
  name: 'lazy-bundles',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(LAZY_BUNDLES).map((n) => n.replace(/[-]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (/[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
      // esbuild keeps import() of an external as a real ES import, which the loader does not answer: a
      // dynamic import goes through a small bundled module that require()s the bundle instead.
      if (args.kind === 'dynamic-import') return { path: args.path, namespace: 'lazy-bundle' };
      return { path: `./${LAZY_BUNDLES[args.path]}.cjs`, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-bundle' }, (args) => ({ contents: `module.exports = require('./${LAZY_BUNDLES[args.path]}.cjs');`, loader: 'js' }));
    b.onResolve({ filter: /^\.\/.*\.cjs$/, namespace: 'lazy-bundle' }, (args) => ({ path: args.path, external: true }));
  },
};
/**
 * Node's child_process (with net, dgram and their bindings) is loaded when first used, not when our
 * modules load: only check_cmd/reload_cmd, -exec and the lookupIP* functions need it, and loading it
 * was ~2.5 ms of every run's start (bench/onetime-profile.md). Our code's import of it gets an object
 * whose properties (every name the module has, listed here at build time) load it on first access.
 */
const lazyBuiltinsPlugin = {
  name: 'lazy-builtins',
  setup(b) {
    const lazy = ['child_process'];
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => {
      if (args.namespace === 'lazy-builtin' || /[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      if (!lazy.includes(args.path)) return undefined;
      const names = Object.keys(createRequire(import.meta.url)(`node:${args.path}`));
      const getters = names.map((n) => `  ${JSON.stringify(n)}: { enumerable: true, get: () => load()[${JSON.stringify(n)}] },`).join('\n');
      return {
        contents: `let real;\nconst load = () => (real ??= require('node:${args.path}'));\nmodule.exports = Object.defineProperties({}, {\n${getters}\n});\n`,
        loader: 'js',
      };
    });
    b.onResolve({ filter: /^node:/, namespace: 'lazy-builtin' }, (args) => ({ path: args.path, external: true }));
  },
};
await build({
  ...common,
  entryPoints: { tsconfd: 'src/cli.ts' },
  plugins: [lazyBundlesPlugin, lazyBuiltinsPlugin],
});
/**
 * ioredis' `debug` tries require('supports-color') (not installed) inside a try: harmless from
 * dist/, but the single executable's require prints a warning for any module not built in.
 */
const noSupportsColorPlugin = {
  name: 'no-supports-color',
  setup(b) {
    b.onResolve({ filter: /^supports-color$/ }, () => ({ path: 'supports-color', namespace: 'tsconfd-empty' }));
    b.onLoad({ filter: /.*/, namespace: 'tsconfd-empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};
const BUNDLE_PLUGINS = {
  etcd3: [etcd3ProtoPlugin, grpcCheapIsIPv6Plugin],
  ioredis: [noSupportsColorPlugin],
  'node-zookeeper-client': [noSupportsColorPlugin],
};
for (const [pkgName, name] of Object.entries(LAZY_BUNDLES)) {
  await build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(pkgName)});`, resolveDir: root, sourcefile: `${pkgName}-entry.cjs`, loader: 'js' },
    outdir: undefined,
    outfile: join(staging, `${name}.cjs`),
    plugins: BUNDLE_PLUGINS[pkgName] ?? [],
  });
}
await writeFile(join(root, staging, 'bundles.json'), JSON.stringify(LAZY_FILES) + '\n');
await writeFile(join(root, staging, 'cli.js'), LOADER);
await chmod(join(root, staging, 'cli.js'), 0o755);
await writeFile(join(root, staging, 'package.json'), '{ "type": "commonjs" }\n');
for (const name of ['tsconfd.cjs', ...LAZY_FILES]) await escapeNonAscii(join(root, staging, name));
// A bundle apart reached by a real import() would bypass the loader (and fail at run time): say so now.
const dynamicBundleImport = /\bimport\(\s*["']\.\/[^"']+\.cjs["']\s*\)/.exec(await readFile(join(root, staging, 'tsconfd.cjs'), 'utf8'));
if (dynamicBundleImport) throw new Error(`build: tsconfd.cjs imports a bundle with import(): ${dynamicBundleImport[0]} (lazyBundlesPlugin should have turned it into require)`);
await trainCodeCache(join(root, staging));
const old = `dist.old-${process.pid}`;
await rename(join(root, 'dist'), join(root, old)).catch((e) => {
  if (e.code !== 'ENOENT') throw e;
});
await rename(join(root, staging), join(root, 'dist'));
await rm(join(root, old), { recursive: true, force: true });
