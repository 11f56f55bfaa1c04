// The operator-facing files checked by the tools that read them: the systemd unit by systemd-analyze, the
// Kubernetes manifests by their own cross references, and the sidecar resource and template by tsconfd's parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { parse as parseTemplate } from '../../../src/template/go/index.js';
import { confdFuncMap } from '../../../src/template/confd/funcs.js';
import { KeyStore } from '../../../src/template/confd/store.js';
import { parseReloadAction } from '../../../src/runtime/reload-actions.js';
import { parseListenAddress } from '../../../src/runtime/health.js';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

function systemdAnalyze(): string | undefined {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'systemd-analyze is not installed (Debian: systemd)';
  }
}
const noSystemd = systemdAnalyze();
if (noSystemd) console.log(`# SKIP systemd unit checks: ${noSystemd}`);

test('systemd-analyze verify accepts the unit', { skip: noSystemd }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const unit = readFileSync(join(examples, 'systemd/tsconfd.service'), 'utf8');
  // verify insists that ExecStart's program exists; the rest of the file is checked as written.
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/tsconfd /m);
  writeFileSync(join(dir, 'tsconfd.service'), unit.replace(/^ExecStart=\/usr\/local\/bin\/tsconfd /m, 'ExecStart=/bin/true '));
  const verify = spawnSync('systemd-analyze', ['verify', join(dir, 'tsconfd.service')], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '', 'no warnings (unknown keys, bad values)');

  const security = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', join(dir, 'tsconfd.service')], { encoding: 'utf8' });
  const exposure = /Overall exposure level for tsconfd\.service: (\d+\.\d+)/.exec(security.stdout + security.stderr);
  assert.ok(exposure, security.stdout + security.stderr);
  console.log(`# systemd-analyze security: exposure ${exposure[1]}`);
  assert.ok(Number(exposure[1]) <= 3.0, `exposure ${exposure[1]} stays "OK" or better`);
  for (const key of ['Restart=always', 'KillMode=mixed', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ExecReload=/bin/kill -HUP $MAINPID']) {
    assert.ok(unit.includes(`\n${key}\n`), key);
  }
});

