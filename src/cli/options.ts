// Every setting, once: its flag, its confd.toml keys and its CONFD_* variables. Flags, the
// environment and the config file are three readers over this one table, so a setting added
// here is accepted everywhere with the same type checks.
import { parseLogFormat, parseLogLevel, type LogFormat, type LogLevel } from '../log.js';
import { BACKEND_NAMES, backendDefaults, backendOptionSpecs, type BackendSettings } from '../backends/index.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../resource/render.js';

/**
 * Every setting of a run. The backend part (-node, -client-cert, -file, -separator...) is what the
 * backends declare in their folders (backends/<name>/backend.ts, through the registry): a backend's
 * new setting is declared there only.
 */
export interface Options extends BackendSettings {
  onetime: boolean;
  watch: boolean;
  interval: number;
  backend: string;
  confdir: string;
  configFile: string;
  prefix: string;
  noop: boolean;
  syncOnly: boolean;
  keepStageFile: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  scheme: string;
  srvDomain: string;
  srvRecord: string;
  authToken: string;
  authType: string;
  table: string;
  appId: string;
  userId: string;
  roleId: string;
  secretId: string;
  path: string;
  /** Seconds before a check_cmd or reload_cmd is killed (with its whole process group). */
  commandTimeout: number;
  /** -watch quiescence window "min:max" (e.g. 50ms:1s); "" means the default. */
  wait: string;
  /** -watch: mark the agent stale when the mirror is older than this Go duration; "" means never. */
  staleAfter: string;
  /** -watch/-interval: address of the /healthz, /readyz and /metrics endpoint ("127.0.0.1:8379"); "" serves none. */
  http: string;
  /** -http: /readyz fails while the backend is unreachable or stale, even after every resource rendered. */
  strictReadiness: boolean;
  /** tsconfd extension: log a secret-redacted diff of every real change. */
  logDiff: boolean;
  /** tsconfd extension: print the keys each resource fetches, then exit. */
  printKeys: boolean;
  /** tsconfd extension: a render whose output passes this many bytes fails (located error), its dest untouched. */
  maxOutputBytes: number;
  /** tsconfd extension (runtime/supervisor.ts): the program to start once every resource rendered, and supervise; "" for none. */
  exec: string;
  /** Signal sent to the -exec child after a pass changed a file whose resource has no reload of its own ("" or "none": never). */
  execReloadSignal: string;
  /** Signal that stops the -exec child at shutdown. */
  execKillSignal: string;
  /** Go duration: how long the -exec child has to exit after the kill signal before its process group gets SIGKILL. */
  execKillTimeout: string;
  /** Go duration: a random delay up to this before each reload signal (spreads the reloads of many replicas). */
  execSplay: string;
  /** Restart the -exec child (with backoff) when it exits, instead of exiting with its code. */
  execRestart: boolean;
  /** systemd Type=notify: send READY=1 at start rather than once every resource rendered. */
  notifyReadyEarly: boolean;
  version: boolean;
}

export type OptionType = 'boolean' | 'string' | 'integer' | 'list' | 'logLevel' | 'logFormat';

export interface OptionSpec {
  key: keyof Options;
  flag: string;
  type: OptionType;
  describe: string;
  /** confd.toml keys, confd's spelling first. */
  fileKeys: readonly string[];
  /** Environment variables, highest priority first. */
  envVars: readonly string[];
  /** false: a flag of confd's for something tsconfd does not implement (accepted, left out of -h). */
  supported: boolean;
}

function spec(
  key: keyof Options,
  flag: string,
  type: OptionType,
  describe: string,
  extra: { fileKeys?: string[]; envVars?: string[]; supported?: boolean } = {},
): OptionSpec {
  const envName = 'CONFD_' + flag.toUpperCase().replace(/-/g, '_');
  return {
    key,
    flag,
    type,
    describe,
    fileKeys: extra.fileKeys ?? [flag.replace(/-/g, '_'), flag],
    envVars: extra.envVars ?? [envName],
    supported: extra.supported ?? true,
  };
}

