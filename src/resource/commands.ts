// check_cmd and reload_cmd: run through /bin/sh -c as confd does, with a timeout that kills the
// command's whole process group (a shell's children too), and the combined output kept for the log.
import { spawn } from 'node:child_process';
import type { ShellCommand } from './shell-command.js';
import { hostTimers, type Timer } from '../time/timers.js';

export { ShellCommand } from './shell-command.js';

/** How a command ended: exit status, killing signal, killed at its timeout or at shutdown, or not started. */
export type CommandEnd = number | NodeJS.Signals | 'timeout' | 'aborted' | 'error';

export class CommandError extends Error {
  constructor(
    message: string,
    readonly output: string,
    readonly end: CommandEnd = 'error',
  ) {
    super(message);
  }
}

export interface RunOptions {
  timeoutMs: number;
  /** Grace between SIGTERM and SIGKILL of the process group once the timeout fires. */
  killGraceMs?: number;
  /** Aborting (shutdown) kills the process group at once and rejects with end 'aborted'. */
  signal?: AbortSignal;
}

const SIGNAL_TEXT: Record<string, string> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGQUIT: 'quit',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGPIPE: 'broken pipe',
};

/**
 * Runs `cmd` with /bin/sh -c, its substituted values in the child's environment (shell-command.ts).
 * Resolves with the combined output; rejects with CommandError ("exit status 3").
 */
export function runCommand(cmd: ShellCommand, opts: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = Object.keys(cmd.env).length === 0 ? undefined : { ...process.env, ...cmd.env };
    const child = spawn('/bin/sh', ['-c', cmd.script], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    let timedOut = false;
    let killTimer: Timer | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        /* the group is already gone */
      }
    };
    const timer = hostTimers.after(opts.timeoutMs, () => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = hostTimers.after(opts.killGraceMs ?? 2000, () => killGroup('SIGKILL'));
    });
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      killGroup('SIGKILL');
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      timer.cancel();
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new CommandError(e.message, ''));
    });
    let finished = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    const finish = () => {
      if (finished) return;
      finished = true;
      child.stdout.destroy();
      child.stderr.destroy();
      opts.signal?.removeEventListener('abort', onAbort);
      const output = Buffer.concat(chunks).toString('utf8');
      if (aborted) {
        reject(new CommandError('command killed: shutting down', output, 'aborted'));
      } else if (timedOut) {
        killGroup('SIGKILL');
        reject(new CommandError(`command timed out after ${opts.timeoutMs / 1000}s and was killed`, output, 'timeout'));
      } else if (exitSignal) {
        reject(new CommandError(`signal: ${SIGNAL_TEXT[exitSignal] ?? exitSignal}`, output, exitSignal));
      } else if (exitCode !== 0) {
        reject(new CommandError(`exit status ${exitCode}`, output, exitCode ?? 'error'));
      } else {
        resolve(output);
      }
    };
    child.on('exit', (code, signal) => {
      timer.cancel();
      killTimer?.cancel();
      exitCode = code;
      exitSignal = signal;
      // Background children of the shell may hold the pipes open; do not wait for them long.
      hostTimers.after(200, finish).unref();
    });
    child.on('close', () => {
      if (exitCode !== null || exitSignal !== null) finish();
    });
  });
}
