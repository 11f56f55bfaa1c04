import { Logger, type LogLevel } from '../../src/log.js';

/** A logger for code under test whose output the test does not look at. */
export function quietLogger(): Logger {
  return new Logger({ write: () => undefined });
}

/** A logger at `level` whose formatted lines the test reads back from `lines`. */
export function capturingLogger(level: LogLevel = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger({ level, write: (l) => lines.push(l) }), lines };
}
