// `tsconfd -print-keys`: what each resource will fetch (prefix applied), and where those keys
// came from, without contacting the backend. Exit 1 when a resource cannot be loaded.
import type { Logger } from '../log.js';
import { loadResourcesOrFatal } from '../resource/load.js';
import { stripsKeyWildcards } from '../backends/index.js';
import type { Options } from './options.js';

export function printKeys(o: Options, log: Logger, write: (text: string) => void): number {
  const resources = loadResourcesOrFatal({ confdir: o.confdir, prefix: o.prefix, log, stripKeyWildcards: stripsKeyWildcards(o.backend) });
  if (!resources) return 1;
  let out = '';
  for (const r of resources) {
    const how = [r.ext?.discoverKeys ? 'discovered from the template' : 'keys', r.ext?.range ? `range ${r.ext.range}` : '']
      .filter(Boolean)
      .join(', ');
    out += `${r.file} (dest ${r.dest}; ${how}):\n`;
    for (const k of r.keys) out += `  ${k}\n`;
    if (r.keys.length === 0) out += '  (no keys)\n';
  }
  write(out);
  return 0;
}
