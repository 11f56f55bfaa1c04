// Data from etcd never reaches /bin/sh as syntax: a fan-out key whose name holds shell syntax
// runs nothing, however check_cmd quotes {{.src}} (the key is refused with an error naming it,
// the other keys are written), and a stage path that needs quoting reaches check_cmd as one
// word under every quoting.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { WatchAgent } from '../harness/watch-harness.js';

const QUOTINGS = { bare: '{{.src}}', single: "'{{.src}}'", double: '"{{.src}}"' };
const HOSTILE = ['a;touch pwned;', '$(touch pwned)', '`touch pwned`', "x';touch pwned;'", 'x";touch pwned;"', '-rf'];

describe('no key name reaches the shell', () => {
  let etcd: EtcdServer;
  etcdPerFile((started) => {
    etcd = started;
  });
  const onetime = (ws: Workspace) => runCli(['-onetime', '-backend', 'etcdv3', '-node', etcd.endpoints[0]!, '-confdir', ws.confdir], { cwd: ws.root });

  let n = 0;
  for (const [quoting, src] of Object.entries(QUOTINGS)) {
    test(`fan-out, check_cmd with ${quoting} ${src}: a key name holding shell syntax runs nothing and is refused by name; the others are written`, async () => {
      const prefix = `/q${n++}`;
      const ws = new Workspace({
        'conf.d/sites.toml': `[template]
prefix = "${prefix}"
src = "site.tmpl"
dest = "@OUT@/{{base .Key}}.conf"
range = "/sites/*"
check_cmd = ${JSON.stringify(`test -f ${src}`)}
`,
        'templates/site.tmpl': 'site {{.Value}}\n',
      });
      try {
        await etcd.put(`${prefix}/sites/good`, 'g');
        for (const name of HOSTILE) await etcd.put(`${prefix}/sites/${name}`, 'h');
        const r = await onetime(ws);
        assert.equal(existsSync(join(ws.root, 'pwned')), false, `a key name ran as a command:\n${r.stderr}`);
        assert.equal(readFileSync(join(ws.out, 'good.conf'), 'utf8'), 'site g\n');
        assert.deepEqual(ws.outFiles(), ['.tsconfd-manifest-sites.json', 'good.conf']);
        for (const name of HOSTILE) {
          assert.ok(r.stderr.includes(`dest for key ${JSON.stringify(`/sites/${name}`)}`), `no error names /sites/${name}:\n${r.stderr}`);
        }
        assert.match(r.stderr, /is not a safe file name .*key refused/);
        assert.notEqual(r.code, 0, 'the refused keys are errors');
      } finally {
        ws.cleanup();
      }
    });
  }

  test('-watch: hostile key names put while watching run nothing and are refused by name; a good key put after them is written', async () => {
    const ws = new Workspace({
      'conf.d/sites.toml': `[template]
prefix = "/w"
src = "site.tmpl"
dest = "@OUT@/{{base .Key}}.conf"
range = "/sites/*"
check_cmd = ${JSON.stringify(`cd @OUT@/.. && test -f '{{.src}}' && test -f "{{.src}}" && test -f {{.src}}`)}
`,
      'templates/site.tmpl': 'site {{.Value}}\n',
    });
    await etcd.put('/w/sites/first', '1');
    const agent = new WatchAgent(ws, ['-backend', 'etcdv3', '-node', etcd.endpoints[0]!]);
    try {
      await agent.until('first render', () => ws.outFiles().includes('first.conf'));
      for (const name of HOSTILE) await etcd.put(`/w/sites/${name}`, 'h');
      await etcd.put('/w/sites/last', '2');
      // The hostile keys were put before it, so they have been through a render by then.
      await agent.until('last.conf written', () => ws.outFiles().includes('last.conf'));
      assert.equal(existsSync(join(ws.root, 'pwned')), false, 'a key name ran as a command');
      await agent.until('every hostile key refused by name', () => HOSTILE.every((name) => agent.logText().includes(`dest for key ${JSON.stringify(`/sites/${name}`)}`)));
      assert.deepEqual(ws.outFiles(), ['.tsconfd-manifest-sites.json', 'first.conf', 'last.conf']);
    } finally {
      await agent.stop();
      ws.cleanup();
    }
  });

  test('a stage path that needs quoting reaches check_cmd as one word, however {{.src}} is quoted', async () => {
    const forms = Object.values(QUOTINGS).map((src) => `test -f ${src} && printf '%s\\n' ${src} >> @OUT@/checked`);
    const ws = new Workspace();
    try {
      const dir = join(ws.out, "it's a $(dir) `x`");
      mkdirSync(dir);
      const files: Record<string, string> = { 'templates/t.tmpl': '{{getv "/v"}}\n' };
      forms.forEach((form, i) => {
        files[`conf.d/r${i}.toml`] = `[template]\nprefix = "/paths"\nsrc = "t.tmpl"\ndest = ${JSON.stringify(join(dir, `r${i}.conf`))}\nkeys = ["/v"]\ncheck_cmd = ${JSON.stringify(form)}\n`;
      });
      ws.write(files);
      await etcd.put('/paths/v', 'value');
      const r = await onetime(ws);
      assert.equal(r.code, 0, r.stderr);
      for (let i = 0; i < forms.length; i++) assert.equal(readFileSync(join(dir, `r${i}.conf`), 'utf8'), 'value\n', forms[i]);
      const checked = readFileSync(join(ws.out, 'checked'), 'utf8').trimEnd().split('\n').sort();
      assert.deepEqual(checked.map((p) => p.replace(/\d+$/, 'N')), forms.map((_, i) => join(dir, `.r${i}.confN`)).sort());
    } finally {
      ws.cleanup();
    }
  });
});
