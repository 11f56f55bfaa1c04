// What the world outside sees of the long-running process's life, beside the files: the -exec child
// (supervisor.ts) and systemd's notify protocol (sd-notify.ts). daemon.ts tells this file about passes, SIGHUP and
// shutdown; it decides when the child starts and is signalled, and what systemd hears.
//   - First render: once every loaded resource has rendered once (written or found unchanged; a resource held
//     back by min_keys has not), the child starts, then READY=1 goes out (-notify-ready-early: at start).
//   - A pass that wrote a file whose resource has no reload of its own (no reload_cmd, no `reload` action) sends
//     the child the reload signal once. A resource that has its own reload is reloaded by it, not twice.
//   - SIGHUP: tsconfd's own reload wins and comes first: RELOADING=1, conf.d and templates are read again and
//     rendered, and after that pass the child gets the reload signal (whether or not a file changed: an operator's
//     SIGHUP means "reload everything"), then READY=1. The child never sees the raw SIGHUP before its new files.
//   - SIGUSR1/SIGUSR2 are forwarded to the child as they are (nginx: reopen logs, upgrade).
//   - SIGTERM/SIGINT: STOPPING=1, then the child gets -exec-kill-signal at once (in parallel with the rest of
//     the shutdown) and SIGKILL to its group after -exec-kill-timeout.
//   - The child exits on its own: without -exec-restart tsconfd shuts down and exits with the child's code.
//   - WATCHDOG=1 every WATCHDOG_USEC/2 while the process is alive and not shutting down: the watchdog checks
//     liveness, as /healthz does. A backend outage does not stop it (a restart would not bring etcd back, and the
//     files on disk are kept); STATUS= says what /readyz says, in one line.
import type { Logger } from '../log.js';
import { evaluateReadiness, type Readiness } from './health.js';
import type { MetricsSink } from './metrics-sink.js';
import type { PassResult } from './pass.js';
import { defaultScheduler, type Timer } from './scheduler.js';
import { monotonicUsec, type SystemdNotifier } from './sd-notify.js';
import type { SignalTarget } from './signals.js';
import { Supervisor, type ExecOptions } from './supervisor.js';

export interface LifecycleOptions {
  log: Logger;
  metrics: MetricsSink;
  /** -exec and its settings; undefined without -exec. */
  exec?: Omit<ExecOptions, 'log' | 'onExit' | 'onChange'>;
  notifier?: SystemdNotifier;
  notifyReadyEarly: boolean;
  /** The child exited and is not restarted: shut down and exit with `code`. */
  exit: (code: number) => void;
  /** Where SIGHUP/SIGUSR1/SIGUSR2 come from (the process by default). */
  signalTarget?: SignalTarget;
  readiness: () => Readiness;
}

export class Lifecycle {
  readonly supervisor: Supervisor | undefined;
  private firstRenderDone = false;
  /** SIGHUPs received, and of those, the ones whose reload has rendered. */
  hangups = 0;
  private hangupsAnswered = 0;
  private watchdogTimer: Timer | undefined;
  private statusTimer: Timer | undefined;
  private stopped = false;
  private readonly target: SignalTarget;
  private readonly forward = (signal: NodeJS.Signals) => () => this.supervisor?.forward(signal);
  private readonly onUsr1 = this.forward('SIGUSR1');
  private readonly onUsr2 = this.forward('SIGUSR2');
  private readonly onHup = () => this.hangup();

  constructor(private readonly opts: LifecycleOptions) {
    this.target = opts.signalTarget ?? process;
    // Before SignalCoordinator's own SIGHUP listener (installed later), so the reload it starts counts this SIGHUP.
    this.target.on('SIGHUP', this.onHup);
    if (opts.exec) {
      this.supervisor = new Supervisor({
        ...opts.exec,
        log: opts.log,
        onExit: (code) => opts.exit(code),
        onChange: () => this.publishExec(),
      });
    }
  }

