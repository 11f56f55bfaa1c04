// A running `dist/cli.js -watch` for the watch e2e tests: its log, its output file, and a count
// of how many times it wrote that file (its reload_cmd appends a line per write).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, Workspace, cleanEnv, ensureBuilt } from './onetime-harness.js';

/** One resource: every key under <prefix>/svc rendered as "name=value" lines. */
export function serviceWorkspace(opts: { prefix?: string; toml?: string } = {}): Workspace {
  const prefix = opts.prefix ?? '/app';
  return new Workspace({
    'conf.d/app.toml': `[template]
prefix = "${prefix}"
src = "app.tmpl"
dest = "@OUT@/app.conf"
keys = ["/svc"]
reload_cmd = "echo write >> @OUT@/../writes"
${opts.toml ?? ''}`,
    'templates/app.tmpl': '{{range gets "/svc/*"}}{{base .Key}}={{.Value}}\n{{end}}',
  });
}

export class WatchAgent {
  readonly log: string[] = [];
  private exit: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    readonly ws: Workspace,
    args: string[],
  ) {
    ensureBuilt();
    this.child = spawn(process.execPath, [CLI, '-watch', '-confdir', ws.confdir, '-log-level', 'debug', ...args], {
      env: cleanEnv(),
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let partial = '';
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      this.log.push(...lines);
    });
    this.exit = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get dest(): string {
    return join(this.ws.out, 'app.conf');
  }

  content(): string | undefined {
    return existsSync(this.dest) ? readFileSync(this.dest, 'utf8') : undefined;
  }

  writes(): number {
    const file = join(this.ws.root, 'writes');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  logText(): string {
    return this.log.join('\n');
  }

  /** Polls until check() holds; fails with the agent's log tail. */
  async until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<number> {
    const started = Date.now();
    while (!check()) {
      if (this.child.exitCode !== null) throw new Error(`agent exited (${this.child.exitCode}) while waiting for ${what}:\n${this.log.slice(-30).join('\n')}`);
      if (Date.now() - started > timeoutMs) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; file:\n${this.content()}\nlog:\n${this.log.slice(-30).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return Date.now() - started;
  }

  /** SIGTERM; resolves to the exit code (SIGKILL and null after 10 s). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }
}
