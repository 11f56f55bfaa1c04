// What the runtime tells the metrics, as an interface: the Prometheus registry (metrics.ts and
// prom-client, ~4 MB of heap, and its default collectors' timers) is loaded only when -http can
// serve it; without -http nobody can read a metric, and the runtime reports to NO_METRICS.
import type { CommandKind, CommandOutcome, FailureReason } from './metrics.js';

export interface MetricsSink {
  render(resource: string): void;
  write(resource: string): void;
  skippedUnchanged(resource: string): void;
  failure(resource: string, reason: FailureReason): void;
  writeFailing(resource: string, failing: boolean): void;
  command(resource: string, kind: CommandKind, durationMs: number, outcome: CommandOutcome): void;
  reloadDeferred(resource: string): void;
  backendRequest(op: string, durationMs: number, ok: boolean): void;
  watchRevision(applied: number, head?: number, lagMs?: number): void;
  mirrorSynced(atMs?: number): void;
  exec(status: { running: boolean; restarts: number; reloads: number; lastExitCode: number | null }): void;
  resourcesLoaded(count: number): void;
  removeResource(resource: string): void;
}

const ignore = (): void => undefined;

/** Where the runtime reports when no -http endpoint exists to read metrics from. */
export const NO_METRICS: MetricsSink = {
  render: ignore,
  write: ignore,
  skippedUnchanged: ignore,
  failure: ignore,
  writeFailing: ignore,
  command: ignore,
  reloadDeferred: ignore,
  backendRequest: ignore,
  watchRevision: ignore,
  mirrorSynced: ignore,
  exec: ignore,
  resourcesLoaded: ignore,
  removeResource: ignore,
};
