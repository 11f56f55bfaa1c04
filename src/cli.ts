// tsconfd's entry point: settings (flags > CONFD_* > confd.toml > defaults), the logger, then the
// run. Bundled to dist/cli.js; heavy modules (etcd's client) load only when used.
import type { ResolvedConfig } from './cli/config.js';
import { Logger, maskUserinfo } from './log.js';
import { backendNodes, createBackend, stripsKeyWildcards, unsupportedBackend } from './backends/index.js';
import type { TimerSource } from './time/timers.js';

declare const __TSCONFD_VERSION__: string | undefined;
const VERSION = typeof __TSCONFD_VERSION__ === 'string' ? __TSCONFD_VERSION__ : '0.0.0-dev';

/** The exit code, or the signal (SIGTERM, SIGINT) to end the process by (runtime/onetime.ts). */
async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number | NodeJS.Signals> {
  // tsconfd extension: `tsconfd test DIR` (template tests, src/cli/test-command.ts).
  if (argv[0] === 'test') return (await import('./cli/test-command.js')).runTestCommand(argv.slice(1));
  // `-version` alone needs no flag parser: answer before loading the settings modules.
  if (argv.length === 1 && (argv[0] === '-version' || argv[0] === '--version')) {
    process.stdout.write(`tsconfd ${VERSION} (Node ${process.version})\n`);
    return 0;
  }
  const { resolveConfig } = await import('./cli/config.js');
  let cfg: ResolvedConfig;
  try {
    cfg = resolveConfig(argv, env);
  } catch (e) {
    const { UsageError } = await import('./cli/flags.js');
    if (!(e instanceof UsageError)) {
      process.stderr.write(`tsconfd: ${(e as Error).message}\n`);
      return 1;
    }
    // Go's flag package (confd): the error as it words it, exit 2; then a hint instead of the whole usage.
    process.stderr.write(`${e.message}\n${e.hint === '' ? '' : e.hint + '\n'}Run 'tsconfd -h' for usage.\n`);
    return 2;
  }
  const o = cfg.options;
  if (cfg.help) {
    const { usageText } = await import('./cli/flags.js');
    process.stdout.write(usageText());
    return 0;
  }
  if (o.version) {
    process.stdout.write(`tsconfd ${VERSION} (Node ${process.version})\n`);
    return 0;
  }
  const log = new Logger({ level: o.logLevel, format: o.logFormat });
  log.debug(cfg.configFileRead ? `Loaded ${cfg.configFileRead}` : 'Skipping confd config file.');
  for (const w of cfg.warnings) log.warning(w);
  const unsupported = unsupportedBackend(o.backend);
  if (unsupported !== undefined) {
    log.fatal(unsupported);
    return 1;
  }
  if (o.srvDomain !== '' || o.srvRecord !== '') {
    log.fatal('-srv-domain and -srv-record are not supported; list the nodes with -node');
    return 1;
  }
  if (o.printKeys) return (await import('./cli/print-keys.js')).printKeys(o, log, (t) => process.stdout.write(t));
  log.info(`Backend set to ${o.backend}`);
  log.info('Starting tsconfd');
  // What every mode shares: where the resources are, how a pass writes, and the backend it reads.
  const run = {
    confdir: o.confdir,
    prefix: o.prefix,
    stripKeyWildcards: stripsKeyWildcards(o.backend),
    noop: o.noop,
    syncOnly: o.syncOnly,
    keepStageFile: o.keepStageFile,
    commandTimeoutMs: o.commandTimeout * 1000,
    log,
    writeDiff: (text: string) => process.stdout.write(text),
    logDiff: o.logDiff,
    maxOutputBytes: o.maxOutputBytes,
    openBackend: async (timers: TimerSource) => {
      // A node URL may carry user:password@ (etcd ignores it, but an operator may write it).
      const sources = o.backend === 'file' ? o.files : backendNodes(o).map(maskUserinfo);
      if (sources.length > 0) log.info(`Backend source(s) set to ${sources.join(', ')}`);
      return createBackend(o, log, timers);
    },
  };
  if (o.onetime && o.exec !== '') {
    log.fatal('-exec supervises a program for the life of tsconfd: use it with -watch or -interval, not -onetime');
    return 1;
  }
  if (!o.onetime) {
    // -watch, or confd's default mode: a pass every -interval seconds (runtime/daemon.ts).
    const { parseWait, parseDurationMs, DEFAULT_WAIT } = await import('./runtime/duration.js');
    let wait = DEFAULT_WAIT;
    let staleAfterMs = 0;
    let exec: import('./runtime/lifecycle.js').LifecycleOptions['exec'];
    try {
      if (o.wait !== '') wait = naming('-wait', () => parseWait(o.wait));
      if (o.staleAfter !== '') staleAfterMs = naming('-stale-after', () => parseDurationMs(o.staleAfter));
      if (o.exec !== '') exec = await execSettings(o);
    } catch (e) {
      log.fatal((e as Error).message);
      return 1;
    }
    if (!o.watch && o.interval <= 0) {
      log.fatal(`-interval must be above 0 (got ${o.interval})`);
      return 1;
    }
    // -wait is the quiescence window of -watch's change feed; an -interval pass reads everything at once.
    if (!o.watch && o.wait !== '') log.warning('-wait is ignored with -interval (it is for -watch)');
    const { runDaemon } = await import('./runtime/daemon.js');
    // systemd Type=notify: NOTIFY_SOCKET is read and removed from the environment the children get.
    const { SystemdNotifier } = await import('./runtime/sd-notify.js');
    const notifier = SystemdNotifier.fromEnvironment(process.env, { log });
    if (o.strictReadiness && o.http === '') log.warning('-strict-readiness does nothing without -http (it sets the /readyz verdict)');
    if (o.notifyReadyEarly && !notifier) log.warning("-notify-ready-early does nothing here: there is no systemd NOTIFY_SOCKET (it is for Type=notify services)");
    return runDaemon({
      ...run,
      mode: o.watch ? 'watch' : 'interval',
      wait,
      intervalMs: o.interval * 1000,
      staleAfterMs,
      http: o.http,
      strictReadiness: o.strictReadiness,
      version: VERSION,
      backendName: o.backend,
      exec,
      notifier,
      notifyReadyEarly: o.notifyReadyEarly,
      // The shutdown must leave the child its kill timeout (and exit within it plus the rest of the shutdown).
      ...(exec && { graceMs: Math.max(8000, exec.killTimeoutMs + 3000) }),
    });
  }
  // Not an error: a confd.toml or CONFD_HTTP shared by a sidecar (-watch) and its init container (-onetime) sets it for both.
  if (o.http !== '') log.warning(`-http ${o.http} is ignored with -onetime: nothing is served (the endpoint is for -watch and -interval)`);
  const daemonOnly: Array<[string, boolean, string]> = [
    ['-wait', o.wait !== '', '-watch'],
    ['-stale-after', o.staleAfter !== '', '-watch and -interval'],
    ['-strict-readiness', o.strictReadiness, '-watch and -interval'],
    ['-notify-ready-early', o.notifyReadyEarly, '-watch and -interval'],
  ];
  for (const [flag, set, modes] of daemonOnly) if (set) log.warning(`${flag} is ignored with -onetime (it is for ${modes})`);
  // The template engine and resource code load after the cheap paths (-version, -h, bad flags).
  const { runOnetime } = await import('./runtime/onetime.js');
  return runOnetime(run);
}

/** -exec and its settings, checked (a bad signal name or duration is a start-up error). */
async function execSettings(o: import('./cli/options.js').Options) {
  const { parseSignal } = await import('./runtime/supervisor.js');
  const { parseDurationMs } = await import('./runtime/duration.js');
  const killSignal = parseSignal(o.execKillSignal, '-exec-kill-signal');
  if (killSignal === null) throw new Error('-exec-kill-signal: a signal is needed to stop the child');
  return {
    command: o.exec,
    reloadSignal: parseSignal(o.execReloadSignal, '-exec-reload-signal'),
    killSignal,
    killTimeoutMs: naming('-exec-kill-timeout', () => parseDurationMs(o.execKillTimeout)),
    splayMs: naming('-exec-splay', () => parseDurationMs(o.execSplay)),
    restart: o.execRestart,
  };
}

/** f(), its error prefixed with the setting it checks (`-stale-after: invalid duration "2 min"`). */
function naming<T>(flag: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
}

main(process.argv.slice(2), process.env).then(
  async (code) => {
    if (typeof code === 'number') process.exit(code);
    (await import('./runtime/signals.js')).exitBySignal(code);
  },
  (e) => {
    process.stderr.write(`tsconfd: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
