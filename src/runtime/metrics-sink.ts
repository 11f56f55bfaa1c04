// What the runtime tells the metrics, as an interface: the Prometheus registry (metrics.ts and
// prom-client, ~4 MB of heap, and its default collectors' timers) is loaded only when -http can
// serve it; without -http nobody can read a metric, and the runtime reports to NO_METRICS.
// The words both sides use (why a resource failed, how a command ended) are defined here.

/** Why a resource failed in a pass. Kept to a closed set so the `reason` label cannot explode in cardinality. */
export type FailureReason =
  | 'load' // the TOML resource could not be read or parsed
  | 'fetch' // the keys could not be read from the backend
  | 'template' // the template failed to parse or execute
  | 'stage' // the staging file could not be written (missing dest dir, permissions, bad mode or owner)
  | 'check' // check_cmd failed or timed out
  | 'write' // the rename onto dest (or the in-place fallback) failed
  | 'reload' // reload_cmd or the reload action failed or timed out
  | 'min_keys'; // too few keys to render from (min_keys, allow_empty): the destination was kept

export type CommandKind = 'check' | 'reload';

/**
 * How a command ended: its exit status, the name of the signal that killed it ('SIGKILL'),
 * 'timeout' when tsconfd killed it at its timeout, or 'error' when it could not be started.
 */
export type CommandOutcome = number | NodeJS.Signals | 'timeout' | 'error';

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
