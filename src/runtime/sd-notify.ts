// systemd's notify protocol (Type=notify): READY=1, STATUS=, WATCHDOG=1, RELOADING=1, STOPPING=1, sent when
// systemd set NOTIFY_SOCKET. daemon.ts decides when; this file only delivers.
//
// Node has no AF_UNIX datagram socket, so each message is one run of systemd's own `systemd-notify VAR=VALUE...`
// (shipped with systemd, so present wherever NOTIFY_SOCKET is). Measured here (systemd 252, a test socket with
// SO_PASSCRED): run as root, systemd-notify sends with its parent's PID in SCM_CREDENTIALS (tsconfd's), so even
// NotifyAccess=main accepts it; as another user it sends with its own PID, which needs NotifyAccess=all (the
// shipped unit sets it), and it waits (BARRIER=1) until systemd has read the message, so the message is attributed
// to the unit although the sender exits. A run took 3.9 ms on average (20 runs, loaded machine); tsconfd sends a
// message every WATCHDOG_USEC/2 and at state changes. The alternative measured in the same run: unix-dgram 2.0.7
// (the npm package for AF_UNIX datagrams) sends in 0.02 ms from tsconfd's own PID, but it is a native addon built
// by node-gyp at install: dist/cli.js is one esbuild bundle and the image is built with `npm ci --ignore-scripts`
// and ships no node_modules, so an addon would need a compiler in the build, a second artefact beside the bundle,
// and EAGAIN handling (a slow reader filled its queue after 11 sends). 4 ms a message is not worth that.
//
// Messages go out one at a time in order (a queue); a systemd-notify that hangs is killed after 5 s. NOTIFY_SOCKET,
// WATCHDOG_USEC and WATCHDOG_PID are removed from tsconfd's environment, as sd_notify(unset_environment) does, so
// -exec's child and the check/reload commands cannot talk to systemd on tsconfd's behalf (NotifyAccess=all would
// let them).
import { spawn } from 'node:child_process';
import type { Logger } from '../log.js';
import { defaultScheduler } from './scheduler.js';

export interface NotifierOptions {
  log: Logger;
  /** The program that sends a message (default systemd-notify on PATH). */
  program?: string;
}

export class SystemdNotifier {
  private queue: Promise<void> = Promise.resolve();
  private disabled = false;
  private lastStatus = '';

  private constructor(
    private readonly socket: string,
    /** Half of WATCHDOG_USEC, in ms; undefined without a watchdog. */
    readonly watchdogIntervalMs: number | undefined,
    private readonly opts: NotifierOptions,
  ) {}

  /** The notifier systemd asked for through the environment, or undefined (and the variables are removed). */
  static fromEnvironment(env: NodeJS.ProcessEnv, opts: NotifierOptions): SystemdNotifier | undefined {
    const socket = env.NOTIFY_SOCKET ?? '';
    const watchdogUsec = Number(env.WATCHDOG_USEC ?? '');
    const watchdogPid = env.WATCHDOG_PID;
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    if (socket === '') return undefined;
    // WATCHDOG_PID names the process the watchdog is for; another one's is not ours to feed.
    const ours = watchdogPid === undefined || Number(watchdogPid) === process.pid;
    const interval = ours && Number.isFinite(watchdogUsec) && watchdogUsec > 0 ? Math.max(1, Math.floor(watchdogUsec / 2000)) : undefined;
    return new SystemdNotifier(socket, interval, opts);
  }

  /** Sends VAR=VALUE lines as one message. Resolves once it went out (or failed, which is logged). */
  send(fields: Record<string, string>): Promise<void> {
    const args = Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`);
    this.queue = this.queue.then(() => this.run(args));
    return this.queue;
  }

  /** STATUS= when it differs from the last one sent. */
  status(text: string): void {
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    void this.send({ STATUS: text });
  }

  /** Resolves once every message asked for so far went out. */
  flush(): Promise<void> {
    return this.queue;
  }

  private run(args: string[]): Promise<void> {
    if (this.disabled) return Promise.resolve();
    const program = this.opts.program ?? 'systemd-notify';
    return new Promise<void>((resolve) => {
      const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: this.socket } });
      let stderr = '';
      child.stderr!.on('data', (b) => (stderr += b));
      const timer = defaultScheduler.after(5000, () => child.kill('SIGKILL'));
      child.once('error', (e) => {
        timer.cancel();
        this.disabled = true;
        this.opts.log.warning(`systemd notify: cannot run ${program} (${e.message}); no more notifications`);
        resolve();
      });
      child.once('close', (code, signal) => {
        timer.cancel();
        if (code !== 0) this.opts.log.warning(`systemd notify: ${program} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`);
        else this.opts.log.debug(`systemd notify: ${args.join(' ')}`);
        resolve();
      });
    });
  }
}

/** CLOCK_MONOTONIC in microseconds (libuv's hrtime is that clock), for RELOADING=1's MONOTONIC_USEC. */
export function monotonicUsec(): string {
  return String(process.hrtime.bigint() / 1000n);
}
