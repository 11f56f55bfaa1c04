// confd.toml: the same keys as confd (backend, nodes, confdir, client_cakeys, log-level, ...).
// Keys match case-insensitively and unknown keys are ignored, as BurntSushi/toml does for confd; tsconfd
// warns about each (file:line and a did-you-mean), since a misspelt key otherwise does nothing at all.
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { OPTION_SPECS, parseGoBool, type OptionSpec, type PartialOptions } from './options.js';
import { parseLogFormat, parseLogLevel } from '../log.js';
import { closest } from '../suggest.js';

/** confd.toml keys confd reads and tsconfd does not use (PGP crypt functions, directories it derives itself). */
const CONFD_ONLY_KEYS = ['secret_keyring', 'config_dir', 'template_dir'];

export class ConfigFileError extends Error {}

/** Reads the config file; undefined when it does not exist (confd skips a missing file). */
export function readConfigFile(path: string, warn: (message: string) => void = () => undefined): PartialOptions | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigFileError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  return parseConfigText(text, path, warn);
}

export function parseConfigText(text: string, path: string, warn: (message: string) => void = () => undefined): PartialOptions {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      throw new ConfigFileError(`${path}:${e.line}:${e.column}: ${firstLine(e.message)}`);
    }
    throw new ConfigFileError(`${path}: ${(e as Error).message}`);
  }
  const byLowerKey = new Map<string, unknown>();
  for (const [k, v] of Object.entries(doc)) byLowerKey.set(k.toLowerCase(), v);
  const known = OPTION_SPECS.flatMap((s) => s.fileKeys);
  for (const key of Object.keys(doc)) {
    const lower = key.toLowerCase();
    if (known.includes(lower)) continue;
    const where = `${path}:${lineOf(text, key)}`;
    if (CONFD_ONLY_KEYS.includes(lower)) {
      warn(`${where}: ${key} is ignored: tsconfd does not use it`);
      continue;
    }
    const guess = closest(key, known);
    warn(`${where}: unknown key "${key}" is ignored${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`);
  }
  const options: Record<string, unknown> = {};
  for (const s of OPTION_SPECS) {
    for (const key of s.fileKeys) {
      if (!byLowerKey.has(key)) continue;
      options[s.key] = convert(s, key, byLowerKey.get(key), path, text);
      break;
    }
  }
  return options as PartialOptions;
}

const SECRET_KEY = /password|secret|token/i;

function convert(s: OptionSpec, key: string, v: unknown, path: string, text: string): unknown {
  // A mistyped password (`password = 1234`) is still a password: its kind is shown, not its value.
  const got = SECRET_KEY.test(key) ? (Array.isArray(v) ? 'an array' : `a ${typeof v}`) : JSON.stringify(v);
  const fail = (want: string): never => {
    throw new ConfigFileError(`${path}:${lineOf(text, key)}: ${key} must be ${want}, not ${got}`);
  };
  switch (s.type) {
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && parseGoBool(v) !== undefined) return parseGoBool(v);
      return fail('a boolean');
    case 'integer':
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
      return fail('a positive integer');
    case 'list':
      if (typeof v === 'string') return [v];
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
      return fail('a string or an array of strings');
    case 'string':
      if (typeof v === 'string') return v;
      return fail('a string');
    case 'logLevel':
      if (typeof v !== 'string') return fail('a string');
      try {
        return parseLogLevel(v);
      } catch (e) {
        throw new ConfigFileError(`${path}:${lineOf(text, key)}: ${(e as Error).message}`);
      }
    case 'logFormat':
      if (typeof v !== 'string') return fail('a string');
      try {
        return parseLogFormat(v);
      } catch (e) {
        throw new ConfigFileError(`${path}:${lineOf(text, key)}: ${(e as Error).message}`);
      }
  }
}

/** The 1-based line where `key =` appears (values carry no positions in smol-toml's output). */
export function lineOf(text: string, key: string): number {
  const re = new RegExp(`^\\s*\\[?\\s*["']?${key.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}["']?\\s*[=\\]]`, 'im');
  const m = re.exec(text);
  if (!m) return 1;
  return text.slice(0, m.index).split('\n').length;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
}