  /** Listens for the signals it handles and starts the watchdog; READY=1 now with -notify-ready-early. */
  start(): void {
    if (this.supervisor) {
      this.target.on('SIGUSR1', this.onUsr1);
      this.target.on('SIGUSR2', this.onUsr2);
    }
    const n = this.opts.notifier;
    if (!n) return;
    if (this.opts.notifyReadyEarly) void n.send({ READY: '1', STATUS: 'started (-notify-ready-early); rendering' });
    else n.status('starting: waiting for every resource to render once');
    if (n.watchdogIntervalMs !== undefined) {
      this.watchdogTimer = defaultScheduler.every(n.watchdogIntervalMs, () => {
        if (!this.stopped) void n.send({ WATCHDOG: '1' });
      }).unref();
      void n.send({ WATCHDOG: '1' });
    }
    this.statusTimer = defaultScheduler.every(1000, () => this.publishStatus()).unref();
  }

  /** A pass ended; `allRendered`: every loaded resource has now rendered at least once. */
  afterPass(result: PassResult, allRendered: boolean): void {
    if (this.stopped) return;
    if (!this.firstRenderDone) {
      if (!allRendered) return;
      this.firstRenderDone = true;
      this.opts.log.info('every resource rendered once');
      this.supervisor?.start();
      // The runtime's own readiness catches up after this pass is reported; the status timer refines the line.
      if (!this.opts.notifyReadyEarly) void this.opts.notifier?.send({ READY: '1', STATUS: `ready: every resource rendered${this.execLine()}` });
      return;
    }
    const changed = result.outcomes.filter((o) => o.status === 'updated' && o.resource.reloadCmd === '' && o.resource.reloadAction === '');
    if (changed.length > 0) {
      const names = changed.map((o) => o.resource.dest);
      this.supervisor?.reload(`changed ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`);
    }
  }

  /**
   * A reload (SIGHUP or a conf.d/templates change) has rendered; `hangups` is the SIGHUP count when it began. The
   * SIGHUPs it answers give the child one reload signal and systemd READY=1.
   */
  reloaded(hangups: number): void {
    if (this.stopped || hangups <= this.hangupsAnswered) return;
    this.hangupsAnswered = hangups;
    // Before the first render the child has not started, and READY=1 is still to come from afterPass.
    if (this.firstRenderDone) this.supervisor?.reload('SIGHUP: resources reloaded and rendered');
    if (this.readySent) void this.opts.notifier?.send({ READY: '1', STATUS: this.statusLine() });
  }

  /** systemd has had READY=1 (RELOADING=1 before it would be out of order). */
  private get readySent(): boolean {
    return this.firstRenderDone || this.opts.notifyReadyEarly;
  }

  private hangup(): void {
    if (this.stopped) return;
    this.hangups++;
    if (this.readySent) void this.opts.notifier?.send({ RELOADING: '1', MONOTONIC_USEC: monotonicUsec(), STATUS: 'reloading (SIGHUP)' });
  }

  /** Shutdown began: STOPPING=1 and the kill signal to the child, at once. */
  beginShutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.watchdogTimer?.cancel();
    this.statusTimer?.cancel();
    void this.opts.notifier?.send({ STOPPING: '1', STATUS: 'stopping' });
    this.childStopped = this.supervisor?.stop() ?? Promise.resolve();
  }

  private childStopped: Promise<void> = Promise.resolve();

  /** The last shutdown step: the child is gone and the last notification went out. */
  async finishShutdown(): Promise<void> {
    this.beginShutdown();
    await this.childStopped;
    this.target.off('SIGHUP', this.onHup);
    this.target.off('SIGUSR1', this.onUsr1);
    this.target.off('SIGUSR2', this.onUsr2);
    await this.opts.notifier?.flush();
  }

  private statusLine(): string {
    const verdict = evaluateReadiness(this.opts.readiness());
    return (verdict.ready ? 'ready' : `not ready: ${verdict.reasons.join('; ')}`) + this.execLine();
  }

  private execLine(): string {
    const child = this.supervisor?.status();
    return child ? `; child ${child.running ? `running (pid ${child.pid})` : 'not running'}, ${child.restarts} restarts` : '';
  }

  private publishStatus(): void {
    if (!this.stopped && (this.firstRenderDone || this.opts.notifyReadyEarly)) this.opts.notifier?.status(this.statusLine());
  }

  private publishExec(): void {
    const s = this.supervisor?.status();
    if (s) this.opts.metrics.exec(s);
  }
}
