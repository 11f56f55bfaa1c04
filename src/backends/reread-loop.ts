// The read loop of one "prefix changed" feed (redis, zookeeper): the feed marks what its server
// said changed, and this reads it, one read at a time (so each answer is newer than the one
// before), until nothing is marked. A failed read is retried with the shared backoff; the failure
// is logged once and so is the recovery, and the runtime is told both (onConnection).
import type { Logger } from '../log.js';
import { Backoff, type BackoffPolicy } from '../time/backoff.js';
import { hostTimers, type Timer, type TimerSource } from '../time/timers.js';
import type { ChangeFeedHandlers } from './types.js';

export interface RereadSteps {
  /** How the log names the feed: "redis: watching /app". */
  readonly name: string;
  readonly handlers: ChangeFeedHandlers;
  readonly log?: Logger;
  /** The runtime's scheduler (the host's timers by default). */
  readonly timers?: TimerSource;
  readonly retry: BackoffPolicy;
  /** Whether anything is marked to be read. */
  marked(): boolean;
  /** Reads (part of) what is marked; resolves with the hand-over of what it read, made once the recovery is told. */
  read(): Promise<() => void>;
  /** A read failed: mark what to read once the server answers (everything: what changed meanwhile is unknown). */
  failed(): void;
  /** The error as the log shows it (default: its message). */
  describe?(e: Error): string;
}

export class RereadLoop {
  private running = false;
  private failing = false;
  private retryTimer: Timer | undefined;
  private readonly retries: Backoff;
  private stopped = false;

  constructor(private readonly steps: RereadSteps) {
    this.retries = new Backoff(steps.retry);
  }

  /** Reads what is marked; a call while a read runs (it goes on to the new marks) or a retry waits does nothing. */
  async run(): Promise<void> {
    if (this.running || this.stopped || this.retryTimer) return;
    const s = this.steps;
    this.running = true;
    try {
      while (!this.stopped && s.marked()) {
        const handOver = await s.read();
        this.recovered();
        if (!this.stopped) handOver();
      }
    } catch (e) {
      s.failed();
      if (!this.failing) s.log?.error(`${s.name}: ${s.describe?.(e as Error) ?? (e as Error).message}; retrying`);
      this.failing = true;
      if (!this.stopped) s.handlers.onConnection(e as Error);
      this.retryTimer = (s.timers ?? hostTimers).after(this.retries.next(), () => {
        this.retryTimer = undefined;
        void this.run();
      });
    } finally {
      this.running = false;
    }
  }

  private recovered(): void {
    this.retries.reset();
    if (!this.failing) return;
    this.failing = false;
    this.steps.log?.info(`${this.steps.name} again`);
    if (!this.stopped) this.steps.handlers.onConnection(undefined);
  }

  /** False from a failed read until a read succeeds. */
  get healthy(): boolean {
    return !this.failing;
  }

  get closed(): boolean {
    return this.stopped;
  }

  close(): void {
    this.stopped = true;
    this.retryTimer?.cancel();
  }
}
