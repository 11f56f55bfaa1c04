// confd's log lines, so operators' log filters keep working:
//   2026-11-25T01:09:09Z host tsconfd[1234]: INFO Target config /tmp/myapp.conf out of sync
// Everything goes to stderr. `-log-format json` prints one logrus-style JSON object per line instead
// (keys sorted, as logrus' JSONFormatter), with the fields of a logger made by with() (resource,
// dest, revision, ...), so a pipeline can filter by them; text lines say the same in the message.
import { hostname } from 'node:os';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'fatal';
export type LogFormat = 'text' | 'json';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3, fatal: 4 };

const LABEL: Record<LogLevel, string> = {
  debug: 'DEBUG',
  info: 'INFO',
  warning: 'WARNING',
  error: 'ERROR',
  fatal: 'FATAL',
};

/** logrus.ParseLevel's spellings (confd passes -log-level straight to it). */
export function parseLogLevel(text: string): LogLevel {
  switch (text.toLowerCase()) {
    case 'debug':
    case 'trace':
      return 'debug';
    case 'info':
      return 'info';
    case 'warn':
    case 'warning':
      return 'warning';
    case 'error':
      return 'error';
    case 'fatal':
    case 'panic':
      return 'fatal';
  }
  throw new Error(`not a valid log level: "${text}" (debug, info, warning, error, fatal)`);
}

export function parseLogFormat(text: string): LogFormat {
  if (text === 'text' || text === 'json') return text;
  throw new Error(`not a valid log format: "${text}" (text, json)`);
}

/** Structured fields of JSON lines. */
export type LogFields = Readonly<Record<string, string | number>>;

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Program name shown as argv0 in each line. */
  program?: string;
  write?: (line: string) => void;
  now?: () => Date;
}

// One uname(2) per process: -onetime makes a held logger per resource (runtime/pass.ts).
let hostName: string | undefined;

export class Logger {
  level: LogLevel;
  format: LogFormat;
  private readonly program: string;
  private readonly host: string;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(opts: LoggerOptions = {}) {
    this.level = opts.level ?? 'info';
    this.format = opts.format ?? 'text';
    this.program = opts.program ?? 'tsconfd';
    this.host = hostName ??= hostname();
    this.write = opts.write ?? ((line) => process.stderr.write(line));
    this.now = opts.now ?? (() => new Date());
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  info(msg: string): void {
    this.log('info', msg);
  }
  warning(msg: string): void {
    this.log('warning', msg);
  }
  error(msg: string): void {
    this.log('error', msg);
  }
  /** Logs only; the caller decides to exit (exit code 1, as logrus' Fatal). */
  fatal(msg: string): void {
    this.log('fatal', msg);
  }

  /** A logger writing here whose JSON lines also carry `fields`. */
  with(fields: LogFields): Logger {
    return new FieldLogger(this, fields);
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const time = rfc3339(this.now());
    if (this.format === 'json') {
      const entry: Record<string, string | number> = { ...fields, level, msg, time };
      const sorted: Record<string, string | number> = {};
      for (const k of Object.keys(entry).sort()) sorted[k] = entry[k]!;
      this.write(JSON.stringify(sorted) + '\n');
    } else {
      this.write(`${time} ${this.host} ${this.program}[${process.pid}]: ${LABEL[level]} ${msg}\n`);
    }
  }
}

class FieldLogger extends Logger {
  constructor(
    private readonly parent: Logger,
    private readonly fields: LogFields,
  ) {
    super({ level: parent.level, format: parent.format, write: () => undefined });
  }
  override enabled(level: LogLevel): boolean {
    return this.parent.enabled(level);
  }
  override log(level: LogLevel, msg: string, fields?: LogFields): void {
    this.parent.log(level, msg, fields ? { ...this.fields, ...fields } : this.fields);
  }
}

/**
 * `text` with any URL credentials (`//user:password@`) masked as `//***@`, and those of a node written
 * without a scheme (`user:password@host:port`, at the start or after a space or comma): for nodes and
 * URLs an operator wrote, before they reach a log.
 */
export function maskUserinfo(text: string): string {
  return text.replace(/(^|\/\/|[\s,])[^/@\s,]*@/g, '$1***@');
}

/** Go's time.RFC3339 in UTC: seconds precision, "Z". */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
