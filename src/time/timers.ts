// The one place that calls the host's timer functions. Everything that waits (the runtime's quiescence, reconciliation,
// retries and kill timeouts; the backends' reconnects and protocol deadlines; command timeouts) asks a TimerSource,
// so time has one owner: the runtime builds a Scheduler on it (src/runtime/scheduler.ts) and passes it down.
//
// This folder is a leaf: it imports nothing from src/, so the backends and the resource layer may import it without
// running an import arrow backwards (cli → runtime → resource → (template, backends, time)).
//
// The host's functions are looked up on each call, not captured at import, so node:test's mock timers (which replace
// globalThis.setTimeout) still drive code that goes through here.

/** A pending timeout or interval. */
export interface Timer {
  /** Stops it; calling it again, or after it fired, does nothing. */
  cancel(): void;
  /** Lets the process exit while only this timer is pending. */
  unref(): Timer;
}

export interface TimerSource {
  /** Calls `fn` once after `ms`. */
  after(ms: number, fn: () => void): Timer;
  /** Calls `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
  /** Calls `fn` once, after this turn's I/O callbacks (setImmediate: sooner than a 0 ms timeout, which Node makes 1 ms). */
  soon(fn: () => void): Timer;
  /** Resolves after `ms`; `unref` lets the process exit meanwhile. */
  sleep(ms: number, opts?: { unref?: boolean }): Promise<void>;
}

class HostTimer<H extends { unref?: () => unknown }> implements Timer {
  constructor(
    private readonly handle: H,
    private readonly clear: (h: H) => void,
  ) {}
  cancel(): void {
    this.clear(this.handle);
  }
  unref(): Timer {
    this.handle.unref?.();
    return this;
  }
}

/** The host's clock. */
export const hostTimers: TimerSource = {
  after: (ms, fn) => new HostTimer(globalThis.setTimeout(fn, ms), (h) => globalThis.clearTimeout(h)),
  every: (ms, fn) => new HostTimer(globalThis.setInterval(fn, ms), (h) => globalThis.clearInterval(h)),
  soon: (fn) => new HostTimer(globalThis.setImmediate(fn), (h) => globalThis.clearImmediate(h)),
  sleep: (ms, opts) =>
    new Promise<void>((resolve) => {
      const t = hostTimers.after(ms, resolve);
      if (opts?.unref) t.unref();
    }),
};
