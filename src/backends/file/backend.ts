// The file backend in the registry: YAML/JSON files; -watch follows file system events.
import { defineBackend } from '../definition.js';

export const fileBackend = defineBackend({
  names: ['file'],
  options: [
    { key: 'files', flag: 'file', type: 'list', describe: 'the YAML/JSON file or directory to read (repeatable, only used with -backend=file)', fileKeys: ['file'], envVars: ['CONFD_FILE'] },
    { key: 'filter', flag: 'filter', type: 'string', default: '*', describe: 'files filter (only used with -backend=file)' },
  ],
  changeFeed: 'prefix-changed',
  async create(opts, { log, timers }) {
    return (await import('./index.js')).createFileBackend({ files: opts.files, filter: opts.filter, log, timers });
  },
});
