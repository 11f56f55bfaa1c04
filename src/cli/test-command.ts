// `tsconfd test DIR [-confdir D] [-prefix P] [-update]`: template tests for CI, with no backend.
// Layout of DIR — one sub-directory per test:
//   DIR/<test>/keys.yaml (or keys.yml, keys.json)   the keys, flattened as the file backend does
//   DIR/<test>/expected/<dest path>                 each resource's expected output, at its dest
//                                                   path below expected/ (expected/etc/nginx/nginx.conf)
// Every resource of the confdir renders in memory against the test's keys (fan-out resources
// once per key); nothing is written outside expected/, no command runs. A rendered file that
// differs from its expected file, has none, or an expected file nothing renders, is a failure
// shown as a unified diff. Exit 1 when any test fails. -update rewrites expected/ instead.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { decodeBytes, encodeString } from '../bytes.js';
import { dirname, join, relative } from 'node:path';
import { createFileBackend } from '../backends/file/index.js';
import { Logger } from '../log.js';
import { SnapshotStores } from '../runtime/views.js';
import { unifiedDiff } from '../resource/diff.js';
import { fanoutFiles } from '../resource/fanout.js';
import { loadResourcesOrFatal } from '../resource/load.js';
import type { TemplateResource } from '../resource/model.js';
import { compileTemplate, readTemplate } from '../resource/render.js';
import { fetchSnapshot } from '../runtime/pass.js';

const KEY_FILES = ['keys.yaml', 'keys.yml', 'keys.json'];
const USAGE = 'usage: tsconfd test DIR [-confdir DIR] [-prefix PREFIX] [-update]';

interface TestArgs {
  dir: string;
  confdir: string;
  prefix: string;
  update: boolean;
}

export function parseTestArgs(argv: readonly string[]): TestArgs {
  const args: TestArgs = { dir: '', confdir: '/etc/confd', prefix: '', update: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      if (args.dir !== '') throw new Error(`unexpected argument: ${a}`);
      args.dir = a;
      continue;
    }
    const [, name, inline] = m;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new Error(`flag needs an argument: -${name}`);
      return v;
    };
    if (name === 'confdir') args.confdir = value();
    else if (name === 'prefix') args.prefix = value();
    else if (name === 'update') args.update = inline === undefined ? true : inline === 'true';
    else throw new Error(`flag provided but not defined: -${name}`);
  }
  if (args.dir === '') throw new Error('missing the tests directory');
  return args;
}

/** Renders every resource against the keys file: dest → content, or dest → Error. */
export async function renderFixture(resources: readonly TemplateResource[], keysFile: string): Promise<Map<string, string | Error>> {
  const backend = createFileBackend({ files: [keysFile] });
  const stores = new SnapshotStores((await fetchSnapshot(backend, resources)).kvs);
  const out = new Map<string, string | Error>();
  for (const r of resources) {
    const store = stores.storeFor(r.prefix, r.keys);
    try {
      const text = await readTemplate(r);
      if (r.ext?.range === undefined) {
        out.set(r.dest, (await compileTemplate(r, text, store)).execute());
        continue;
      }
      for (const file of fanoutFiles(r, store)) {
        try {
          if ('error' in file) throw file.error;
          out.set(file.dest, (await compileTemplate(file.resource, text, store)).execute());
        } catch (e) {
          out.set(`${r.dest} (key ${file.kv.Key})`, e as Error);
        }
      }
    } catch (e) {
      out.set(r.dest, e as Error);
    }
  }
  return out;
}

function listFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(root);
  return out;
}

export async function runTestCommand(argv: readonly string[], write: (t: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  let args: TestArgs;
  try {
    args = parseTestArgs(argv);
  } catch (e) {
    // A bad command line: exit 2, as tsconfd's (and Go's flag package's) usage errors.
    process.stderr.write(`tsconfd test: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const log = new Logger({ level: 'warning' });
  const resources = loadResourcesOrFatal({ confdir: args.confdir, prefix: args.prefix, log });
  if (!resources) return 1;
  let tests: string[];
  try {
    tests = readdirSync(args.dir)
      .filter((n) => statSync(join(args.dir, n)).isDirectory())
      .sort();
  } catch (e) {
    process.stderr.write(`tsconfd test: ${(e as Error).message}\n`);
    return 1;
  }
  let failed = 0;
  let ran = 0;
  for (const name of tests) {
    const testDir = join(args.dir, name);
    const keysFile = KEY_FILES.map((f) => join(testDir, f)).find((f) => existsSync(f));
    if (!keysFile) continue;
    ran++;
    const expectedRoot = join(testDir, 'expected');
    let rendered: Map<string, string | Error>;
    try {
      rendered = await renderFixture(resources, keysFile);
    } catch (e) {
      write(`FAIL ${name}: ${(e as Error).message}\n`);
      failed++;
      continue;
    }
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const [dest, result] of rendered) {
      if (result instanceof Error) {
        problems.push(`${dest}: ${result.message}\n`);
        continue;
      }
      const file = join(expectedRoot, dest);
      seen.add(file);
      if (args.update) {
        if (!existsSync(file) || decodeBytes(readFileSync(file)) !== result) {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, encodeString(result));
          write(`updated ${relative(args.dir, file)}\n`);
        }
        continue;
      }
      const expected = existsSync(file) ? decodeBytes(readFileSync(file)) : undefined;
      if (expected === undefined) problems.push(`${dest}: no expected file ${file} (run with -update to create it)\n` + unifiedDiff('', result, '/dev/null', dest));
      else if (expected !== result) problems.push(unifiedDiff(expected, result, file, `${dest} (rendered)`));
    }
    for (const file of listFiles(expectedRoot)) {
      if (seen.has(file)) continue;
      if (args.update) {
        rmSync(file);
        write(`removed ${relative(args.dir, file)} (nothing renders it)\n`);
      } else problems.push(`${file}: expected, but no resource renders /${relative(expectedRoot, file)}\n`);
    }
    if (problems.length === 0) write(`ok   ${name}\n`);
    else {
      failed++;
      write(`FAIL ${name}\n${problems.join('')}`);
    }
  }
  write(`${ran - failed} passed, ${failed} failed\n`);
  if (ran === 0) {
    process.stderr.write(`tsconfd test: no tests in ${args.dir} (each test is a directory with ${KEY_FILES.join(' or ')})\n`);
    return 1;
  }
  return failed > 0 ? 1 : 0;
}
