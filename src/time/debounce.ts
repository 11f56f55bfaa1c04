// One rule for "a burst of calls gives one call": used by the runtime's scheduler (confdir events)
// and by the backends' file watch, which may not import the runtime.
import type { Timer, TimerSource } from './timers.js';

export interface Debounced {
  (): void;
  cancel(): void;
}

/**
 * Calls `fn` once `ms` after the last of a burst of calls, and, with `maxWaitMs`, no later than that
 * after the burst's first call (calls that never pause still get through); the next call starts a new burst.
 */
export function debounce(timers: TimerSource, ms: number, fn: () => void, opts: { maxWaitMs?: number } = {}): Debounced {
  let quiet: Timer | undefined;
  let bound: Timer | undefined;
  const fire = (): void => {
    quiet?.cancel();
    bound?.cancel();
    quiet = bound = undefined;
    fn();
  };
  const call = (): void => {
    quiet?.cancel();
    quiet = timers.after(ms, fire);
    if (opts.maxWaitMs !== undefined) bound ??= timers.after(opts.maxWaitMs, fire);
  };
  call.cancel = (): void => {
    quiet?.cancel();
    bound?.cancel();
    quiet = bound = undefined;
  };
  return call;
}
