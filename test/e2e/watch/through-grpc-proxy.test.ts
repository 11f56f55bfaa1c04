// A fleet's set-up: agents watch a 3-member cluster through `etcd grpc-proxy` (etcd's own
// watch-coalescing proxy, which picks watch ids itself, answers no progress request and fills
// watch headers in from its own broadcasts). The same promises are checked against a member
// directly: T=1 and T=10 resources follow 100 puts with none missed, a change made while the
// endpoint is down reaches the file once it is back, /readyz stays ready while nothing changes,
// and a compaction of the history the watch needs is handled by a re-read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import etcd3 from 'etcd3';
import { startCluster, startGrpcProxy, type EtcdServer, type GrpcProxy } from '../../helpers/etcd.js';
import { Workspace, ensureBuilt } from '../harness/onetime-harness.js';
import { Agent } from '../harness/agent.js';
import { serviceResources } from '../harness/service-resources.js';
import { sleep } from '../../helpers/wait.js';

const SERVICES = 20;
const { service, template: TEMPLATE, tenResources, expected } = serviceResources('/f');

/** T=1: one resource over every service. */
function oneResource(): Workspace {
  return new Workspace({
    'conf.d/all.toml': `[template]\nsrc = "all.tmpl"\ndest = "@OUT@/all.conf"\nkeys = ["/f/svc"]\n`,
    'templates/all.tmpl': TEMPLATE,
  });
}

