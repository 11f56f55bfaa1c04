// dist/cli.js started as a long-running child (-watch, -interval) whose stderr a test quotes in
// its failure messages; unlike Agent (agent.ts) it passes the arguments as given (no -log-level debug).
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, cleanEnv } from './onetime-harness.js';

export interface CliChild {
  readonly child: ChildProcess;
  /** Its exit code once it closed (null when a signal ended it). */
  readonly closed: Promise<number | null>;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM unless it already ended, then wait until it closed. */
  stop(): Promise<void>;
}

/** `detached` puts the child in its own process group, so a test can kill its commands with it (process.kill(-pid)). */
export function spawnCli(args: string[], options: { env?: Record<string, string>; detached?: boolean } = {}): CliChild {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: cleanEnv(options.env),
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(options.detached ? { detached: true } : {}),
  });
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += b));
  const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return {
    child,
    closed,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
    },
  };
}
