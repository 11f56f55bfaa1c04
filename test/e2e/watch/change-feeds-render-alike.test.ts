// Both kinds of change feed end to end (issue 11): the file backend says "these keys changed" (no
// revisions), etcd sends revisioned events; the same -watch runtime and its scheduler's quiescence
// window (-wait) handle both alike. A burst of five changes renders once, with its last values, in
// each agent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import etcd3 from 'etcd3';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { Workspace } from '../harness/onetime-harness.js';
import { WatchAgent } from '../harness/watch-harness.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

const workspace = () =>
  new Workspace({
    'conf.d/app.toml': `[template]
prefix = "/feeds"
src = "app.tmpl"
dest = "@OUT@/app.conf"
keys = ["/svc"]
reload_cmd = "cat @OUT@/app.conf >> @OUT@/../writes"
`,
    'templates/app.tmpl': '{{range gets "/svc/*"}}{{base .Key}}={{.Value}}\n{{end}}',
  });

test('a prefix-changed feed (file) and revisioned events (etcd) render a burst alike through the quiescence window', async () => {
  const wsFile = workspace();
  const wsEtcd = workspace();
  const keys = join(wsFile.root, 'keys.yaml');
  const yaml = (x: string, extra: number) => `feeds:\n  svc:\n    x: "${x}"\n${[...Array(extra).keys()].map((i) => `    k${i + 1}: "new"\n`).join('')}`;
  const writeKeys = (x: string, extra: number) => {
    writeFileSync(`${keys}.tmp`, yaml(x, extra));
    renameSync(`${keys}.tmp`, keys);
  };
  const client = new etcd3.Etcd3({ hosts: [...etcd.endpoints] });
  writeKeys('0', 0);
  await client.put('/feeds/svc/x').value('0');
  // A burst renders once, 1 s after its last change.
  const wait = ['-wait', '1s:20s'];
  const agents = [
    new WatchAgent(wsFile, ['-backend', 'file', '-file', keys, ...wait]),
    new WatchAgent(wsEtcd, ['-backend', 'etcdv3', '-node', etcd.endpoints[0]!, ...wait]),
  ];
  try {
    const reloaded = (a: WatchAgent) => a.ws.lines('writes').join('\n') + '\n';
    for (const a of agents) await a.until('first render', () => a.content() === 'x=0\n' && reloaded(a) === 'x=0\n');
    for (let i = 1; i <= 5; i++) {
      writeKeys(String(i), i);
      await client.put('/feeds/svc/x').value(String(i));
      await client.put(`/feeds/svc/k${i}`).value('new');
    }
    const want = 'k1=new\nk2=new\nk3=new\nk4=new\nk5=new\nx=5\n';
    // Each reload appends the file it saw, so the reload after the burst's render ends with `want`;
    // what came before it is every earlier render. Once each: the burst's changes all came within the window.
    for (const a of agents) await a.until('the burst rendered and reloaded', () => reloaded(a).endsWith(want), 20_000);
    for (const a of agents) assert.equal(reloaded(a), 'x=0\n' + want, a.logText());
    // Only etcd's mirror counts revisions; the file backend's stays at 0.
    assert.match(agents[1]!.logText(), /key\(s\) changed at revision \d+/);
    assert.doesNotMatch(agents[0]!.logText(), /key\(s\) changed at revision/);
    assert.match(agents[0]!.logText(), /key\(s\) changed \(event\)/);
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    wsFile.cleanup();
    wsEtcd.cleanup();
    client.close();
  }
});
