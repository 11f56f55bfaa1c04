// The settings a run uses: defaults, overridden by confd.toml, overridden by CONFD_* variables,
// overridden by flags.
import { readConfigFile } from './config-file.js';
import { readEnv } from './env.js';
import { parseFlags } from './flags.js';
import { defaultOptions, type Options, type PartialOptions } from './options.js';

export interface ResolvedConfig {
  options: Options;
  help: boolean;
  /** The config file that was read, or undefined when it did not exist. */
  configFileRead: string | undefined;
}

export function resolveConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ResolvedConfig {
  const flags = parseFlags(argv);
  const fromEnv = readEnv(env);
  const defaults = defaultOptions();
  const configFile = flags.options.configFile ?? fromEnv.configFile ?? defaults.configFile;
  const fromFile = flags.help || flags.options.version ? undefined : readConfigFile(configFile);
  return {
    options: mergeOptions(defaults, fromFile ?? {}, fromEnv, flags.options, { configFile }),
    help: flags.help,
    configFileRead: fromFile ? configFile : undefined,
  };
}

/** Later layers win, key by key. */
export function mergeOptions(base: Options, ...layers: PartialOptions[]): Options {
  const out: Options = { ...base };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}
