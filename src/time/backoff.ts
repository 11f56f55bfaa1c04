// The one retry-with-backoff rule: the first delay, doubled after each failure up to a ceiling, optionally jittered.
// Used by the mirror's reads, write retries, the supervisor's restarts and every backend's reconnect loop, which
// each had their own copy of it.

export interface BackoffPolicy {
  /** The first delay. */
  minMs: number;
  /** The largest delay. */
  maxMs: number;
  /**
   * Spread the delay over its upper half (a delay d becomes d/2 + random·d/2), so many clients that lost the same
   * server do not all come back in the same millisecond.
   */
  jitter?: boolean;
}

/** The delay before retry number `failures` (1 after the first failure): min·2^(failures−1), at most max. */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  const base = Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  return policy.jitter ? base / 2 + Math.random() * (base / 2) : base;
}

/** A backoff that counts its failures: `next()` after each failure, `reset()` after a success. */
export class Backoff {
  private count = 0;

  constructor(readonly policy: BackoffPolicy) {}

  /** Failures since the last reset. */
  get failures(): number {
    return this.count;
  }

  /** Counts a failure and returns the delay before the next attempt. */
  next(): number {
    this.count += 1;
    return backoffDelay(this.count, this.policy);
  }

  reset(): void {
    this.count = 0;
  }
}
