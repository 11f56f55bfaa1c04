// A render reads one revision from start to end (issue 11): the mirrors publish an immutable view
// and a render keeps the one it took, while 1,000 puts arrive during it. The render is a fan-out of
// 20 files, each written after its own check_cmd; the first check holds the render until every put
// has reached the agent. A store that followed the changes in place would give the files written
// after that check the newer values.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const ITEMS = 20;
const PUTS = 1_000;
const item = (i: number) => `i${String(i).padStart(2, '0')}`;

test('a render sees exactly one revision while 1,000 puts arrive during it', async () => {
  const client = new etcd3.Etcd3({ hosts: [...etcd.endpoints] });
  await client.put('/one/rev').value('0');
  for (let i = 0; i < ITEMS; i++) await client.put(`/one/items/${item(i)}`).value('v0');
  const ws = new Workspace({
    // Every file prints the whole revision it was rendered from: /rev and every item's value.
    'conf.d/items.toml': `[template]
prefix = "/one"
src = "item.tmpl"
dest = "@OUT@/{{base .Key}}.conf"
range = "/items/*"
keys = ["/rev"]
check_cmd = "sh @OUT@/../gate.sh {{.src}}"
`,
    'templates/item.tmpl': 'rev={{getv "/rev"}}{{range gets "/items/*"}} {{base .Key}}={{.Value}}{{end}}\n',
  });
  const history = join(ws.root, 'history');
  const gate = join(ws.root, 'gate');
  // Records the staged file, then waits while the gate exists (at most 50 s, within -command-timeout: the test removes it).
  writeFileSync(join(ws.root, 'gate.sh'), `cat "$1" >> "${history}"\nn=0\nwhile [ -e "${gate}" ] && [ $n -lt 5000 ]; do sleep 0.01; n=$((n+1)); done\n`);
  const lines = () => (existsSync(history) ? readFileSync(history, 'utf8').trim().split('\n') : []);
  const a = new WatchAgent(ws, ['-backend', 'etcdv3', '-node', etcd.endpoints[0]!]);
  try {
    const first = (rev: string, value: string) => `rev=${rev}${[...Array(ITEMS).keys()].map((i) => ` ${item(i)}=${value}`).join('')}`;
    await a.until('first render', () => lines().length === ITEMS);
    assert.ok(lines().every((l) => l === first('0', 'v0')));
    rmSync(history);

    // The render of revision R: its first file's check holds it.
    writeFileSync(gate, '');
    await client.put('/one/rev').value('1');
    await a.until('the render held at its first check', () => lines().length === 1);
    const held = first('1', 'v0');
    assert.equal(lines()[0], held);

    // 1,000 puts while it is held: /rev and the items' values, every one a new revision.
    let last = 0;
    for (let n = 1; n <= PUTS; n++) {
      const put = n % 2 === 0 ? client.put('/one/rev').value(String(n)) : client.put(`/one/items/${item(n % ITEMS)}`).value(`v${n}`);
      last = Number((await put).header.revision);
    }
    // Every put has reached the agent's mirror before the render goes on.
    const seen = () => Math.max(0, ...a.log.map((l) => Number(/key\(s\) changed at revision (\d+)/.exec(l)?.[1] ?? 0)));
    await a.until(`the agent saw revision ${last}`, () => seen() >= last);
    rmSync(gate);

    // The held render's other files: the revision it took, not the one the puts made meanwhile.
    await a.until('the held render ended', () => lines().length >= ITEMS);
    const rendered = lines().slice(0, ITEMS);
    const mixed = rendered.filter((l) => l !== held);
    assert.deepEqual(mixed, [], `${mixed.length} of ${ITEMS} files of one render show another revision`);

    // The next render holds every put, in every file.
    const values = new Map<string, string>();
    for (let n = 1; n <= PUTS; n++) if (n % 2 === 1) values.set(item(n % ITEMS), `v${n}`);
    const final = `rev=${PUTS}${[...Array(ITEMS).keys()].map((i) => ` ${item(i)}=${values.get(item(i)) ?? 'v0'}`).join('')}`;
    await a.until('the next render', () => lines().length >= 2 * ITEMS);
    assert.deepEqual(
      lines().slice(ITEMS),
      Array(lines().length - ITEMS).fill(final),
    );
    // A check writes its history line before its file is renamed into place: the last rename may still be on its way.
    const onDisk = () => [...Array(ITEMS).keys()].map((i) => readFileSync(join(ws.out, `${item(i)}.conf`), 'utf8'));
    await a.until('every file renamed into place', () => onDisk().every((c) => c === final + '\n'));
  } finally {
    if (existsSync(gate)) rmSync(gate);
    await a.stop();
    ws.cleanup();
    client.close();
  }
});
