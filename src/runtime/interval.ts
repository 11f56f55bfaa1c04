// `-interval N` alone (confd's default mode): a pass every N seconds. Passes never overlap: the next one is timed
// from the end of the previous one, so a slow backend or command stretches the period rather than stacking passes.
// trigger() (SIGHUP, a changed conf.d) runs a pass as soon as the current one ends; several triggers during a
// pass give one more pass.

import { defaultScheduler, type Timer, type TimerSource } from './scheduler.js';

export interface IntervalLoopOptions {
  /** Time between the end of one pass and the start of the next, in ms. */
  intervalMs: number;
  /** One pass; its errors are the pass's business (logged there), a throw here is logged and the loop goes on. */
  pass: () => Promise<void>;
  onError?: (error: Error) => void;
  /** The daemon's scheduler. */
  timers?: TimerSource;
}

export class IntervalLoop {
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Passes started so far. */
  passes = 0;

  constructor(private readonly opts: IntervalLoopOptions) {}

  /** Runs the first pass now; resolves when it has ended. */
  start(): Promise<void> {
    return this.runNow();
  }

  /** A pass as soon as possible (coalesced with any already asked for). */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    return this.runNow();
  }

  /** No new pass starts; resolves once the running one (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
  }

  /** The pass in progress, if any. */
  get current(): Promise<void> | undefined {
    return this.running;
  }

  private runNow(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    const run = (async () => {
      do {
        this.again = false;
        if (this.stopped) return;
        this.passes++;
        try {
          await this.opts.pass();
        } catch (e) {
          this.opts.onError?.(e as Error);
        }
      } while (this.again && !this.stopped);
    })();
    this.running = run.finally(() => {
      this.running = undefined;
      if (!this.stopped) this.timer = (this.opts.timers ?? defaultScheduler).after(this.opts.intervalMs, () => void this.runNow());
    });
    return this.running;
  }
}
