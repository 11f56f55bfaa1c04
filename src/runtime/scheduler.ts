// The runtime's owner of time (consul-template's runner is the model): every wait of the runtime (quiescence,
// reconciliation beside -watch, staleness checks, reload flushing and min_reload_interval, write retries, the
// supervisor's restarts and kill timeouts, the sd-notify watchdog, confdir debounce, signal grace) is a timer
// of one Scheduler, which the daemon makes and passes to its parts and to the backends (they take the TimerSource
// interface from src/time/, which they may import; they may not import the runtime).
//
// Tests hand a part a Scheduler over a TimerSource of their own (or node:test's mock timers, which the host
// source honours).
import { hostTimers, type Timer, type TimerSource } from '../time/timers.js';
import { debounce, type Debounced } from '../time/debounce.js';

export { Backoff, backoffDelay, type BackoffPolicy } from '../time/backoff.js';
export type { Timer, TimerSource } from '../time/timers.js';

export class Scheduler implements TimerSource {
  constructor(private readonly source: TimerSource = hostTimers) {}

  after(ms: number, fn: () => void): Timer {
    return this.source.after(ms, fn);
  }

  every(ms: number, fn: () => void): Timer {
    return this.source.every(ms, fn);
  }

  soon(fn: () => void): Timer {
    return this.source.soon(fn);
  }

  sleep(ms: number, opts?: { unref?: boolean }): Promise<void> {
    return this.source.sleep(ms, opts);
  }

  /** Calls `fn` once `ms` after the last of a burst of calls to the returned function (src/time/debounce.ts). */
  debounce(ms: number, fn: () => void): Debounced {
    return debounce(this, ms, fn);
  }
}

/** The runtime's parts default to this when nobody passes a scheduler (tests that build one part alone). */
export const defaultScheduler = new Scheduler();
