// Reloads in the long-running modes (-watch, -interval). processResource hands each changed resource's reload
// here (ProcessOptions.commands) instead of running it inline, and the runtime calls flush() once a render pass
// ends (without waiting for them), so:
//   - a reload shared by several resources (the same reload_cmd text, or the same `reload` action) runs once per
//     pass, however many of them changed;
//   - `min_reload_interval = "10s"` spaces the runs of a reload: one asked for sooner is deferred to the end of
//     the interval and then runs once for everything that asked meanwhile — deferred, never dropped;
//   - `command_timeout = "30s"` bounds the resource's check and reload (else -command-timeout); the whole process
//     group is killed at the timeout;
//   - `reload = "signal:HUP:/run/nginx.pid"` or `"http:POST:http://…"` is a built-in action (reload-actions.ts),
//     run without a shell, beside or instead of reload_cmd;
//   - at shutdown nothing new starts: a running command is killed, deferred reloads are dropped (and logged).
// Runs of one reload never overlap (a change during a run gives one more run after it); different reloads run
// independently, so a hung reload holds back neither the renders nor the other resources' reloads until its
// timeout.
import { basename } from 'node:path';
import type { Logger } from '../log.js';
import type { CommandHooks, TemplateResource } from '../resource/model.js';
import { CommandError, runCommand, ShellCommand, type CommandEnd } from '../resource/commands.js';
import { goQuote } from '../resource/errors.js';
import type { CommandOutcome, MetricsSink } from './metrics-sink.js';
import { describeReloadAction, parseReloadAction, ReloadActionError, runReloadAction, type ReloadAction } from './reload-actions.js';
import { parseDurationMs } from './duration.js';
import { defaultScheduler, type Timer, type TimerSource } from './scheduler.js';

/** The name a resource goes by in metrics and readiness: its TOML file's base name. */
export function resourceName(resource: TemplateResource): string {
  return basename(resource.file);
}

export interface CommandSettings {
  readonly timeoutMs: number;
  readonly minReloadIntervalMs: number;
  readonly action: ReloadAction | undefined;
}

/** Reads a resource's `reload`, `min_reload_interval` and `command_timeout`; throws Error naming the file and key. */
export function commandSettings(resource: TemplateResource, defaultTimeoutMs: number): CommandSettings {
  const duration = (key: string, text: string): number => {
    try {
      return parseDurationMs(text);
    } catch (e) {
      throw new Error(`${resource.file}: template.${key}: ${(e as Error).message}`);
    }
  };
  let action: ReloadAction | undefined;
  if (resource.reloadAction !== '') {
    try {
      action = parseReloadAction(resource.reloadAction);
    } catch (e) {
      throw new Error(`${resource.file}: template.reload: ${(e as Error).message}`);
    }
  }
  const timeoutMs = resource.commandTimeout === '' ? defaultTimeoutMs : duration('command_timeout', resource.commandTimeout);
  if (timeoutMs <= 0) throw new Error(`${resource.file}: template.command_timeout must be above 0`);
  const minReloadIntervalMs = resource.minReloadInterval === '' ? 0 : duration('min_reload_interval', resource.minReloadInterval);
  return { timeoutMs, minReloadIntervalMs, action };
}

export interface ReloadSchedulerOptions {
  log: Logger;
  metrics?: MetricsSink;
  /** -command-timeout in ms. */
  defaultTimeoutMs: number;
  /** Aborted at shutdown. */
  signal: AbortSignal;
  /** Clock; tests pass a fake one. */
  now?: () => number;
  /** The daemon's scheduler (min_reload_interval deferrals). */
  timers?: TimerSource;
}

interface Reload {
  readonly key: string;
  /** What runs: a shell command or a built-in action. */
  readonly run: { kind: 'shell'; cmd: string } | { kind: 'action'; action: ReloadAction };
  /** Resources that asked since the last run. */
  readonly pending: Set<TemplateResource>;
  lastRunAt: number;
  timer: Timer | undefined;
  /** This reload's runs, one after another. */
  chain: Promise<void>;
  /** A run is chained and has not started: later asks join it rather than chain another. */
  queued: boolean;
}

export class ReloadScheduler {
  private readonly reloads = new Map<string, Reload>();
  private readonly settings = new WeakMap<TemplateResource, CommandSettings>();
  private readonly now: () => number;
  /** Runs started, per reload key (tests and logs). */
  readonly runs = new Map<string, number>();
  /** Every failed run, with the resources it was for (-onetime turns these into exit 1). */
  readonly failures: Array<{ resources: TemplateResource[]; error: string }> = [];

