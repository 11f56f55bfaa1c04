// The settings a run uses: defaults, overridden by confd.toml, overridden by CONFD_* variables,
// overridden by flags.
import { existsSync } from 'node:fs';
import { ConfigFileError, readConfigFile } from './config-file.js';
import { readEnv } from './env.js';
import { parseFlags } from './flags.js';
import { defaultOptions, type Options, type PartialOptions } from './options.js';

export interface ResolvedConfig {
  options: Options;
  help: boolean;
  /** The config file that was read, or undefined when it did not exist. */
  configFileRead: string | undefined;
  /** What the config file holds that does nothing (unknown keys), for the log once it exists. */
  warnings: string[];
}

export function resolveConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ResolvedConfig {
  const flags = parseFlags(argv);
  const fromEnv = readEnv(env);
  const defaults = defaultOptions();
  const configFile = flags.options.configFile ?? fromEnv.configFile ?? defaults.configFile;
  const skip = flags.help || flags.options.version;
  // confd skips a missing config file silently, which is right for the default path only: a file named on
  // purpose (-config-file, CONFD_CONFIG_FILE) that is not there is a mistake to report.
  const named = flags.options.configFile !== undefined ? '-config-file' : fromEnv.configFile !== undefined ? 'CONFD_CONFIG_FILE' : undefined;
  if (!skip && named !== undefined && !existsSync(configFile)) {
    throw new ConfigFileError(`config file ${configFile} (${named}) does not exist`);
  }
  const warnings: string[] = [];
  const fromFile = skip ? undefined : readConfigFile(configFile, (w) => warnings.push(w));
  return {
    options: mergeOptions(defaults, fromFile ?? {}, fromEnv, flags.options, { configFile }),
    help: flags.help,
    configFileRead: fromFile ? configFile : undefined,
    warnings,
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
