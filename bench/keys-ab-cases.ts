// The cases bench/keys-ab.mjs times (A: an older tree's store and prefix cover; B: this tree's).
import { createRequire } from 'node:module';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const require = createRequire(import.meta.url);
const ds = require('/work/shared/perf/lib/dataset.js') as { entries(size: { services: number; nodes: number }): Iterable<[string, string]> };
const entries = [...ds.entries({ services: 1000, nodes: 10 })];
const kvs = entries.map(([key, value]) => ({ key, value })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
const services = [...new Set(entries.map(([k]) => k.split('/')[2]!))];

type KV = { key: string; value: string };
interface Stores {
  storeFor(prefix: string, keys: readonly string[]): { readonly size: number };
}
export interface Side {
  name: string;
  store: { KeyStore: typeof import('../src/template/confd/store.js').KeyStore };
  /** A pass's store builder (template/confd/store.ts before, runtime/views.ts now). */
  snapshotStores: (kvs: KV[]) => Stores;
  /** -watch's stores following changes: the changes are recorded, then every store is taken for a render. */
  followingStores: (read: (keys: readonly string[]) => KV[]) => Stores & { follow(keys: string[], values: string[]): void };
  cover: (prefixes: readonly string[]) => string[];
}

let sink = 0;
// Each case sets up (untimed) and returns the timed part.
const cases: Record<string, (s: Side) => () => void> = {
  // 200k exact lookups (getv / exists), hits and misses.
  'getv+exists x200k': (s) => {
    const store = new s.store.KeyStore(entries);
    const ports = services.map((svc) => `/svc/${svc}/port`);
    const nodes = services.map((svc, i) => `/svc/${svc}/nodes/n-${String(i % 13).padStart(3, '0')}`);
    return () => {
      for (let i = 0; i < 100_000; i++) {
        sink += store.getValue(ports[i % ports.length]!).length;
        if (store.exists(nodes[(i * 7) % nodes.length]!)) sink++;
      }
    };
  },
  // Every service's gets and ls, then getvs over all 12k keys (a fresh store: no memoized answers).
  'gets+lsdir per service, getvs all': (s) => {
    const store = new s.store.KeyStore(entries);
    return () => {
      sink += store.listDir('/svc').length;
      for (const svc of services) {
        sink += store.getAll(`/svc/${svc}/nodes/*`).length;
        sink += store.list(`/svc/${svc}/nodes`).length;
      }
      sink += store.getAllValues('/svc/*/nodes/*').length;
    };
  },
  // A pass's store build: 1000 resources, one service each, plus one over everything.
  'SnapshotStores.storeFor x1001': (s) => {
    const stores = s.snapshotStores(kvs);
    return () => {
      for (const svc of services) sink += stores.storeFor('/', [`/svc/${svc}`]).size;
      sink += stores.storeFor('/', ['/svc']).size;
    };
  },
  // -watch: 200 stores follow 2000 changed keys, then each is taken once (LiveStores.apply before, MirrorViews now).
  'follow 2000 changes x200 stores': (s) => {
    const live = s.followingStores((keys) => kvs.filter((kv) => keys.some((k) => kv.key === k || kv.key.startsWith(k + '/'))));
    for (const svc of services.slice(0, 200)) live.storeFor('/', [`/svc/${svc}`]);
    const keys: string[] = [];
    const values: string[] = [];
    for (let i = 0; i < 2000; i++) {
      keys.push(`/svc/${services[(i * 7) % services.length]}/nodes/n-${String(i % 10).padStart(3, '0')}`);
      values.push(`v${i}`);
    }
    return () => {
      live.follow(keys, values);
      for (const svc of services.slice(0, 200)) sink += live.storeFor('/', [`/svc/${svc}`]).size;
    };
  },
  // The prefix cover of 3000 resource keys (mirror.ts's coveringPrefixes before, minimalCover now).
  'prefix cover of 3000 keys': (s) => {
    const keys: string[] = [];
    for (const svc of services) keys.push(`/svc/${svc}`, `/svc/${svc}/nodes`, `/svc/${svc}/port`);
    return () => {
      sink += s.cover(keys).length;
    };
  },
};

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[a.length >> 1]!;
}

export function run(sides: Side[]): void {
  console.log(`keys A/B: ${entries.length} keys, ${ROUNDS} rounds alternating A and B (medians; loaded machine: compare within this run only)`);
  for (const [label, setUp] of Object.entries(cases)) {
    if (process.env.CASE && !label.includes(process.env.CASE)) continue;
    const times = sides.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS + 2; r++) {
      for (let i = 0; i < sides.length; i++) {
        const side = r % 2 === 0 ? i : sides.length - 1 - i;
        const timed = setUp(sides[side]!);
        const t0 = performance.now();
        timed();
        const dt = performance.now() - t0;
        if (r >= 2) times[side]!.push(dt); // two warm-up rounds
      }
    }
    const [a, b] = times.map(median) as [number, number];
    console.log(`${label.padEnd(42)} A ${a.toFixed(2).padStart(9)} ms   B ${b.toFixed(2).padStart(9)} ms   B/A ${(b / a).toFixed(3)}`);
  }
  if (sink === 0.5) console.log(sink);
}