export const OPTION_SPECS: readonly OptionSpec[] = [
  spec('onetime', 'onetime', 'boolean', 'run once and exit'),
  spec('watch', 'watch', 'boolean', 'enable watch support'),
  spec('interval', 'interval', 'integer', 'backend polling interval (seconds)'),
  spec('backend', 'backend', 'string', `backend to use: ${BACKEND_NAMES.join(', ')}`),
  // -node, -client-cert, -file, -separator...: what each backend declares in its folder (backends/<name>/backend.ts).
  ...backendOptionSpecs().map((o) => spec(o.key, o.flag, o.type, o.describe, { fileKeys: o.fileKeys && [...o.fileKeys], envVars: o.envVars && [...o.envVars] })),
  spec('confdir', 'confdir', 'string', 'confd conf directory'),
  spec('configFile', 'config-file', 'string', 'the confd config file', { fileKeys: [] }),
  spec('prefix', 'prefix', 'string', 'key path prefix'),
  spec('noop', 'noop', 'boolean', 'only show pending changes'),
  spec('syncOnly', 'sync-only', 'boolean', 'sync without check_cmd and reload_cmd'),
  spec('keepStageFile', 'keep-stage-file', 'boolean', 'keep staged files'),
  spec('logLevel', 'log-level', 'logLevel', 'level which confd should log messages (debug, info, warning, error, fatal)'),
  spec('logFormat', 'log-format', 'logFormat', 'log line format (text, json)'),
  spec('scheme', 'scheme', 'string', 'the backend URI scheme for nodes retrieved from DNS SRV records (http or https)', { supported: false }),
  spec('srvDomain', 'srv-domain', 'string', 'the name of the resource record', { supported: false }),
  spec('srvRecord', 'srv-record', 'string', 'the SRV record to search for backends nodes', { supported: false }),
  spec('authToken', 'auth-token', 'string', 'auth bearer token to use', { supported: false }),
  spec('authType', 'auth-type', 'string', 'vault auth backend type to use', { supported: false }),
  spec('table', 'table', 'string', 'the name of the DynamoDB table', { supported: false }),
  spec('appId', 'app-id', 'string', 'vault app-id to use', { supported: false }),
  spec('userId', 'user-id', 'string', 'vault user-id to use', { supported: false }),
  spec('roleId', 'role-id', 'string', 'vault role-id to use', { supported: false }),
  spec('secretId', 'secret-id', 'string', 'vault secret-id to use', { supported: false }),
  spec('path', 'path', 'string', 'vault mount path of the auth method', { supported: false }),
  spec('commandTimeout', 'command-timeout', 'integer', 'seconds before check_cmd/reload_cmd are killed'),
  spec('wait', 'wait', 'string', '-watch: quiescence window min:max before a changed resource renders, e.g. 50ms:1s (empty: render at once)'),
  spec('staleAfter', 'stale-after', 'string', '-watch: report stale when no backend confirmation came for this long (e.g. 30s)'),
  spec('http', 'http', 'string', '-watch/-interval: serve /healthz, /readyz and /metrics on this address, e.g. 127.0.0.1:8379 or :8379 (off when empty)'),
  spec('strictReadiness', 'strict-readiness', 'boolean', '-http: /readyz fails while the backend is unreachable or stale, or a write is retried, too (by default it stays ready once every resource rendered, and reports it)'),
  spec('logDiff', 'log-diff', 'boolean', 'log a unified diff of every change (secret values redacted)'),
  spec('maxOutputBytes', 'max-output-bytes', 'integer', 'a template whose output is larger fails with a located error and its dest is left as it is (256 MiB)'),
  spec('printKeys', 'print-keys', 'boolean', "print the keys each resource will fetch (prefix applied) and exit", { fileKeys: [] }),
  spec('exec', 'exec', 'string', '-watch/-interval: start this command once every resource rendered, supervise it and signal it on changes'),
  spec('execReloadSignal', 'exec-reload-signal', 'string', 'signal for the -exec child after a change ("none": never)'),
  spec('execKillSignal', 'exec-kill-signal', 'string', 'signal that stops the -exec child at shutdown'),
  spec('execKillTimeout', 'exec-kill-timeout', 'string', 'time the -exec child has to exit before SIGKILL'),
  spec('execSplay', 'exec-splay', 'string', 'random delay up to this before each reload signal to the -exec child'),
  spec('execRestart', 'exec-restart', 'boolean', 'restart the -exec child with backoff when it exits (without it, tsconfd exits with the child\'s code)'),
  spec('notifyReadyEarly', 'notify-ready-early', 'boolean', 'systemd Type=notify: READY=1 at start, not once every resource rendered'),
  spec('version', 'version', 'boolean', 'print version and exit', { fileKeys: [], envVars: [] }),
];

