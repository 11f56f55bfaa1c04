// Store benchmark (not part of npm test): the perf harness's xlarge data set (1000 services ×
// 100 nodes = 102k keys) and its nginx template, rendered through the Go engine with the
// indexed store, against the same calls answered by a linear scan as memkv does.
//   node --import tsx test/template/confd/store.bench.ts
import { createRequire } from 'node:module';
import { KeyStore, KVPair } from '../../../src/template/confd/store.js';
import { confdFuncMap } from '../../../src/template/confd/funcs.js';
import { matchBytes } from '../../../src/keys/gopath.js';
import { goFunc } from '../../../src/template/go/value.js';
import { parse } from '../../../src/template/go/index.js';

const require = createRequire(import.meta.url);
const ds = require('/work/shared/perf/lib/dataset.js') as {
  entries(size: { services: number; nodes: number }): Iterable<[string, string]>;
};

const entries = [...ds.entries({ services: 1000, nodes: 100 })];
const TEMPLATE = `{{- range $svc := lsdir "/svc"}}
{{- $port := getv (printf "/svc/%s/port" $svc)}}
upstream {{$svc}} {
{{- range gets (printf "/svc/%s/nodes/*" $svc)}}
    server {{.Value}} max_fails=3 fail_timeout=10s; # node={{base .Key}}
{{- end}}
}
server { server_name {{getv (printf "/svc/%s/domain" $svc)}}; proxy_set_header X-Service-Port {{$port}}; }
{{- end}}
# total backends: {{len (getvs "/svc/*/nodes/*")}}
`;

function time<T>(label: string, f: () => T): T {
  const t0 = performance.now();
  const r = f();
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return r;
}

const store = time(`build store (${entries.length} keys)`, () => new KeyStore(entries));
const t = parse('nginx.tmpl', TEMPLATE, { funcs: confdFuncMap(store) });
time('render xlarge nginx template, indexed store (warm-up)', () => t.execute(null));
const out = time('render xlarge nginx template, indexed store', () => t.execute(null));
console.log(`  output ${out.length} bytes, ${out.split('\n').length} lines`);

const N = 1000;
const services = store.listDir('/svc');
time(`${N} × gets "/svc/X/nodes/*", indexed`, () => {
  for (let i = 0; i < N; i++) store.getAll(`/svc/${services[i % services.length]}/nodes/*`);
});

// memkv's GetAll: path.Match against every key, then sort.
const keys = entries.map(([k]) => k);
const values = new Map(entries);
function linearGets(pattern: string): KVPair[] {
  const out: KVPair[] = [];
  for (const k of keys) if (matchBytes(pattern, k)) out.push(new KVPair(k, values.get(k)!));
  return out.sort((a, b) => (a.Key < b.Key ? -1 : 1));
}
const M = 50;
const linearMs = (() => {
  const t0 = performance.now();
  for (let i = 0; i < M; i++) linearGets(`/svc/${services[i % services.length]}/nodes/*`);
  return (performance.now() - t0) / M;
})();
console.log(`${N} × gets "/svc/X/nodes/*", linear scan (memkv's algorithm, extrapolated from ${M}): ${(linearMs * N).toFixed(0)} ms`);

// The whole template with a linear gets, for the end-to-end ratio.
const linearFuncs = { ...confdFuncMap(store), gets: goFunc(['string'], linearGets, { returnsError: true }) };
const tl = parse('nginx.tmpl', TEMPLATE, { funcs: linearFuncs });
const sub = TEMPLATE.replace('range $svc := lsdir "/svc"', 'range $svc := slice (lsdir "/svc") 0 50');
const tls = parse('nginx.tmpl', sub, { funcs: linearFuncs });
const t0 = performance.now();
tls.execute(null);
const linear50 = performance.now() - t0;
console.log(`render with linear gets, 50 of 1000 services: ${linear50.toFixed(0)} ms (≈ ${((linear50 * 1000) / 50).toFixed(0)} ms for all)`);
void tl;
