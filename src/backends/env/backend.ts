// The env backend in the registry: the process's environment, which does not change while it runs.
import { defineBackend } from '../definition.js';

export const envBackend = defineBackend({
  names: ['env'],
  options: [],
  changeFeed: 'none',
  async create() {
    return (await import('./index.js')).createEnvBackend(process.env);
  },
});
