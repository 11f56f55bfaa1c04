// `-watch` with resources whose keys nest inside one another (one mirror serves them all): a change
// re-renders every resource whose keys cover it, whichever resource's key gave the mirror its prefix,
// and a change that covers none of a resource's keys leaves that resource's file alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import etcd3 from 'etcd3';
import { startEtcd, type EtcdServer } from '../../helpers/etcd.js';
import { Agent } from '../harness/agent.js';
import { Workspace } from '../harness/onetime-harness.js';

let etcd: EtcdServer;
let client: InstanceType<typeof etcd3.Etcd3>;
before(async () => {
  etcd = await startEtcd();
  client = new etcd3.Etcd3({ hosts: etcd.endpoints });
});
after(async () => {
  client?.close();
  await etcd?.stop();
});

/** name -> its keys; each renders every key it reads as "key=value" lines, and logs each write to writes-<name>. */
const RESOURCES: Record<string, string> = { outer: '/n/app', inner: '/n/app/db', sibling: '/n/app/dbx', other: '/n/other' };

function workspace(): Workspace {
  const files: Record<string, string> = {};
  for (const [name, key] of Object.entries(RESOURCES)) {
    files[`conf.d/${name}.toml`] = `[template]
src = "${name}.tmpl"
dest = "@OUT@/${name}.conf"
keys = ["${key}"]
reload_cmd = "echo write >> @OUT@/../writes-${name}"
`;
    files[`templates/${name}.tmpl`] = `{{range gets "${key}/*"}}{{.Key}}={{.Value}}\n{{end}}{{range gets "${key}/*/*"}}{{.Key}}={{.Value}}\n{{end}}`;
  }
  return new Workspace(files);
}

test('a change re-renders every resource whose keys cover it, and no other', async () => {
  for (const key of ['/n/app/web', '/n/app/db/main', '/n/app/dbx/replica', '/n/other/x']) await client.put(key).value('0');
  const ws = workspace();
  const agent = new Agent(['-watch', '-confdir', ws.confdir, '-backend', 'etcdv3', '-node', etcd.endpoints[0]!]);
  const file = (name: string) => {
    const path = join(ws.out, `${name}.conf`);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };
  const writes = (name: string) => ws.lines(`writes-${name}`).length;
  try {
    await agent.waitFor('first render of all four', () => Object.keys(RESOURCES).every((n) => writes(n) === 1));
    assert.equal(file('outer'), '/n/app/web=0\n/n/app/db/main=0\n/n/app/dbx/replica=0\n');
    assert.equal(file('inner'), '/n/app/db/main=0\n');

    // Inside "/n/app/db": outer and inner; "/n/app/dbx" only shares the letters.
    await client.put('/n/app/db/main').value('1');
    await agent.waitFor('outer and inner rewritten', () => writes('outer') === 2 && writes('inner') === 2);
    assert.equal(file('inner'), '/n/app/db/main=1\n');
    assert.match(file('outer'), /\/n\/app\/db\/main=1\n/);

    await client.put('/n/app/dbx/replica').value('2');
    await agent.waitFor('outer and sibling rewritten', () => writes('outer') === 3 && writes('sibling') === 2);
    assert.equal(file('sibling'), '/n/app/dbx/replica=2\n');

    await client.put('/n/other/x').value('3');
    await agent.waitFor('other rewritten', () => writes('other') === 2);
    assert.equal(file('other'), '/n/other/x=3\n');

    // The four changes above reached each file once; nothing else was written meanwhile.
    assert.deepEqual(
      Object.keys(RESOURCES).map((n) => [n, writes(n)]),
      [
        ['outer', 3],
        ['inner', 2],
        ['sibling', 2],
        ['other', 2],
      ],
    );
  } finally {
    await agent.stop();
    ws.cleanup();
  }
});
