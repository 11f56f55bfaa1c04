// QA: command lines and config files the way operators moving from confd write them, through the
// built CLI against a real etcd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, runCli } from '../harness/onetime-harness.js';
import { spawnCli } from '../harness/cli-child.js';
import { etcdPerFile } from '../harness/etcd-per-file.js';
import { freePort, type EtcdServer } from '../../helpers/etcd.js';
import { sleep } from '../../helpers/wait.js';

let etcd: EtcdServer;
let node: string;
etcdPerFile(async (server) => {
  etcd = server;
  node = etcd.endpoints[0]!;
  await etcd.put('/op/db/url', 'db.example.com');
});

const files = {
  'conf.d/app.toml': '[template]\nsrc = "app.tmpl"\ndest = "@OUT@/app.conf"\nkeys = ["/op"]\n',
  'templates/app.tmpl': 'url={{getv "/op/db/url"}}\n',
};

test('every flag spelling of the same run renders the same file; the first -node dead does not matter', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const hostPort = node.replace(/^http:\/\//, '');
  const ws = new Workspace(files);
  try {
    const lines: string[][] = [
      ['-onetime', '-backend', 'etcdv3', '-node', node, '-confdir', ws.confdir],
      ['--onetime', '--backend', 'etcdv3', '--node', node, '--confdir', ws.confdir],
      ['-onetime', '-backend=etcdv3', `-node=${node}`, `-confdir=${ws.confdir}`],
      ['--onetime=true', '--backend=etcdv3', `--node=${dead}`, `--node=${node}`, `--confdir=${ws.confdir}`],
      ['-onetime', '-backend', 'etcdv3', '-node', dead, '-node', node, '-confdir', ws.confdir, '-log-level', 'debug'],
      // confd (clientv3) accepts host:port without a scheme.
      ['-onetime', '-backend', 'etcdv3', '-node', hostPort, '-confdir', ws.confdir],
    ];
    for (const args of lines) {
      writeFileSync(join(ws.out, 'app.conf'), 'old\n');
      const r = await runCli(args, { timeoutMs: 30_000 });
      assert.equal(r.code, 0, `${args.join(' ')}\n${r.stderr}`);
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'url=db.example.com\n', args.join(' '));
      assert.deepEqual(ws.outFiles(), ['app.conf']);
    }
  } finally {
    ws.cleanup();
  }
});

test('typos and bad values stop before touching anything, exit 2 as in Go flag parsing, with a usage hint', async () => {
  const ws = new Workspace(files);
  try {
    writeFileSync(join(ws.out, 'app.conf'), 'old\n');
    for (const bad of [['-onetim'], ['-intervall', '5'], ['-interval', 'ten'], ['-interval', '1.5'], ['-log-level', 'loud'], ['-node'], ['stray']]) {
      const r = await runCli(['-onetime', '-backend', 'etcdv3', '-node', node, '-confdir', ws.confdir, ...bad], { timeoutMs: 20_000 });
      assert.equal(r.code, 2, `${bad.join(' ')} accepted:\n${r.stderr}`);
      assert.match(r.stderr, /tsconfd -h/, bad.join(' '));
      assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'old\n');
    }
  } finally {
    ws.cleanup();
  }
});

async function runsAsWatcher(args: string[], env: Record<string, string>, ws: Workspace, value: string): Promise<void> {
  const cli = spawnCli(args, { env });
  const dest = join(ws.out, 'app.conf');
  try {
    const end = Date.now() + 10_000;
    while (Date.now() < end && !(existsSync(dest) && readFileSync(dest, 'utf8') === 'url=db.example.com\n')) await sleep(100);
    await etcd.put('/op/db/url', value);
    const end2 = Date.now() + 10_000;
    while (Date.now() < end2 && readFileSync(dest, 'utf8') !== `url=${value}\n`) await sleep(100);
    assert.equal(readFileSync(dest, 'utf8'), `url=${value}\n`, `not watching:\n${cli.stderr()}`);
  } finally {
    await etcd.put('/op/db/url', 'db.example.com');
    await cli.stop();
  }
}

test('confd.toml `watch = true` and CONFD_WATCH=true start the watcher without flags', async () => {
  const ws = new Workspace(files);
  try {
    const cfg = join(ws.root, 'confd.toml');
    writeFileSync(cfg, `backend = "etcdv3"\nnodes = ["${node}"]\nconfdir = "${ws.confdir}"\nwatch = true\nlog-level = "info"\n`);
    await runsAsWatcher(['-config-file', cfg], {}, ws, 'from-file-watch');
    await runsAsWatcher(['-confdir', ws.confdir], { CONFD_WATCH: 'true', CONFD_BACKEND: 'etcdv3', CONFD_NODE: node }, ws, 'from-env-watch');
  } finally {
    ws.cleanup();
  }
});

test('flags beat CONFD_* which beat confd.toml: -prefix picks the key set', async () => {
  await etcd.put('/fromfile/op/db/url', 'file');
  await etcd.put('/fromenv/op/db/url', 'env');
  await etcd.put('/fromflag/op/db/url', 'flag');
  const ws = new Workspace(files);
  try {
    const cfg = join(ws.root, 'confd.toml');
    writeFileSync(cfg, `backend = "etcdv3"\nnodes = ["${node}"]\nprefix = "/fromfile"\n`);
    const base = ['-onetime', '-config-file', cfg, '-confdir', ws.confdir];
    let r = await runCli(base, { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'url=file\n');
    r = await runCli(base, { env: { CONFD_PREFIX: '/fromenv' }, timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'url=env\n');
    r = await runCli([...base, '-prefix', '/fromflag'], { env: { CONFD_PREFIX: '/fromenv' }, timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws.out, 'app.conf'), 'utf8'), 'url=flag\n');
  } finally {
    ws.cleanup();
  }
});