function read(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Every file of both workspaces holds exactly the final values (the T=1 file all of them, each T=10 file its two services). */
function filesMatch(one: Workspace, ten: Workspace, values: Map<string, string>): boolean {
  if (read(join(one.out, 'all.conf')) !== expected(values, [...Array(SERVICES).keys()])) return false;
  for (let j = 0; j < 10; j++) if (read(join(ten.out, `r${j}.conf`)) !== expected(values, [2 * j, 2 * j + 1])) return false;
  return true;
}

function mismatch(one: Workspace, ten: Workspace, values: Map<string, string>): string {
  const want = expected(values, [...Array(SERVICES).keys()]).split('\n');
  const got = (read(join(one.out, 'all.conf')) ?? '').split('\n');
  const stale = [...Array(10).keys()].filter((j) => read(join(ten.out, `r${j}.conf`)) !== expected(values, [2 * j, 2 * j + 1])).map((j) => `r${j}.conf`);
  return `T=1 file lines wrong or missing: ${JSON.stringify(want.filter((l) => !got.includes(l)).slice(0, 10))}; T=10 files wrong or missing: ${JSON.stringify(stale)}`;
}

for (const via of ['grpc-proxy', 'member'] as const) {
  describe(`-watch through ${via === 'grpc-proxy' ? 'etcd grpc-proxy in front of a 3-member cluster' : 'one member of the cluster, directly'}`, () => {
    let cluster: EtcdServer;
    let proxy: GrpcProxy | undefined;
    let writer: etcd3.Etcd3;
    /** The -node every agent is given. */
    let node: string;
    const values = new Map<string, string>();
    const put = async (key: string, value: string) => {
      await writer.put(key).value(value);
      values.set(key, value);
    };
    /** Takes the agents' endpoint away (the proxy, or the member they talk to) and brings it back. */
    const endpointDown = () => (proxy ? proxy.kill() : cluster.members[0]!.kill());
    const endpointUp = () => (proxy ? proxy.start() : cluster.members[0]!.start());

    before(async () => {
      ensureBuilt();
      cluster = await startCluster();
      if (via === 'grpc-proxy') proxy = await startGrpcProxy(cluster);
      node = proxy?.url ?? cluster.endpoints[0]!;
      // The registry writes to the cluster itself, as a fleet's services do.
      writer = new etcd3.Etcd3({ hosts: cluster.endpoints });
      for (let i = 0; i < SERVICES; i++) await put(`${service(i)}/n0`, 'init');
    });
    after(async () => {
      writer?.close();
      await proxy?.stop();
      await cluster?.stop();
    });

    const startAgents = async (extra: string[] = []) => {
      const one = oneResource();
      const ten = tenResources();
      const agents = [one, ten].map((ws) => new Agent(['-watch', '-backend', 'etcdv3', '-node', node, '-confdir', ws.confdir, ...extra]));
      const stop = async () => {
        await Promise.all(agents.map((a) => a.stop()));
        one.cleanup();
        ten.cleanup();
      };
      const detail = () => `${mismatch(one, ten, values)}\nT=1 agent:\n${agents[0]!.tail(15)}\nT=10 agent:\n${agents[1]!.tail(15)}`;
      const converged = (what: string, timeoutMs = 30_000) => agents[0]!.waitFor(what, () => filesMatch(one, ten, values), timeoutMs, detail);
      return { one, ten, agents, stop, converged };
    };

    test('T=1 and T=10 resources follow 100 puts: every key ends at its last value', { timeout: 120_000 }, async () => {
      const run = await startAgents();
      try {
        await run.converged('the first render');
        // Spread over every service, some keys written several times: only the last value counts.
        for (let i = 0; i < 100; i++) await put(`${service(i % SERVICES)}/n${(i * 7) % 6}`, `v${i}`);
        await run.converged('every key at its last value in every file');
        for (const a of run.agents) assert.equal(a.count(/no answer to watch requests|watch broken/), 0, a.tail());
      } finally {
        await run.stop();
      }
    });

    test('a change made while the endpoint is down reaches the file once it is back', { timeout: 120_000 }, async () => {
      const run = await startAgents();
      try {
        await run.converged('the first render');
        await endpointDown();
        await run.agents[0]!.waitFor('the broken watch noticed', () => run.agents[0]!.count(/etcd watch broken/) > 0, 30_000);
        await put(`${service(3)}/n1`, 'while-down');
        await endpointUp();
        await run.converged('the change made while down');
      } finally {
        await run.stop();
      }
    });

    test('/readyz stays ready while nothing changes (-stale-after 2s)', { timeout: 120_000 }, async () => {
      const run = await startAgents(['-http', '127.0.0.1:0', '-stale-after', '2s']);
      try {
        await run.converged('the first render');
        for (const a of run.agents) await a.waitFor('the -http address', () => a.url !== '');
        const readyz = async (a: Agent) => (await fetch(`${a.url}/readyz`)).status;
        for (const a of run.agents) await a.waitFor('/readyz 200', async () => (await readyz(a)) === 200);
        // An observation window, not a wait for a condition: four times -stale-after with no change,
        // long enough for a progress request to go unanswered and the long-interval read to take over.
        const until = Date.now() + 8_000;
        while (Date.now() < until) {
          for (const a of run.agents) assert.equal(await readyz(a), 200, `/readyz went unready while nothing changed:\n${a.tail(20)}`);
          await sleep(250);
        }
      } finally {
        await run.stop();
      }
    });

    test('history compacted while the endpoint was down: the agent re-reads and the change reaches the file', { timeout: 120_000 }, async () => {
      const run = await startAgents();
      try {
        await run.converged('the first render');
        await endpointDown();
        await run.agents[0]!.waitFor('the broken watch noticed', () => run.agents[0]!.count(/etcd watch broken/) > 0, 30_000);
        await put(`${service(5)}/n2`, 'before-compaction');
        await put(`${service(5)}/n2`, 'after-compaction');
        const head = Number((await writer.get('/none').exec()).header.revision);
        await cluster.etcdctl(['compact', String(head)]);
        await endpointUp();
        await run.converged('the change made before the compaction');
        if (proxy) {
          // Every member kept running: the watch resumed from a revision the cluster had compacted away.
          for (const a of run.agents) assert.ok(a.count(/was compacted/) > 0, `no compaction seen:\n${a.tail(20)}`);
        }
      } finally {
        await run.stop();
      }
    });
  });
}