test('the unit as written: the seed\'s /tmp dest is visible to nginx, its documentation is ours, no stale paths', () => {
  const unit = readFileSync(join(examples, 'systemd/tsconfd.service'), 'utf8');
  const seedDest = /^dest = "(.*)"$/m.exec(readFileSync(join(examples, '../conf.d/nginx.toml'), 'utf8'))![1]!;
  assert.equal(seedDest, '/tmp/myapp.conf');
  // A private /tmp would hold the file where nginx never looks; ProtectSystem=strict needs the directory writable.
  assert.match(unit, /^PrivateTmp=no$/m);
  const writable = /^ReadWritePaths=(.*)$/m.exec(unit)![1]!.split(' ');
  assert.ok(writable.includes('/tmp'), writable.join(' '));
  assert.doesNotMatch(unit, /kelseyhightower/);
  for (const doc of [unit, readFileSync(join(examples, 'operations.md'), 'utf8'), readFileSync(join(examples, '../Dockerfile'), 'utf8')]) {
    assert.doesNotMatch(doc, /proto\//);
  }
  assert.doesNotMatch(readFileSync(join(examples, 'operations.md'), 'utf8'), /draft/i);
  // How the binary gets to ExecStart's path is written down.
  assert.match(unit, /^#\s+install -m 0755 dist\/tsconfd \/usr\/local\/bin\/tsconfd$/m);
});

interface Container {
  name: string;
  args?: string[];
  ports?: Array<{ name: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
}

test('the Kubernetes pod: volumes, ports and probes refer to what exists', () => {
  const pod = parseYaml(readFileSync(join(examples, 'kubernetes/pod.yaml'), 'utf8'));
  const configMap = parseYaml(readFileSync(join(examples, 'kubernetes/configmap.yaml'), 'utf8'));
  assert.equal(pod.kind, 'Pod');
  assert.equal(pod.spec.shareProcessNamespace, true);
  const volumes = new Map<string, { configMap?: { name: string; items: Array<{ key: string; path: string }> } }>(
    pod.spec.volumes.map((v: { name: string }) => [v.name, v]),
  );
  const containers: Container[] = pod.spec.containers;
  for (const c of containers) {
    for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${c.name} mounts undefined volume ${m.name}`);
  }
  const resources = volumes.get('tsconfd-resources')?.configMap;
  assert.equal(resources?.name, configMap.metadata.name);
  for (const item of resources!.items) assert.ok(item.key in configMap.data, `configmap key ${item.key}`);

  const tsconfd = containers.find((c) => c.name === 'tsconfd')!;
  const http = tsconfd.args!.find((a) => a.startsWith('-http='))!.slice('-http='.length);
  const { host, port } = parseListenAddress(http);
  assert.equal(host, '', 'probes reach the pod IP, so -http listens on every interface');
  const portName = tsconfd.ports!.find((p) => p.containerPort === port)!.name;
  assert.deepEqual(tsconfd.livenessProbe?.httpGet, { path: '/healthz', port: portName });
  assert.deepEqual(tsconfd.readinessProbe?.httpGet, { path: '/readyz', port: portName });
  // Each container's readiness is its own: nginx by its port, tsconfd by /readyz (lenient by default: see health.ts).
  const nginx = containers.find((c) => c.name === 'nginx')!;
  assert.deepEqual(nginx.readinessProbe?.httpGet, { path: '/', port: 'http' });
  assert.ok(!tsconfd.args!.includes('-strict-readiness'), 'an etcd hiccup must not take nginx out of service');
  assert.ok(tsconfd.args!.some((a) => a.startsWith('-stale-after=')), 'a stalled etcd is noticed');
  assert.ok(port < 9100 || port > 9999, 'not in the exporters\' port range');
  // The image is a placeholder: the README next to it says how to build and push exactly that name.
  const image = (containers.find((c) => c.name === 'tsconfd') as unknown as { image: string }).image;
  const readme = readFileSync(join(examples, 'kubernetes/README.md'), 'utf8');
  assert.ok(readme.includes(`podman build -t ${image} .`) && readme.includes(`podman push ${image}`), image);
  assert.equal(pod.metadata.annotations['prometheus.io/port'], String(port));

  // The shared volume: tsconfd writes where nginx reads, and reads nginx's pid file where nginx writes it.
  const mountOf = (c: string, volume: string) =>
    containers.find((x) => x.name === c)!.volumeMounts!.find((m) => m.name === volume)!.mountPath;
  const resource = parseToml(configMap.data['upstreams.toml']) as { template: { dest: string; reload: string } };
  assert.ok(resource.template.dest.startsWith(`${mountOf('tsconfd', 'nginx-conf-d')}/`));
  assert.equal(mountOf('nginx', 'nginx-conf-d'), mountOf('tsconfd', 'nginx-conf-d'));
  const reload = parseReloadAction(resource.template.reload);
  assert.equal(reload.kind, 'signal');
  assert.equal(reload.kind === 'signal' && reload.pidfile, `${mountOf('tsconfd', 'nginx-run')}/nginx.pid`);
  assert.equal(mountOf('nginx', 'nginx-run'), '/tmp', 'nginx-unprivileged writes /tmp/nginx.pid');
});

test('the sidecar template renders nginx upstreams with the confd functions', () => {
  const configMap = parseYaml(readFileSync(join(examples, 'kubernetes/configmap.yaml'), 'utf8'));
  const text: string = configMap.data['upstreams.conf.tmpl'];
  const render = (entries: Array<[string, string]>) =>
    parseTemplate('upstreams.conf.tmpl', text, { funcs: confdFuncMap(new KeyStore(entries)) }).execute(null);
  const two = render([
    ['/backends/a', '10.0.0.1:80'],
    ['/backends/b', '10.0.0.2:80'],
  ]);
  assert.match(two, /upstream web \{\n {4}server 10\.0\.0\.1:80;\n {4}server 10\.0\.0\.2:80;\n\}/);
  assert.match(render([]), /upstream web \{\n {4}server 127\.0\.0\.1:65535 down;\n\}/, 'no backends still gives a valid upstream');
});
