// The scenario users run: tsconfd -watch renders nginx's upstreams from a real etcd, validates each candidate
// with `nginx -t -c {{.src}}` and reloads a real nginx master; backends registered in etcd start receiving
// traffic through nginx, removed ones stop, and a value that fails `nginx -t` leaves nginx serving the old config.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasEtcd, startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';
import { Agent } from '../harness/agent.js';
import { ensureNginx, httpGet, Nginx, nginxFlags, nginxPreamble, startBackend } from '../harness/operations-harness.js';
import { until } from '../../helpers/wait.js';
import { writeFileWithDirs } from '../../helpers/files.js';

const nginx = ensureNginx();
const skip = 'skip' in nginx ? nginx.skip : !hasEtcd() ? 'etcd is not installed' : false;
if (skip) console.log(`# operations-nginx: skipped: ${skip}`);

let etcd: EtcdServer;
before(async () => {
  if (!skip) etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

test('nginx upstreams from etcd: add and remove backends, a config nginx -t refuses is never installed', { skip, timeout: 60_000 }, async (t) => {
  const bin = (nginx as { bin: string }).bin;
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-nginx-'));
  const prefix = join(root, 'nginx');
  const confdir = join(root, 'confdir');
  const web = new Nginx(bin, prefix);
  const port = await web.port;
  const b1 = await startBackend('b1');
  const b2 = await startBackend('b2');
  let agent: Agent | undefined;
  t.after(async () => {
    await agent?.stop();
    await web.stop();
    b1.server.close();
    b2.server.close();
    rmSync(root, { recursive: true, force: true });
  });
  const flags = (conf: string) => nginxFlags(prefix, conf).join(' ');
  writeFileWithDirs(join(confdir, 'conf.d/nginx.toml'), `[template]
prefix = "/web"
src = "nginx.conf.tmpl"
dest = "${web.conf}"
keys = ["/backends"]
check_cmd = "${bin} -t -q ${flags('{{.src}}')}"
reload_cmd = "${bin} -s reload ${flags(web.conf)}"
`);
  writeFileWithDirs(join(confdir, 'templates/nginx.conf.tmpl'), `${nginxPreamble(prefix)}
  upstream app {
{{- range gets "/backends/*"}}
    server {{.Value}} max_fails=0;
{{- else}}
    server 127.0.0.1:1 down;
{{- end}}
  }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://app; }
  }
}
`);
  // nginx starts on a placeholder; tsconfd's first render replaces it and reloads.
  writeFileWithDirs(web.conf, `${nginxPreamble(prefix)}  server { listen 127.0.0.1:${port}; location / { return 503; } }\n}\n`);
  await web.start();
  assert.equal((await web.get()).status, 503);

  await etcd.put('/web/backends/b1', b1.address);
  agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', confdir, '-http', '127.0.0.1:0']);
  const seen = async (n: number) => {
    const names = new Set<string>();
    for (let i = 0; i < n; i++) names.add((await web.get()).body);
    return names;
  };
  await agent.waitFor('b1 reachable through nginx', async () => (await web.get()).body === 'b1');

  await etcd.put('/web/backends/b2', b2.address);
  await agent.waitFor('b1 and b2 both served', async () => {
    const names = await seen(6);
    return names.has('b1') && names.has('b2');
  });

  await etcd.etcdctl(['del', '/web/backends/b1']);
  await agent.waitFor('only b2 served', async () => [...(await seen(6))].join() === 'b2');
  await web.settled();
  const b1Hits = b1.hits();
  assert.deepEqual([...(await seen(10))], ['b2'], agent.tail(60) + '\n' + web.errorLog());
  assert.equal(b1.hits(), b1Hits, 'the removed backend receives no more traffic');

  // A value nginx refuses: the check fails, the file and nginx stay as they were.
  const good = readFileSync(web.conf, 'utf8');
  await etcd.put('/web/backends/b3', '127.0.0.1:notaport');
  await agent.waitFor('the check failure', () => agent!.count(/Config check failed/) > 0);
  assert.equal(readFileSync(web.conf, 'utf8'), good);
  await web.settled();
  assert.deepEqual([...(await seen(6))], ['b2'], 'nginx still serves the old config');
  const metrics = parsePrometheusText((await httpGet(`${agent.url}/metrics`)).body);
  assert.equal(sampleValue(metrics, 'tsconfd_failures_total', { resource: 'nginx.toml', reason: 'check' }), 1);
  assert.ok(sampleValue(metrics, 'tsconfd_command_exits_total', { resource: 'nginx.toml', kind: 'check', code: '1' }) >= 1);
  assert.ok(sampleValue(metrics, 'tsconfd_writes_total', { resource: 'nginx.toml' }) >= 3);

  // Fixed: rendering resumes.
  await etcd.put('/web/backends/b3', b1.address);
  await agent.waitFor('b1 back as b3', async () => (await seen(6)).has('b1'));
  assert.equal(await agent.stop(), 0);
  await until('nginx still serving after tsconfd stopped', async () => (await web.get()).status === 200, 2_000);
});
