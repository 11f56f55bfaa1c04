// Command-line flags the Go way (-onetime, -node a -node b, -interval=60) and the --long way.
// yargs needs several switches to stop it reading `-onetime` as `-o -n -e ...`, arrays from
// swallowing the next words, and missing values from being quietly filled in.
import yargs, { type Options as YargsOption } from 'yargs';
import { OPTION_SPECS, convertText, parseGoBool, type Options, type OptionSpec, type PartialOptions } from './options.js';

export class UsageError extends Error {}

export interface ParsedFlags {
  options: PartialOptions;
  help: boolean;
}

function yargsOption(s: OptionSpec): YargsOption {
  if (s.type === 'boolean') return { type: 'boolean', describe: s.describe };
  return { type: 'string', array: s.type === 'list', requiresArg: true, describe: s.describe };
}

function parser(argv: readonly string[]) {
  const options: Record<string, YargsOption> = {};
  for (const s of OPTION_SPECS) options[s.flag] = yargsOption(s);
  options['help'] = { type: 'boolean', alias: 'h', describe: 'show this help' };
  return yargs([...argv])
    .scriptName('tsconfd')
    .usage('Usage: tsconfd [flags]\n\nFlags take one dash or two: -onetime, --onetime, -node URL, -node=URL.')
    .parserConfiguration({
      'short-option-groups': false,
      'camel-case-expansion': false,
      'greedy-arrays': false,
      'boolean-negation': false,
      'strip-dashed': true,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
    })
    .version(false)
    .help(false)
    .options(options)
    .strict()
    .exitProcess(false)
    .wrap(100)
    .fail((msg, err) => {
      throw new UsageError(err?.message ?? msg);
    });
}

const BOOLEAN_FLAGS = new Set([...OPTION_SPECS.filter((s) => s.type === 'boolean').map((s) => s.flag), 'help', 'h']);
const VALUE_FLAGS = new Set(OPTION_SPECS.filter((s) => s.type !== 'boolean').map((s) => s.flag));

/**
 * Go's flag package reads `-flag=value` of a boolean with strconv.ParseBool (`1`, `t`, `TRUE`,
 * `False`, ...) and rejects anything else, where yargs turns every value but `true` into false.
 * So those are decided here and handed to yargs as plain `--flag=true|false`.
 */
function normalizeBooleans(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const bare = /^--?([^-=][^=]*)$/s.exec(arg);
    if (bare && VALUE_FLAGS.has(bare[1]!)) {
      // `-prefix -noop=1` gives -prefix that value, as in Go; it is not a flag of its own.
      out.push(arg, ...argv.slice(i + 1, i + 2));
      i++;
      continue;
    }
    const m = /^--?([^-=][^=]*)=(.*)$/s.exec(arg);
    if (!m || !BOOLEAN_FLAGS.has(m[1]!)) {
      out.push(arg);
      continue;
    }
    const value = parseGoBool(m[2]!);
    if (value === undefined) throw new UsageError(`invalid boolean value ${JSON.stringify(m[2])} for -${m[1]}: parse error`);
    out.push(`--${m[1]}=${value}`);
  }
  return out;
}

/** Parses argv (without node and script). Throws UsageError for unknown flags, missing or bad values. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const raw = parser(normalizeBooleans(argv)).parseSync() as Record<string, unknown>;
  const positional = (raw['_'] as unknown[]) ?? [];
  if (positional.length > 0) throw new UsageError(`unexpected argument: ${String(positional[0])}`);
  const options: Record<string, unknown> = {};
  for (const s of OPTION_SPECS) {
    const v = raw[s.flag];
    if (v === undefined) continue;
    options[s.key] = flagValue(s, v);
  }
  return { options: options as PartialOptions, help: raw['help'] === true };
}

function flagValue(s: OptionSpec, v: unknown): Options[keyof Options] {
  if (s.type === 'boolean') {
    // Repeated booleans arrive as arrays; Go's flag package keeps the last one.
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    return Boolean(last);
  }
  const values = (Array.isArray(v) ? v : [v]).map(String);
  if (s.type === 'list') return values;
  const last = values[values.length - 1]!;
  try {
    return convertText(s, last) as Options[keyof Options];
  } catch (e) {
    throw new UsageError(`invalid value "${last}" for flag -${s.flag}: ${(e as Error).message}`);
  }
}

export async function usageText(): Promise<string> {
  return parser([]).getHelp();
}
