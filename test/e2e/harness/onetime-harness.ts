// Runs the built CLI (dist/cli.js) against a throwaway confdir, for the onetime e2e tests.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileLines } from '../../helpers/files.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(ROOT, 'dist/cli.js');
/** The seed's output as the real confd wrote it (conformance case 01-seed-nginx). */
export const SEED_EXPECTED = join(ROOT, 'test/e2e/harness/fixtures/seed-myapp.conf');

/** Builds dist/ once if a test run starts without it (npm test builds first). */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment without CONFD_* settings, so the host's variables cannot change a test. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CONFD_') && !k.startsWith('TSCONFD_')) env[k] = v;
  return { ...env, ...extra };
}

export function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(opts.env), cwd: opts.cwd ?? ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A confdir with conf.d/ and templates/ filled from a map of relative paths, plus an output dir. */
export class Workspace {
  readonly root = mkdtempSync(join(tmpdir(), 'tsconfd-e2e-'));
  readonly confdir = join(this.root, 'confdir');
  readonly out = join(this.root, 'out');

  constructor(files: Record<string, string> = {}) {
    mkdirSync(join(this.confdir, 'conf.d'), { recursive: true });
    mkdirSync(join(this.confdir, 'templates'), { recursive: true });
    mkdirSync(this.out);
    this.write(files);
  }

  /** Writes files relative to the confdir; "@OUT@" in contents becomes the output directory. */
  write(files: Record<string, string>): void {
    for (const [rel, text] of Object.entries(files)) {
      const path = join(this.confdir, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text.replaceAll('@OUT@', this.out));
    }
  }

  outFiles(): string[] {
    return readdirSync(this.out).sort();
  }

  /** The non-empty lines of a file under root, such as a reload_cmd's `echo >> @OUT@/../reloads`; none before it exists. */
  lines(rel: string): string[] {
    return fileLines(join(this.root, rel));
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
