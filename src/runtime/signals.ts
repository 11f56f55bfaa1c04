// Process signals: SIGTERM/SIGINT shut down gracefully, SIGHUP reloads the resources.
//
// Shutdown, in order: `stopping` is aborted (the runtime starts no new pass and no new command, and may kill a
// command in flight), the work registered with track() is awaited (the write in progress finishes), then the
// onShutdown handlers run, last registered first (close the watch before the backend client, and so on). All of
// it is bounded by graceMs; then the process exits: 0 when everything finished, 1 when the grace ran out or a
// handler failed. A second SIGTERM/SIGINT during shutdown exits 1 at once.
//
// Running as PID 1 (a container without --init): Node's child_process reaps the children it started, but not
// grandchildren that a command leaves behind (`sh -c "daemon &"`, or a shell killed at its timeout whose children
// outlive it). Orphans are re-parented to PID 1 and Node cannot wait() for unknown pids, so they stay zombies.
// Run the container with an init that reaps them: `docker run --init` / `podman run --init`, tini or catatonit as
// the entrypoint, or in Kubernetes `shareProcessNamespace: true` (the pause container is then PID 1 and reaps).
// Also: the kernel gives PID 1 no default signal actions, which is why SIGTERM must be handled here explicitly.

import { constants as osConstants } from 'node:os';
import { defaultScheduler, type Timer } from './scheduler.js';

export type ExitFunction = (code: number) => void;

export interface SignalCoordinatorOptions {
  /** Upper bound of the whole shutdown, in milliseconds. Default 8 s: under the 10 s that docker, podman and
   *  systemd's default wait before SIGKILL. Raise the container's stop timeout too if you raise this. */
  graceMs?: number;
  /** Called once with the exit code; default process.exit. */
  exit?: ExitFunction;
  /** Where shutdown and reload are reported (the program's Logger fits); default no logging. */
  log?: SignalLog;
  /** The process to listen on; tests pass an EventEmitter. Default the real process. */
  target?: SignalTarget;
}

/** The part of `process` used: on/off of signal events. */
export interface SignalTarget {
  on(event: NodeJS.Signals, listener: () => void): unknown;
  off(event: NodeJS.Signals, listener: () => void): unknown;
}

export type Handler = () => void | Promise<void>;

export interface SignalLog {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

const SILENT: SignalLog = { info() {}, warning() {}, error() {} };

const DEFAULT_GRACE_MS = 8_000;

export class SignalCoordinator {
  private readonly graceMs: number;
  private readonly exitFn: ExitFunction;
  private readonly log: SignalLog;
  private readonly target: SignalTarget;
  private readonly controller = new AbortController();
  private readonly shutdownHandlers: Handler[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private reloadHandler: Handler | undefined;
  private reloadRunning: Promise<void> | undefined;
  private reloadAgain = false;
  private shutdownPromise: Promise<number> | undefined;
  private installed = false;

  private readonly onTerminate = (signal: NodeJS.Signals) => () => {
    if (this.shutdownPromise) {
      this.log.warning(`received ${signal} again during shutdown: exiting now`);
      this.exitFn(1);
      return;
    }
    this.log.info(`received ${signal}: shutting down (up to ${this.graceMs}ms)`);
    void this.shutdown();
  };
  private readonly onSigterm = this.onTerminate('SIGTERM');
  private readonly onSigint = this.onTerminate('SIGINT');
  private readonly onSighup = () => {
    this.log.info('received SIGHUP: reloading resources');
    void this.reload();
  };

  constructor(options: SignalCoordinatorOptions = {}) {
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.exitFn = options.exit ?? ((code) => process.exit(code));
    this.log = options.log ?? SILENT;
    this.target = options.target ?? process;
  }

  /** Starts listening for SIGTERM, SIGINT and SIGHUP (which otherwise would kill the process). */
  install(): this {
    if (this.installed) return this;
    this.target.on('SIGTERM', this.onSigterm);
    this.target.on('SIGINT', this.onSigint);
    this.target.on('SIGHUP', this.onSighup);
    this.installed = true;
    if (process.pid === 1) {
      this.log.warning(
        'running as PID 1: orphaned children of check/reload commands and of the -exec child cannot be reaped (Node cannot wait for processes it did not start); run with an init (docker/podman --init, tini -s as in the image) or shareProcessNamespace',
      );
    }
    return this;
  }

  uninstall(): void {
    if (!this.installed) return;
    this.target.off('SIGTERM', this.onSigterm);
    this.target.off('SIGINT', this.onSigint);
    this.target.off('SIGHUP', this.onSighup);
    this.installed = false;
  }

  /** Aborted when shutdown begins: start no new pass or command, and abort waits (timers, backoff). */
  get stopping(): AbortSignal {
    return this.controller.signal;
  }

  get shuttingDown(): boolean {
    return this.controller.signal.aborted;
  }

  /** Shutdown waits for `work` (a render pass, a write) before running the handlers. Returns `work`. */
  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return work;
  }

