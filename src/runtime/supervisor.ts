// -exec: tsconfd supervises the program it configures (consul-template's and remco's exec mode), so one container
// runs tsconfd and nginx without a shell wrapper, a second container or a shared PID namespace.
//   - The child starts once every resource has rendered (daemon.ts decides when; the never-blank guard applies, so
//     a resource held back by min_keys holds back the start too). It runs as `/bin/sh -c "exec CMD"` (the shell
//     gives the operator's quoting and then becomes the program), in a session and process group of its own, with
//     tsconfd's stdout/stderr and environment (less NOTIFY_SOCKET: only tsconfd talks to systemd; less
//     CONFD_PASSWORD, the backend's credential).
//   - reload(): the reload signal (default SIGHUP) to the child alone (not its group: nginx's master signals its
//     workers), after a random delay up to -exec-splay; several asks during the delay give one signal.
//   - forward(): SIGUSR1/SIGUSR2 that tsconfd receives go to the child as they are.
//   - stop(): the kill signal (default SIGTERM) to the child, then SIGKILL to its whole group after -exec-kill-timeout;
//     what is left of the group once the child is gone gets SIGKILL too, so nothing outlives tsconfd.
//   - When the child exits on its own: by default onExit(code) (the daemon shuts down and exits with the child's
//     code, 128+n for a signal, as consul-template); with -exec-restart it is started again after a backoff
//     (1 s, doubling to 30 s; back to 1 s once a run lasted 30 s), as remco.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Logger } from '../log.js';
import { Backoff, defaultScheduler, type Timer, type TimerSource } from './scheduler.js';

export interface ExecOptions {
  command: string;
  /** null: changes never signal the child. */
  reloadSignal: NodeJS.Signals | null;
  killSignal: NodeJS.Signals;
  killTimeoutMs: number;
  splayMs: number;
  restart: boolean;
  log: Logger;
  /** The child exited on its own and is not restarted: its exit code (128+n for a signal). */
  onExit: (code: number) => void;
  /** Told each start and exit (metrics). */
  onChange?: () => void;
  /** Tests: the backoff's first and last delays. */
  backoffMs?: { first: number; max: number };
  /** The daemon's scheduler. */
  timers?: TimerSource;
}

export interface ExecStatus {
  /** The child was started at least once. */
  started: boolean;
  running: boolean;
  pid: number | undefined;
  restarts: number;
  /** The last exit's code (128+n for a signal); null before the first exit. */
  lastExitCode: number | null;
  reloads: number;
}

/** "HUP", "SIGHUP", "sighup" → "SIGHUP"; "" or "none" → null; throws for a name Node does not know. */
export function parseSignal(text: string, flag: string): NodeJS.Signals | null {
  const t = text.trim().toUpperCase();
  if (t === '' || t === 'NONE') return null;
  const name = (t.startsWith('SIG') ? t : `SIG${t}`) as NodeJS.Signals;
  if (!(name in osConstants.signals)) throw new Error(`${flag}: unknown signal "${text}"`);
  return name;
}

