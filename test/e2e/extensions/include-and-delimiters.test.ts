// include "x.tmpl" [data] (and Handlebars partials) and left_delimiter/right_delimiter, end to end against a real
// etcd: includes from subdirectories with data, `..` and cycles refused with a located error and nothing written,
// discover_keys following includes, -watch re-rendering when only an included file changes; a Prometheus-style
// template whose output keeps its own {{ }} rendered with [[ ]], and a fan-out dest with the same delimiters.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdServer } from '../../helpers/etcd.js';
import { until } from '../../helpers/wait.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';

describe('include and custom delimiters, against etcd', () => {
  let etcd: EtcdServer;
  etcdPerFile(async (server) => {
    etcd = server;
    await etcd.put('/app/upstream/a', '10.0.0.1:80');
    await etcd.put('/app/upstream/b', '10.0.0.2:80');
    await etcd.put('/app/name', 'shop');
    await etcd.put('/alerts/rules/HighLoad', 'node_load1 > 4');
    await etcd.put('/alerts/rules/DiskFull', 'disk_free < 0.1');
  });
  const node = () => etcd.endpoints[0]!;
  const onetime = (ws: Workspace) => runCli(['-onetime', '-backend', 'etcdv3', '-node', node(), '-confdir', ws.confdir]);

  test('include from a subdirectory, with data and with the default dot; discover_keys follows it', async () => {
    const ws = new Workspace({
      'conf.d/app.toml': '[template]\nprefix = "/app"\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\ndiscover_keys = true\n',
      'templates/app.tmpl': 'server {{getv "/name"}}\n{{range gets "/upstream/*"}}{{include "parts/upstream.tmpl" .}}{{end}}{{include "parts/footer.tmpl"}}',
      'templates/parts/upstream.tmpl': '  upstream {{base .Key}} {{.Value}}\n',
      'templates/parts/footer.tmpl': '# {{getv "/name"}} dot={{.}}\n',
    });
    try {
      const r = await onetime(ws);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'server shop\n  upstream a 10.0.0.1:80\n  upstream b 10.0.0.2:80\n# shop dot=<no value>\n');
      const keys = await runCli(['-print-keys', '-confdir', ws.confdir]);
      assert.equal(keys.code, 0, keys.stderr);
      assert.match(keys.stdout, /\/app\/name\n\s+\/app\/upstream/);
    } finally {
      ws.cleanup();
    }
  });

  test('".." and absolute names are refused; nothing is written', async () => {
    for (const name of ['../conf.d/app.toml', '/etc/passwd']) {
      const ws = new Workspace({
        'conf.d/app.toml': '[template]\nprefix = "/app"\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/name"]\n',
        'templates/app.tmpl': `x\n{{include "${name}"}}\n`,
      });
      try {
        const r = await onetime(ws);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /app\.tmpl:2:\d+: executing "app\.tmpl" at <include .*>: error calling include: include: "[^"]+": (".." is|an absolute name is) refused/);
        assert.equal(existsSync(join(ws.out, 'app.conf')), false);
      } finally {
        ws.cleanup();
      }
    }
  });

  test('a computed include name is refused before anything renders (data never picks the template)', async () => {
    const ws = new Workspace({
      'conf.d/app.toml': '[template]\nprefix = "/app"\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/name"]\n',
      'templates/app.tmpl': 'x\n  {{include (printf "%s.tmpl" (getv "/name"))}}\n',
      'templates/shop.tmpl': 'chosen by a key\n',
    });
    try {
      const r = await onetime(ws);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Unable to process template .*app\.tmpl, template: app\.tmpl:2:\d+: include needs a string literal name/);
      assert.equal(existsSync(join(ws.out, 'app.conf')), false);
    } finally {
      ws.cleanup();
    }
  });

  test('a cycle is an error that names the chain and the call; the old file stays', async () => {
    const ws = new Workspace({
      'conf.d/app.toml': '[template]\nprefix = "/app"\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/name"]\n',
      'templates/app.tmpl': 'a {{include "b.tmpl"}}',
      'templates/b.tmpl': 'b\n  {{include "app.tmpl"}}',
    });
    writeFileSync(join(ws.out, 'app.conf'), 'good\n');
    try {
      const r = await onetime(ws);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /template: b\.tmpl:2:4: executing "b\.tmpl" at <include "app\.tmpl">: error calling include: include cycle: app\.tmpl → b\.tmpl → app\.tmpl/);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'good\n');
      // With discover_keys the cycle is found when the resource loads, at the include that closes it.
      ws.write({ 'conf.d/app.toml': '[template]\nprefix = "/app"\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\ndiscover_keys = true\n' });
      const d = await onetime(ws);
      assert.equal(d.code, 1, d.stderr);
      assert.match(d.stderr, /discover_keys: b\.tmpl:2:4: include cycle: app\.tmpl → b\.tmpl → app\.tmpl/);
    } finally {
      ws.cleanup();
    }
  });

  test('Handlebars: {{> parts/x.hbs}} renders the same file tree; a partial cycle is refused', async () => {
    const ws = new Workspace({
      'conf.d/app.toml': '[template]\nprefix = "/app"\nsrc = "app.hbs"\ndest = "@OUT@/app.conf"\nkeys = ["/name", "/upstream"]\n',
      'templates/app.hbs': 'server {{getv "/name"}}\n{{#each (gets "/upstream/*")}}{{> parts/upstream.hbs}}{{/each}}',
      'templates/parts/upstream.hbs': '  upstream {{base Key}} {{Value}}\n',
    });
    try {
      const r = await onetime(ws);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'server shop\n  upstream a 10.0.0.1:80\n  upstream b 10.0.0.2:80\n');
      ws.write({ 'templates/parts/upstream.hbs': '{{> app.hbs}}' });
      const c = await onetime(ws);
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stderr, /parts\/upstream\.hbs:1:1: include cycle: app\.hbs → parts\/upstream\.hbs → app\.hbs/);
    } finally {
      ws.cleanup();
    }
  });

  test('-watch: a change to an included file alone re-renders the resource', async () => {
    const ws = new Workspace({
      'conf.d/app.toml': '[template]\nprefix = "/app"\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/name"]\n',
      'templates/app.tmpl': '{{include "inc/name.tmpl"}}',
      'templates/inc/name.tmpl': 'v1 {{getv "/name"}}\n',
    });
    const agent = spawnCli(['-watch', '-backend', 'etcdv3', '-node', node(), '-confdir', ws.confdir]);
    const out = join(ws.out, 'app.conf');
    const read = () => (existsSync(out) ? readFileSync(out, 'utf8') : '');
    try {
      await until('the first render', () => read() === 'v1 shop\n', 15_000, agent.stderr);
      ws.write({ 'templates/inc/name.tmpl': 'v2 {{getv "/name"}}\n' });
      await until('the render after the included file changed', () => read() === 'v2 shop\n', 15_000, agent.stderr);
    } finally {
      await agent.stop();
      ws.cleanup();
    }
  });

  test('left_delimiter/right_delimiter: the output keeps its own {{ }}; a fan-out dest uses the same pair', async () => {
    const ws = new Workspace({
      'conf.d/alerts.toml':
        '[template]\nprefix = "/alerts"\nsrc = "rule.tmpl"\ndest = "@OUT@/[[base .Key]].rules"\nrange = "/rules/*"\n' +
        'left_delimiter = "[["\nright_delimiter = "]]"\n',
      'templates/rule.tmpl': '- alert: [[base .Key]]\n  expr: [[.Value]]\n  summary: "{{ $labels.instance }} [[- " fired" ]]"\n[[- /* a comment */]]\n',
    });
    try {
      const r = await onetime(ws);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(ws.outFiles().filter((f) => f.endsWith('.rules')), ['DiskFull.rules', 'HighLoad.rules']);
      assert.equal(
        readFileSync(join(ws.out, 'HighLoad.rules'), 'utf8'),
        '- alert: HighLoad\n  expr: node_load1 > 4\n  summary: "{{ $labels.instance }} fired"\n',
      );
      // A resource with {{ }} in a delimiter-less confd template is unchanged: {{ still means an action there.
      ws.write({ 'conf.d/alerts.toml': '[template]\nprefix = "/alerts"\nsrc = "rule.tmpl"\ndest = "@OUT@/[[base .Key]].rules"\nrange = "/rules/*"\n' });
      const plain = await onetime(ws);
      assert.equal(plain.code, 1);
      assert.match(plain.stderr, /template\.dest must be a template/);
    } finally {
      ws.cleanup();
    }
  });
});
