// -watch against real etcd: a key set that shrinks sharply (10 keys, then 1, in one revision) does not replace a
// destination whose resource sets max_shrink; /readyz and the log say so, and rendering resumes
// once the keys are back within the ratio. Without max_shrink the shrink renders, as in confd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Agent } from '../harness/agent.js';
import { httpGet } from '../harness/operations-harness.js';
import { writeFileWithDirs } from '../../helpers/files.js';

let etcd: EtcdServer;
etcdPerFile((started) => {
  etcd = started;
});

test('-watch: max_shrink = 0.5 keeps the file when 9 of 10 keys go; a resource without it renders the 1', { timeout: 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tsconfd-shrink-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const confdir = join(root, 'confdir');
  const resource = (name: string, extra: string) =>
    writeFileWithDirs(join(confdir, `conf.d/${name}.toml`), `[template]\nprefix = "/sh"\nsrc = "list.tmpl"\ndest = "${join(root, name)}.conf"\nkeys = ["/svc"]\n${extra}`);
  resource('guarded', 'max_shrink = 0.5\n');
  resource('plain', '');
  writeFileWithDirs(join(confdir, 'templates/list.tmpl'), '{{range gets "/svc/*/*"}}{{base .Key}}\n{{end}}');
  const lines = (name: string) => {
    const file = join(root, `${name}.conf`);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  };
  const key = (i: number) => `/sh/svc/${i === 0 ? 'keep' : 'gone'}/k${i}`;
  for (let i = 0; i < 10; i++) await etcd.put(key(i), String(i));

  const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', confdir, '-http', '127.0.0.1:0']);
  t.after(() => agent.stop());
  await agent.waitFor('both rendered', () => lines('guarded') === 10 && lines('plain') === 10 && agent.url !== '');

  // 9 of the 10 keys go in one revision (a mistaken delete of a prefix).
  await etcd.etcdctl(['del', '--prefix', '/sh/svc/gone/']);
  await agent.waitFor('the plain resource rendered the one key', () => lines('plain') === 1);
  await agent.waitFor('the guard logged', () => agent.count(/guarded\.conf: not rendered: .* now give 1 key\(s\), down from \d+: more than max_shrink 0\.5/) === 1);
  assert.equal(lines('guarded'), 10, 'a shrink from 10 keys to 1 replaced the guarded file');
  const ready = await httpGet(`${agent.url}/readyz`);
  const body = JSON.parse(ready.body) as { reasons: string[] };
  assert.ok(body.reasons.some((r) => r.startsWith('kept with too few keys') && r.includes('guarded.conf')), ready.body);

  // Back to 5 of 10: within half; it renders again.
  // Back to 5 of 10, one key at a time: 2, 3 and 4 are still too few; 5 is within half.
  for (let i = 1; i < 5; i++) await etcd.put(key(i), String(i));
  await agent.waitFor('rendering resumed', () => lines('guarded') === 5);
  assert.equal(agent.count(/guarded\.conf: 5 keys again; rendering resumes/), 1);
  assert.equal(await agent.stop(), 0);
});