/** The code a shell would report for a child's end. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
}

export class Supervisor {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private restartTimer: Timer | undefined;
  private reloadTimer: Timer | undefined;
  private readonly restarts: Backoff;
  private readonly timers: TimerSource;
  private startedAt = 0;
  private readonly state: ExecStatus = { started: false, running: false, pid: undefined, restarts: 0, lastExitCode: null, reloads: 0 };

  constructor(private readonly opts: ExecOptions) {
    this.restarts = new Backoff({ minMs: opts.backoffMs?.first ?? 1000, maxMs: opts.backoffMs?.max ?? 30_000 });
    this.timers = opts.timers ?? defaultScheduler;
  }

  status(): ExecStatus {
    return { ...this.state };
  }

  /** Starts the child (once; later calls do nothing). */
  start(): void {
    if (this.state.started || this.stopping) return;
    this.spawnChild();
  }

  private spawnChild(): void {
    const { log } = this.opts;
    const env = { ...process.env };
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    // tsconfd's credential for the backend: the program it supervises has no use for it.
    delete env.CONFD_PASSWORD;
    const child = spawn('/bin/sh', ['-c', `exec ${this.opts.command}`], { stdio: ['ignore', 'inherit', 'inherit'], detached: true, env });
    this.child = child;
    this.startedAt = Date.now();
    this.state.started = true;
    this.state.running = true;
    this.state.pid = child.pid;
    log.info(`exec: started the child (pid ${child.pid})`);
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (e) => {
        log.error(`exec: cannot start the child: ${e.message}`);
        if (child.pid === undefined) this.onChildExit(child, 127, null, resolve);
      });
      child.once('exit', (code, signal) => this.onChildExit(child, code, signal, resolve));
    });
    this.opts.onChange?.();
  }

  private onChildExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, done: () => void): void {
    if (this.child !== child) return done();
    const exitCode = exitCodeOf(code, signal);
    this.child = undefined;
    this.state.running = false;
    this.state.pid = undefined;
    this.state.lastExitCode = exitCode;
    // Whatever the child left in its group (a worker it forked) does not outlive it.
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    this.opts.onChange?.();
    done();
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    if (this.stopping) {
      this.opts.log.info(`exec: the child ${how}`);
      return;
    }
    if (!this.opts.restart) {
      this.opts.log.error(`exec: the child ${how}; exiting with code ${exitCode} (-exec-restart restarts it instead)`);
      this.opts.onExit(exitCode);
      return;
    }
    // A child that ran for the longest delay or more starts the backoff over.
    if (Date.now() - this.startedAt >= this.restarts.policy.maxMs) this.restarts.reset();
    const delay = this.restarts.next();
    this.opts.log.warning(`exec: the child ${how}; restarting it in ${delay} ms`);
    this.restartTimer = this.timers.after(delay, () => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.state.restarts++;
      this.spawnChild();
    });
  }

  /** Sends the reload signal after the splay; asks during the splay join it. `why` is logged. */
  reload(why: string): void {
    const signal = this.opts.reloadSignal;
    if (signal === null || !this.state.running || this.stopping || this.reloadTimer) return;
    const delay = this.opts.splayMs > 0 ? Math.floor(Math.random() * this.opts.splayMs) : 0;
    const send = () => {
      this.reloadTimer = undefined;
      const pid = this.child?.pid;
      if (pid === undefined || this.stopping) return;
      this.opts.log.info(`exec: ${signal} to the child (pid ${pid}): ${why}`);
      try {
        process.kill(pid, signal);
        this.state.reloads++;
        this.opts.onChange?.();
      } catch (e) {
        this.opts.log.warning(`exec: cannot signal the child: ${(e as Error).message}`);
      }
    };
    if (delay === 0) return send();
    this.reloadTimer = this.timers.after(delay, send);
  }

  /** A signal tsconfd received (SIGUSR1, SIGUSR2) for the child. */
  forward(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    this.opts.log.info(`exec: forwarding ${signal} to the child (pid ${pid})`);
    try {
      process.kill(pid, signal);
    } catch {
      // Gone in between: its exit is handled by the exit event.
    }
  }

  /** Shutdown: the kill signal, then SIGKILL to the group after the kill timeout. Resolves once the child is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.restartTimer?.cancel();
    this.reloadTimer?.cancel();
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const pid = child.pid;
    this.opts.log.info(`exec: ${this.opts.killSignal} to the child (pid ${pid}); SIGKILL in ${this.opts.killTimeoutMs} ms`);
    try {
      process.kill(pid, this.opts.killSignal);
    } catch {
      // Already gone.
    }
    let timer: Timer | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = this.timers.after(this.opts.killTimeoutMs, () => resolve(true))));
    const late = await Promise.race([this.exited.then(() => false), timedOut]);
    timer?.cancel();
    if (late) {
      this.opts.log.warning(`exec: the child did not exit within ${this.opts.killTimeoutMs} ms: SIGKILL to its process group`);
      killGroup(pid, 'SIGKILL');
      await this.exited;
    }
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is empty.
  }
}