  /** Runs at shutdown, after tracked work, last registered first. Returns a function that unregisters it. */
  onShutdown(handler: Handler): () => void {
    this.shutdownHandlers.push(handler);
    return () => {
      const index = this.shutdownHandlers.indexOf(handler);
      if (index >= 0) this.shutdownHandlers.splice(index, 1);
    };
  }

  /** The one SIGHUP handler (reload conf.d and templates, render). Replaces any earlier one. */
  onReload(handler: Handler): void {
    this.reloadHandler = handler;
  }

  /**
   * Runs the reload handler. Never runs two at once: a reload asked for while one runs is run once more after it
   * (several SIGHUPs in a row give at most one extra run). Ignored during shutdown. Handler errors are logged.
   */
  reload(): Promise<void> {
    if (this.shuttingDown) return Promise.resolve();
    if (!this.reloadHandler) {
      this.log.warning('SIGHUP ignored: nothing to reload in this mode');
      return Promise.resolve();
    }
    if (this.reloadRunning) {
      this.reloadAgain = true;
      return this.reloadRunning;
    }
    const handler = this.reloadHandler;
    const run = async (): Promise<void> => {
      do {
        this.reloadAgain = false;
        try {
          await handler();
        } catch (error) {
          this.log.error(`reload failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      } while (this.reloadAgain && !this.shuttingDown);
    };
    this.reloadRunning = this.track(run()).finally(() => {
      this.reloadRunning = undefined;
    });
    return this.reloadRunning;
  }

  /**
   * Shuts down as described at the top of this file and calls exit with the code. Calling it again returns the
   * same promise. Resolves with the exit code (after exit() was called, for an exit that does not end the process).
   */
  shutdown(): Promise<number> {
    this.shutdownPromise ??= this.runShutdown();
    return this.shutdownPromise;
  }

  private async runShutdown(): Promise<number> {
    this.controller.abort(new Error('shutting down'));
    let timer: Timer | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = defaultScheduler.after(this.graceMs, () => resolve('timeout'));
    });
    let failed = false;
    const steps = async (): Promise<'done'> => {
      while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      for (const handler of [...this.shutdownHandlers].reverse()) {
        try {
          await handler();
        } catch (error) {
          failed = true;
          this.log.error(`shutdown step failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      return 'done';
    };
    const outcome = await Promise.race([steps(), graceOver]);
    timer?.cancel();
    let code = failed ? 1 : 0;
    if (outcome === 'timeout') {
      this.log.error(`shutdown did not finish within ${this.graceMs}ms: exiting anyway`);
      code = 1;
    } else {
      this.log.info('shutdown complete');
    }
    this.uninstall();
    this.exitFn(code);
    return code;
  }
}

/**
 * Ends the process by `signal`, as if it had not been handled: a shell then sees 128+n and stops a
 * script at Ctrl-C (an exit status of 130 would not), and systemd sees the stop it asked for. The
 * kernel gives PID 1 no default action, so an exit with 128+n follows in case the signal is ignored.
 */
export function exitBySignal(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  defaultScheduler.after(200, () => process.exit(128 + (osConstants.signals[signal] ?? 0)));
}