export const DEFAULT_CONFIG_FILE = '/etc/confd/confd.toml';

export function defaultOptions(): Options {
  return {
    onetime: false,
    watch: false,
    interval: 600,
    backend: 'etcd',
    ...backendDefaults(),
    confdir: '/etc/confd',
    configFile: DEFAULT_CONFIG_FILE,
    prefix: '',
    noop: false,
    syncOnly: false,
    keepStageFile: false,
    logLevel: 'info',
    logFormat: 'text',
    scheme: 'http',
    srvDomain: '',
    srvRecord: '',
    authToken: '',
    authType: '',
    table: '',
    appId: '',
    userId: '',
    roleId: '',
    secretId: '',
    path: '',
    commandTimeout: 60,
    wait: '',
    staleAfter: '',
    http: '',
    strictReadiness: false,
    logDiff: false,
    printKeys: false,
    maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES,
    exec: '',
    execReloadSignal: 'SIGHUP',
    execKillSignal: 'SIGTERM',
    execKillTimeout: '5s',
    execSplay: '0s',
    execRestart: false,
    notifyReadyEarly: false,
    version: false,
  };
}

/** Settings found by one reader; absent keys were not given there. */
export type PartialOptions = Partial<Options>;

/** Go's strconv.ParseBool: what `-flag=x`, CONFD_X and friends accept for booleans. */
export function parseGoBool(text: string): boolean | undefined {
  switch (text) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
  }
  return undefined;
}

/** Go's flag.IntVar accepts what strconv.ParseInt(s, 0, 64) accepts. */
export function parseGoInt(text: string): number | undefined {
  const t = text.trim() === text ? text : '';
  // An underscore only between digits or right after a base prefix, as strconv's underscoreOK.
  const m = /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)$/.exec(t);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2]!.replace(/_/g, '');
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2), 8);
  else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2), 2);
  else if (body.length > 1 && body.startsWith('0')) n = parseInt(body.slice(1), 8);
  else n = parseInt(body, 10);
  if (!Number.isSafeInteger(n)) return undefined;
  return sign * n;
}

/** Converts one textual setting (a flag value or an environment variable) to its option type. */
export function convertText(spec: OptionSpec, text: string): unknown {
  switch (spec.type) {
    case 'boolean': {
      const b = parseGoBool(text);
      if (b === undefined) throw new Error('parse error');
      return b;
    }
    case 'integer': {
      const n = parseGoInt(text);
      if (n === undefined) throw new Error('parse error');
      if (spec.key === 'interval' || spec.key === 'commandTimeout') {
        if (n <= 0) throw new Error('must be a positive number of seconds');
      }
      if (spec.key === 'maxOutputBytes' && n <= 0) throw new Error('must be a positive number of bytes');
      return n;
    }
    case 'logLevel':
      return parseLogLevel(text);
    case 'logFormat':
      return parseLogFormat(text);
    case 'list':
      return [text];
    case 'string':
      return text;
  }
}