  constructor(private readonly opts: ReloadSchedulerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Checks and remembers each resource's settings; returns the resources whose settings are invalid, with why. */
  prepare(resources: readonly TemplateResource[]): Array<{ resource: TemplateResource; error: string }> {
    const broken: Array<{ resource: TemplateResource; error: string }> = [];
    for (const r of resources) {
      try {
        this.settings.set(r, commandSettings(r, this.opts.defaultTimeoutMs));
      } catch (e) {
        broken.push({ resource: r, error: (e as Error).message });
      }
    }
    return broken;
  }

  private settingsOf(r: TemplateResource): CommandSettings {
    let s = this.settings.get(r);
    if (!s) {
      s = commandSettings(r, this.opts.defaultTimeoutMs);
      this.settings.set(r, s);
    }
    return s;
  }

  /** The hooks processResource uses in the long-running modes. */
  hooks(): CommandHooks {
    return {
      signal: this.opts.signal,
      timeoutMs: (r) => this.settingsOf(r).timeoutMs,
      checked: (r, ms, end) => this.opts.metrics?.command(resourceName(r), 'check', ms, outcomeOf(end)),
      queueReload: (r) => this.queue(r),
    };
  }

  /** dest of `r` changed: its reload(s) will run at the next flush(). */
  queue(r: TemplateResource): void {
    const s = this.settingsOf(r);
    if (r.reloadCmd !== '') this.entry(`sh:${r.reloadCmd}`, { kind: 'shell', cmd: r.reloadCmd }).pending.add(r);
    if (s.action) this.entry(`action:${r.reloadAction}`, { kind: 'action', action: s.action }).pending.add(r);
  }

  private entry(key: string, run: Reload['run']): Reload {
    let e = this.reloads.get(key);
    if (!e) {
      e = { key, run, pending: new Set(), lastRunAt: -Infinity, timer: undefined, chain: Promise.resolve(), queued: false };
      this.reloads.set(key, e);
    }
    return e;
  }

  /**
   * The end of a render pass: starts each queued reload once (after its own run in progress, if any), or
   * defers it to its min_reload_interval. Resolves when those runs have ended; the long-running modes do not
   * wait for that, -onetime does.
   */
  flush(): Promise<void> {
    for (const e of this.reloads.values()) {
      if (e.pending.size === 0 || e.timer) continue;
      const minMs = Math.max(0, ...[...e.pending].map((r) => this.settingsOf(r).minReloadIntervalMs));
      const dueIn = e.lastRunAt + minMs - this.now();
      if (dueIn <= 0) {
        this.enqueue(e);
        continue;
      }
      for (const r of e.pending) this.opts.metrics?.reloadDeferred(resourceName(r));
      this.opts.log.info(`${describe(e)}: deferred ${Math.ceil(dueIn)} ms (min_reload_interval ${minMs} ms since the last run)`);
      e.timer = (this.opts.timers ?? defaultScheduler).after(dueIn, () => {
        e.timer = undefined;
        this.enqueue(e);
      });
    }
    return this.idle();
  }

  /** Resolves when no reload is running or queued to run now (deferred ones may still wait on their timer). */
  async idle(): Promise<void> {
    // A run chained while waiting is waited for too.
    for (;;) {
      const chains = [...this.reloads.values()].map((e) => e.chain);
      await Promise.all(chains);
      if ([...this.reloads.values()].every((e, i) => e.chain === chains[i])) return;
    }
  }

  /** Shutdown: cancels deferred reloads and waits for the running one (which the abort signal kills). */
  async close(): Promise<void> {
    for (const e of this.reloads.values()) {
      if (e.timer) {
        e.timer.cancel();
        e.timer = undefined;
      }
      if (e.pending.size > 0) this.opts.log.warning(`${describe(e)}: not run: shutting down`);
      e.pending.clear();
    }
    await this.idle();
  }

  private enqueue(e: Reload): void {
    if (e.queued) return;
    e.queued = true;
    e.chain = e.chain
      .then(() => {
        e.queued = false;
        return this.runOne(e);
      })
      .catch((err: Error) => this.opts.log.error(`${describe(e)}: ${err.message}`));
  }

  private async runOne(e: Reload): Promise<void> {
    if (e.pending.size === 0) return;
    const resources = [...e.pending];
    e.pending.clear();
    if (this.opts.signal.aborted) {
      this.opts.log.warning(`${describe(e)}: not run: shutting down`);
      return;
    }
    const timeoutMs = Math.max(...resources.map((r) => this.settingsOf(r).timeoutMs));
    e.lastRunAt = this.now();
    this.runs.set(e.key, (this.runs.get(e.key) ?? 0) + 1);
    const names = resources.map((r) => r.dest).join(', ');
    const started = performance.now();
    let end: CommandOutcome = 0;
    try {
      if (e.run.kind === 'shell') {
        this.opts.log.debug(`Running ${e.run.cmd}`);
        const output = await runCommand(ShellCommand.literal(e.run.cmd), { timeoutMs, signal: this.opts.signal });
        this.opts.log.debug(goQuote(output));
      } else {
        const done = await runReloadAction(e.run.action, { timeoutMs, signal: this.opts.signal });
        this.opts.log.info(`${describe(e, resources)}: ${done}`);
      }
    } catch (err) {
      if (err instanceof CommandError) {
        end = outcomeOf(err.end);
        if (err.output !== '') this.opts.log.error(goQuote(err.output));
      } else if (err instanceof ReloadActionError) {
        end = err.timedOut ? 'timeout' : 'error';
      } else {
        end = 'error';
      }
      this.opts.log.error(`reload for ${names} failed: ${describe(e, resources)}: ${(err as Error).message}`);
      this.failures.push({ resources, error: `${describe(e, resources)}: ${(err as Error).message}` });
      for (const r of resources) this.opts.metrics?.failure(resourceName(r), 'reload');
    } finally {
      const ms = performance.now() - started;
      for (const r of resources) this.opts.metrics?.command(resourceName(r), 'reload', ms, end);
    }
    if (end === 0 && resources.length > 1) this.opts.log.info(`${describe(e, resources)}: one reload for ${resources.length} resources (${names})`);
  }
}

/** For logs above debug: a shell command may carry a token, so it is named by its resources, as confd does. */
function describe(e: Reload, resources: Iterable<TemplateResource> = e.pending): string {
  if (e.run.kind === 'action') return `reload ${describeReloadAction(e.run.action)}`;
  return `reload_cmd of ${[...new Set([...resources].map((r) => basename(r.file)))].join(', ')}`;
}

/** Metrics' outcome for a command end ('aborted' at shutdown counts as killed). */
function outcomeOf(end: CommandEnd): CommandOutcome {
  return end === 'aborted' ? 'SIGKILL' : end;
}
