// A resource spanning several prefixes renders one revision of all of them. On etcd before
// 3.4.24 (progress answers out of order with events) and through `etcd grpc-proxy` (no progress
// answers at all) a lagging prefix could only be confirmed by a read: one Range or Txn per agent
// per update. Sibling prefixes now share one etcd watcher over their covering range, whose every
// response settles all of them, so steady-state updates cost etcd no read at all. Counted on the
// members' own /metrics (grpc_server_handled_total of Range and Txn), directly and through the proxy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import etcd3 from 'etcd3';
import { startCluster, startGrpcProxy, type EtcdServer, type GrpcProxy } from '../../helpers/etcd.js';
import { Workspace, ensureBuilt } from '../harness/onetime-harness.js';
import { Agent } from '../harness/agent.js';
import { serviceResources } from '../harness/service-resources.js';

const SERVICES = 20;
const { service, tenResources, expected } = serviceResources('/r');

function filesMatch(ws: Workspace, values: Map<string, string>): boolean {
  for (let j = 0; j < 10; j++) {
    const path = join(ws.out, `r${j}.conf`);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== expected(values, [2 * j, 2 * j + 1])) return false;
  }
  return true;
}

/** Range and Txn calls the members have handled so far (every read an agent makes lands on a member, through the proxy too). */
async function readsHandled(cluster: EtcdServer): Promise<number> {
  let total = 0;
  for (const url of cluster.endpoints) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith('grpc_server_handled_total{')) continue;
      if (!/grpc_method="(Range|Txn)"/.test(line)) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

describe('-watch, resources spanning two prefixes each: no read per update', () => {
  let cluster: EtcdServer;
  let proxy: GrpcProxy;
  let writer: etcd3.Etcd3;
  const values = new Map<string, string>();
  const put = async (key: string, value: string) => {
    await writer.put(key).value(value);
    values.set(key, value);
  };

  before(async () => {
    ensureBuilt();
    cluster = await startCluster();
    proxy = await startGrpcProxy(cluster);
    // The writer uses Put, never Range or Txn: every counted read is an agent's.
    writer = new etcd3.Etcd3({ hosts: cluster.endpoints });
    for (let i = 0; i < SERVICES; i++) await put(`${service(i)}/n0`, 'init');
  });
  after(async () => {
    writer?.close();
    await proxy?.stop();
    await cluster?.stop();
  });

  for (const via of ['a member directly', 'etcd grpc-proxy'] as const) {
    test(`through ${via}: 100 single-key puts, every file at its last value, 0 Range/Txn`, { timeout: 120_000 }, async () => {
      const ws = tenResources();
      const node = via === 'etcd grpc-proxy' ? proxy.url : cluster.endpoints[0]!;
      const agent = new Agent(['-watch', '-backend', 'etcdv3', '-node', node, '-confdir', ws.confdir]);
      const converged = (what: string) => agent.waitFor(what, () => filesMatch(ws, values), 30_000);
      try {
        await converged('the first render');
        // A change that reaches a file proves the watch is up (start-up reads are behind us).
        await put(`${service(0)}/n1`, 'warm');
        await converged('the warm-up change');
        const before = await readsHandled(cluster);
        for (let i = 0; i < 100; i++) await put(`${service(i % SERVICES)}/n${(i * 7) % 6}`, `v${i}`);
        await converged('every key at its last value in every file');
        const reads = (await readsHandled(cluster)) - before;
        assert.equal(reads, 0, `${reads} Range/Txn for 100 updates:\n${agent.tail(20)}`);
      } finally {
        await agent.stop();
        ws.cleanup();
      }
    });
  }
});
