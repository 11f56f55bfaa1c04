// A failed destination write (ENOSPC, EMFILE, EACCES, a missing directory...) is retried with backoff for as long
// as it fails: such causes end by themselves or by an operator's hand, and nothing else would render the resource
// again before its keys change (-watch) or the next pass (-interval, 600 s by default). Each resource has one
// pending retry at most; any render of it supersedes the retry (its outcome schedules the next one if it fails
// too). Other failures (template, check_cmd) fail again on the same keys and are not retried.
import type { Logger } from '../log.js';
import type { TemplateResource } from '../resource/model.js';
import type { ResourceOutcome } from './pass.js';

/** 1 s, then 2, 4, ... at most 60 s apart: each attempt logs one line, so at most one a minute in a long outage. */
export const WRITE_RETRY_MIN_MS = 1_000;
export const WRITE_RETRY_MAX_MS = 60_000;

export interface WriteRetryOptions {
  log: Logger;
  /** Called when a retry of `r` is due: render it again (from the keys of that moment). */
  retry: (r: TemplateResource) => void;
  /** Told when a resource's writes start failing (true) and when that ends (false): a metric. */
  onFailing?: (r: TemplateResource, failing: boolean) => void;
  /** Tests: the first and the largest delay. */
  minMs?: number;
  maxMs?: number;
}

interface Failing {
  /** Failed writes in a row. */
  failures: number;
  since: number;
  error: string;
  dueAt: number;
  timer: NodeJS.Timeout;
}

export class WriteRetries {
  private readonly failing = new Map<TemplateResource, Failing>();
  private closed = false;

  constructor(private readonly opts: WriteRetryOptions) {}

  /** A render of `r` starts: its pending retry is superseded. */
  rendering(r: TemplateResource): void {
    clearTimeout(this.failing.get(r)?.timer);
  }

  /** The outcomes of one render of `r` (a fan-out or a group has several): schedules a retry, or ends them. */
  settled(r: TemplateResource, outcomes: readonly ResourceOutcome[]): void {
    const previous = this.failing.get(r);
    const failedWrite = outcomes.find((o) => o.status === 'failed' && o.stage === 'write');
    if (!failedWrite) {
      if (!previous) return;
      clearTimeout(previous.timer);
      this.failing.delete(r);
      this.opts.onFailing?.(r, false);
      if (!outcomes.some((o) => o.status === 'failed')) {
        this.opts.log.info(`${r.dest}: written after ${previous.failures} failed write(s) over ${seconds(Date.now() - previous.since)}`);
      }
      return;
    }
    if (this.closed) return;
    const minMs = this.opts.minMs ?? WRITE_RETRY_MIN_MS;
    const maxMs = this.opts.maxMs ?? WRITE_RETRY_MAX_MS;
    const failures = (previous?.failures ?? 0) + 1;
    const delayMs = Math.min(minMs * 2 ** Math.min(failures - 1, 30), maxMs);
    const now = Date.now();
    clearTimeout(previous?.timer);
    const timer = setTimeout(() => {
      if (!this.closed) this.opts.retry(r);
    }, delayMs);
    this.failing.set(r, { failures, since: previous?.since ?? now, error: failedWrite.error ?? 'write failed', dueAt: now + delayMs, timer });
    if (!previous) this.opts.onFailing?.(r, true);
    this.opts.log.warning(`${r.dest}: write failed (${failures} in a row); retrying in ${seconds(delayMs)}`);
  }

  /** Forgets `r` (it was unloaded). */
  forget(r: TemplateResource): void {
    const f = this.failing.get(r);
    if (!f) return;
    clearTimeout(f.timer);
    this.failing.delete(r);
    this.opts.onFailing?.(r, false);
  }

  /** Readiness: one description per failing resource, naming it, its dest, the error and the retry. */
  describe(): string[] {
    const now = Date.now();
    return [...this.failing].map(
      ([r, f]) =>
        `${r.file} (dest ${r.dest}): ${f.error}; failing for ${seconds(now - f.since)}, ${f.failures} failed write(s), next retry in ${seconds(Math.max(0, f.dueAt - now))}`,
    );
  }

  /** No more retries; the failing resources are forgotten (a runtime that replaces this one reports its own). */
  close(): void {
    this.closed = true;
    for (const r of [...this.failing.keys()]) this.forget(r);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}
