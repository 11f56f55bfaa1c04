// Command-line flags as Go's flag package reads them, since confd is a Go program: `-onetime`,
// `--onetime`, `-node a -node b`, `-interval=60`, `-backend -x` (a value flag takes the next word
// whatever it looks like), parsing stops at `--` or the first word that is not a flag, and errors
// and `-h` use its words and layout (test/cli/goflag.test.ts compares both with Go 1.19's output,
// recorded by tools/goflag). Differences, on purpose: a word left after the flags is an error
// (confd ignores it), a misspelled flag gets a did-you-mean, and the help goes to stdout.
import {
  OPTION_SPECS,
  convertText,
  defaultOptions,
  parseGoBool,
  type Options,
  type OptionSpec,
  type PartialOptions,
} from './options.js';
import { closest } from '../suggest.js';

/** A bad command line: exit 2, as Go's flag.ExitOnError. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** A second line for the operator (a did-you-mean), or ''. */
    readonly hint = '',
  ) {
    super(message);
  }
}

export interface ParsedFlags {
  options: PartialOptions;
  help: boolean;
}

const BY_FLAG = new Map(OPTION_SPECS.map((s) => [s.flag, s]));

/** Parses argv (without node and script). Throws UsageError for unknown flags, missing or bad values, stray words. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const options: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    if (s.length < 2 || s[0] !== '-') throw stray(s, argv[i - 1]);
    let minuses = 1;
    if (s[1] === '-') {
      minuses = 2;
      if (s.length === 2) {
        if (i + 1 < argv.length) throw stray(argv[i + 1]!);
        break;
      }
    }
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') throw new UsageError(`bad flag syntax: ${s}`);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = BY_FLAG.get(name);
    if (!spec) {
      // Go stops at -h/-help and prints the usage, whatever follows.
      if (name === 'help' || name === 'h') return { options: options as PartialOptions, help: true };
      throw new UsageError(`flag provided but not defined: -${name}`, didYouMean(name));
    }
    if (spec.type === 'boolean') {
      if (value === undefined) value = 'true';
      const b = parseGoBool(value);
      if (b === undefined) throw new UsageError(`invalid boolean value ${goQuote(value)} for -${name}: parse error`);
      options[spec.key] = b;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = argv[++i]!;
    }
    options[spec.key] = flagValue(spec, value, options[spec.key]);
  }
  return { options: options as PartialOptions, help: false };
}

function flagValue(s: OptionSpec, text: string, previous: unknown): Options[keyof Options] {
  if (s.type === 'list') return [...((previous as string[] | undefined) ?? []), text];
  try {
    return convertText(s, text) as Options[keyof Options];
  } catch (e) {
    throw new UsageError(`invalid value ${goQuote(text)} for flag -${s.flag}: ${(e as Error).message}`);
  }
}

function stray(word: string, previous?: string): UsageError {
  const flag = previous === undefined ? undefined : BY_FLAG.get(previous.replace(/^--?/, ''));
  if (flag?.type === 'boolean' && parseGoBool(word) !== undefined) {
    // Go's flag package (and so confd) would stop parsing here and silently ignore the rest.
    return new UsageError(`unexpected argument: ${word}`, `a boolean flag takes its value after "=": -${flag.flag}=${word}`);
  }
  return new UsageError(`unexpected argument: ${word}`, 'tsconfd takes flags only (confd ignores words after its flags); `tsconfd test DIR` runs template tests');
}

/** Go's %q for the strings a command line holds (printable ASCII stays as it is). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** The closest defined flag, when the mistake looks like a typo. */
export function didYouMean(name: string): string {
  const best = closest(name, OPTION_SPECS.filter((s) => s.supported).map((s) => s.flag));
  return best === undefined ? '' : `did you mean -${best}?`;
}

/**
 * Go's PrintDefaults for the flags tsconfd implements: sorted by name, `  -name type`, the usage on
 * the next line after a tab, `(default "x")` unless the default is the type's zero value.
 */
export function flagDefaults(): string {
  const defaults = defaultOptions();
  const lines: string[] = [];
  for (const s of [...OPTION_SPECS].filter((x) => x.supported).sort((a, b) => (a.flag < b.flag ? -1 : 1))) {
    const type = s.type === 'boolean' ? '' : s.type === 'list' ? 'value' : s.type === 'integer' ? 'int' : 'string';
    let line = `  -${s.flag}${type === '' ? '' : ' ' + type}`;
    line += line.length <= 4 ? '\t' : '\n    \t';
    line += s.describe.replace(/\n/g, '\n    \t');
    const d = defaults[s.key];
    if (s.type === 'string' || s.type === 'logLevel' || s.type === 'logFormat') {
      if (d !== '') line += ` (default ${goQuote(String(d))})`;
    } else if (s.type === 'integer' || s.type === 'boolean') {
      if (d !== 0 && d !== false) line += ` (default ${String(d)})`;
    }
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

export function usageText(): string {
  const env = OPTION_SPECS.filter((s) => s.supported && s.envVars.length > 0).map(
    (s) => `  ${s.envVars.join(', ').padEnd(42)} -${s.flag}${s.type === 'list' ? ' (comma-separated)' : ''}`,
  );
  return [
    'Usage of tsconfd:',
    flagDefaults(),
    'Flags take one dash or two (-onetime, --onetime) and a value after a space or "=" (-node URL, -node=URL).',
    '',
    'Template tests (no backend, nothing written):',
    '  tsconfd test DIR [-confdir DIR] [-prefix PREFIX] [-update]',
    '    \trenders every resource against DIR/<test>/keys.yaml and compares with DIR/<test>/expected/',
    '',
    'Environment (an empty variable is unset; flags win over these, these over confd.toml):',
    ...env,
    '',
  ].join('\n');
}
