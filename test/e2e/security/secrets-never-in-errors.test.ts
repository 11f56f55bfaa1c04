// A secret never reaches an error text: Go's template errors quote the value a function chokes on
// (`strconv.Atoi: parsing "..."`), and a failing check_cmd's output (nginx -t quoting the line it rejects) is
// logged; neither may carry a line of a secret value. The error keeps its location and cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, ensureBuilt, runCli } from '../harness/onetime-harness.js';

ensureBuilt();

const PEM_LINES = ['MIIEpAIBAAKCAQEAqs3cr3tL1ne0ne', 'Zm9vYmFyc2VjcmV0bGluZXR3bw==xy', 'c2VjcmV0bGluZXRocmVlISEhIQ==zz'];
const PEM = `-----BEGIN RSA PRIVATE KEY-----\n${PEM_LINES.join('\n')}\n-----END RSA PRIVATE KEY-----\n`;

function workspace(): { ws: Workspace; keys: string } {
  const ws = new Workspace({
    'conf.d/count.toml': '[template]\nsrc = "count.tmpl"\ndest = "@OUT@/count.conf"\nkeys = ["/db"]\n',
    'templates/count.tmpl': 'workers = {{atoi (getv "/db/password")}}\n',
    'conf.d/named.toml': '[template]\nsrc = "named.tmpl"\ndest = "@OUT@/named.conf"\nkeys = ["/vault"]\nsecret_keys = ["/vault"]\n',
    'templates/named.tmpl': 'flag = {{parseBool (getv "/vault/unlock")}}\n',
    'conf.d/tls.toml': `[template]
src = "tls.tmpl"
dest = "@OUT@/tls.conf"
keys = ["/tls"]
check_cmd = "cat {{.src}}; exit 1"
`,
    'templates/tls.tmpl': 'ssl_key = {{getv "/tls/key_secret"}}\nport = 443\n',
    // Commit groups log their member's and their group's check output too.
    'conf.d/g1.toml': `[template]
src = "tls.tmpl"
dest = "@OUT@/g1/tls.conf"
keys = ["/tls"]
commit_group = "one"
check_cmd = "cat {{.src}}; exit 1"
`,
    'conf.d/g2.toml': `[template]
src = "tls.tmpl"
dest = "@OUT@/g2/tls.conf"
keys = ["/tls"]
commit_group = "two"
group_check_cmd = "find {{.root}} -type f -exec cat {} +; exit 1"
`,
  });
  mkdirSync(join(ws.out, 'g1'));
  mkdirSync(join(ws.out, 'g2'));
  const keys = join(ws.root, 'keys.yaml');
  writeFileSync(
    keys,
    `db:\n  password: "hunter2-s3cret-pw"\nvault:\n  unlock: "opensesame-9000"\ntls:\n  key_secret: ${JSON.stringify(PEM)}\n`,
  );
  return { ws, keys };
}

test('template errors and check_cmd output name the failure, never a secret value or any line of one', async () => {
  const { ws, keys } = workspace();
  try {
    const r = await runCli(['-onetime', '-log-level', 'debug', '-backend', 'file', '-file', keys, '-confdir', ws.confdir]);
    assert.equal(r.code, 1, r.stderr);
    const out = r.stdout + r.stderr;
    for (const secret of ['hunter2-s3cret-pw', 'opensesame-9000', ...PEM_LINES]) {
      assert.ok(!out.includes(secret), `${secret} leaked:\n${out}`);
    }
    // Still a located, actionable error.
    assert.match(r.stderr, /template: count\.tmpl:1:\d+: executing "count\.tmpl" at <atoi \(getv "\/db\/password"\)>: error calling atoi: strconv\.Atoi: parsing "<redacted>": invalid syntax/);
    assert.match(r.stderr, /error calling parseBool: strconv\.ParseBool: parsing "<redacted>": invalid syntax/);
    assert.equal(r.stderr.match(/ERROR "ssl_key = <redacted>\\nport = 443\\n"/g)?.length, 3, 'the check outputs are logged with the secret masked');
    assert.match(r.stderr, /commit group "two" not committed: group check failed: exit status 1/);
    assert.match(r.stderr, /Config check failed: exit status 1/);
    assert.deepEqual(ws.outFiles(), ['g1', 'g2'], 'nothing written');
    assert.deepEqual([...readdirSync(join(ws.out, 'g1')), ...readdirSync(join(ws.out, 'g2'))], []);
  } finally {
    ws.cleanup();
  }
});

test('a backend node written with a password (a URL, or user:password@host:port) is refused without echoing it', async () => {
  const { ws } = workspace();
  try {
    const r = await runCli(['-onetime', '-backend', 'redis', '-node', 'redis://:n0de-pa55word@127.0.0.1:1', '-confdir', ws.confdir]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes('n0de-pa55word'), r.stderr);
    assert.match(r.stderr, /invalid -node "redis:\/\/\*\*\*@127\.0\.0\.1:1"/);
    // Without a scheme: etcd's gRPC and ZooKeeper's client took it for a host (ZooKeeper's crashed the process).
    for (const backend of ['etcdv3', 'zookeeper', 'redis']) {
      const s = await runCli(['-onetime', '-backend', backend, '-node', 'u:n0de-pa55word@127.0.0.1:1', '-confdir', ws.confdir]);
      assert.equal(s.code, 1, `${backend}: ${s.stderr}`);
      assert.ok(!(s.stdout + s.stderr).includes('n0de-pa55word'), `${backend}: ${s.stderr}`);
      assert.match(s.stderr, /FATAL .*invalid -node "\*\*\*@127\.0\.0\.1:1"/, backend);
    }
  } finally {
    ws.cleanup();
  }
});
