// CONFD_* environment variables: one per setting (CONFD_LOG_LEVEL, CONFD_NODE, ...), plus confd's
// own CONFD_CLIENT_CAKEYS. Lists (nodes, files) are comma-separated.
import { OPTION_SPECS, convertText, type PartialOptions } from './options.js';

export class EnvError extends Error {}

export function readEnv(env: NodeJS.ProcessEnv): PartialOptions {
  const options: Record<string, unknown> = {};
  for (const s of OPTION_SPECS) {
    for (const name of s.envVars) {
      const text = env[name];
      // An empty variable counts as unset, as confd's processEnv does.
      if (text === undefined || text === '') continue;
      if (s.type === 'list') {
        options[s.key] = text.split(',').map((x) => x.trim()).filter((x) => x !== '');
      } else {
        try {
          options[s.key] = convertText(s, text);
        } catch (e) {
          throw new EnvError(`invalid value "${text}" for environment variable ${name}: ${(e as Error).message}`);
        }
      }
      break;
    }
  }
  return options as PartialOptions;
}
