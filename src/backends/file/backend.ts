// The file backend in the registry: YAML/JSON files; -watch follows file system events.
import { defineBackend } from '../definition.js';

export const fileBackend = defineBackend({
  names: ['file'],
  changeFeed: 'prefix-changed',
  async create(opts, { log }) {
    return (await import('./index.js')).createFileBackend({ files: opts.files, filter: opts.filter, log });
  },
});
