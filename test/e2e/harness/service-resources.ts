// The fleet watch tests' data and resources: services under <root>/svc/sNN, each a prefix of
// node keys, and T=10 resources over two services each (so a put changes one prefix of a
// two-prefix resource: the multi-prefix consistency path).
import { Workspace } from './onetime-harness.js';

export interface ServiceResources {
  /** The key prefix of service i (without the trailing slash). */
  service(i: number): string;
  /** Every key under the services, as "key=value" lines. */
  readonly template: string;
  /** T=10: resource j (dest r<j>.conf) renders services 2j and 2j+1. */
  tenResources(): Workspace;
  /** What a file over `services` must hold, given every key's final value. */
  expected(values: Map<string, string>, services: number[]): string;
}

export function serviceResources(root: string): ServiceResources {
  const service = (i: number) => `${root}/svc/s${String(i).padStart(2, '0')}`;
  const template = `{{range gets "${root}/svc/*/*"}}{{.Key}}={{.Value}}\n{{end}}`;
  return {
    service,
    template,
    tenResources() {
      const files: Record<string, string> = {};
      for (let j = 0; j < 10; j++) {
        files[`conf.d/r${j}.toml`] = `[template]\nsrc = "r.tmpl"\ndest = "@OUT@/r${j}.conf"\nkeys = ["${service(2 * j)}", "${service(2 * j + 1)}"]\n`;
      }
      files['templates/r.tmpl'] = template;
      return new Workspace(files);
    },
    expected(values, services) {
      const prefixes = services.map((i) => service(i) + '/');
      return [...values]
        .filter(([k]) => prefixes.some((p) => k.startsWith(p)))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}\n`)
        .join('');
    },
  };
}
