// A running dist/cli.js (-watch or -interval) for the e2e tests: its log lines as they arrive, the
// -http URL it announces, the signals the test sends, and a bounded stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT, cleanEnv, ensureBuilt } from './onetime-harness.js';
import { until } from '../../helpers/wait.js';

export class Agent {
  readonly log: string[] = [];
  readonly exit: Promise<number | null>;
  readonly child: ChildProcess;
  /** The -http endpoint's base URL once the agent logged it. */
  url = '';

  constructor(args: string[]) {
    ensureBuilt();
    this.child = spawn(process.execPath, [CLI, '-log-level', 'debug', ...args], { env: cleanEnv(), cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let partial = '';
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        this.log.push(line);
        const m = /Serving \/healthz, \/readyz and \/metrics on (\S+)/.exec(line);
        if (m) this.url = m[1]!;
      }
    });
    this.exit = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  tail(n = 40): string {
    return this.log.slice(-n).join('\n');
  }

  /** Lines logged so far matching `re`. */
  count(re: RegExp): number {
    return this.log.filter((l) => re.test(l)).length;
  }

  /** Polls until check() holds; fails at once if the agent exits, and on timeout with detail() (the log tail). */
  async waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, detail: () => string = () => this.tail()): Promise<number> {
    return until(what, async () => {
      if (this.child.exitCode !== null) throw new Error(`agent exited (${this.child.exitCode}) while waiting for ${what}:\n${this.tail()}`);
      return check();
    }, timeoutMs, detail);
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** SIGTERM and the exit code (SIGKILL and null after 15 s). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }
}
