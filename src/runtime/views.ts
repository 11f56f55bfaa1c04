// The views a render reads: each resource's confd store (template/confd/store.ts), built from
// backend keys here, outside the template layer. A store is immutable: a render holds the one it
// was given from start to end, whatever arrives meanwhile.
//
// - SnapshotStores: the stores of one read (-onetime, -interval, `test`), sharing that read's keys.
// - MirrorViews: -watch. The mirrors' changes are kept per resource as the delta to the view last
//   published; a render that takes a view gets the last one when nothing changed, else a new one
//   derived from it with the delta (the memoized answers of its template carried over). So changes
//   arriving while a render holds a view build the next view, and nothing the render reads moves.
//   The new view copies the resource's keys only while a render still holds the last one (a
//   resource renders again only once its last render ended, so in practice never); otherwise it
//   takes the arrays of the one nobody holds. Never a copy per change.
import type { KeyValue } from '../backends/types.js';
import { coversAny, lowerBoundKey, mapsOneToOne, storeKeyFor } from '../keys/index.js';
import { KeyStore } from '../template/confd/store.js';

/** Where a pass takes each resource's store from. */
export interface StoreSource {
  storeFor(prefix: string, etcdKeys: readonly string[]): KeyStore;
}

/** One store per (prefix, keys): resources asking the same questions share it. */
function viewId(prefix: string, uniqKeys: readonly string[]): string {
  return prefix + '\u0000' + uniqKeys.join('\u0000');
}

function uniqueSorted(keys: readonly string[]): string[] {
  return [...new Set(keys)].sort();
}

/**
 * Builds the stores of several resources from one snapshot of the backend (kvs sorted by byte
 * order, as Backend.getValues returns them). Resources asking for the same prefix and the same
 * keys get the same store object; the snapshot itself is never copied.
 *
 * With `uses` (every storeFor call the pass will make: a -onetime pass, runtime/pass.ts), a store is
 * kept only until its last expected use and is marked transient: each resource's store, and the
 * answers it memoised, then die young instead of being copied by every scavenge until the pass ends
 * (-onetime, 100 resources of 120 keys: ~25 ms less CPU, bench/onetime-profile.md).
 */
export class SnapshotStores implements StoreSource {
  private readonly memo = new Map<string, KeyStore>();
  /** Expected storeFor calls left per memo key, when the uses were given. */
  private readonly usesLeft: Map<string, number> | undefined;

  constructor(
    private readonly kvs: readonly KeyValue[],
    opts: { uses?: Iterable<{ readonly prefix: string; readonly keys: readonly string[] }> } = {},
  ) {
    if (opts.uses) {
      this.usesLeft = new Map();
      for (const u of opts.uses) {
        const k = viewId(u.prefix, uniqueSorted(u.keys));
        this.usesLeft.set(k, (this.usesLeft.get(k) ?? 0) + 1);
      }
    }
  }

  /**
   * The store confd builds for a resource: every snapshot key equal to one of etcdKeys or below
   * it (k === K or k starts with K + "/"; etcdKeys are path.Join(prefix, key) as confd forms
   * them), seen through storeKeyFor(k, prefix). Two snapshot keys that clean to the same store
   * key: the later in byte order wins (confd's choice depends on Go map order).
   */
  storeFor(prefix: string, etcdKeys: readonly string[]): KeyStore {
    const uniq = uniqueSorted(etcdKeys);
    const memoKey = viewId(prefix, uniq);
    const hit = this.memo.get(memoKey);
    if (hit) {
      if (this.usesLeft) this.used(memoKey);
      return hit;
    }
    const ranges: Array<[number, number]> = [];
    for (const k of uniq) {
      const exact = this.find(k);
      if (exact >= 0) ranges.push([exact, exact + 1]);
      // confd's etcdv3 filter: k === K or k starts with K + "/" (K itself when it ends in "/").
      const fixed = k.endsWith('/') ? k : k + '/';
      const lo = lowerBoundKey(this.kvs, fixed);
      const hi = lowerBoundKey(this.kvs, fixed.slice(0, -1) + '0');
      if (lo < hi) ranges.push([lo, hi]);
    }
    ranges.sort((a, b) => a[0] - b[0]);
    const keys: string[] = [];
    const values: string[] = [];
    let next = 0;
    for (const [lo, hi] of ranges) {
      for (let i = Math.max(lo, next); i < hi; i++) {
        const kv = this.kvs[i]!;
        keys.push(storeKeyFor(kv.key, prefix));
        values.push(kv.value);
      }
      next = Math.max(next, hi);
    }
    const store = KeyStore.fromArrays(keys, values, true);
    if (this.usesLeft) {
      store.transient = true;
      if (this.used(memoKey)) this.memo.set(memoKey, store);
    } else this.memo.set(memoKey, store);
    return store;
  }

  /** Counts one use of the store under memoKey; whether more are expected (else it is forgotten). */
  private used(memoKey: string): boolean {
    const left = (this.usesLeft!.get(memoKey) ?? 0) - 1;
    if (left > 0) {
      this.usesLeft!.set(memoKey, left);
      return true;
    }
    this.usesLeft!.delete(memoKey);
    this.memo.delete(memoKey);
    return false;
  }

  private find(key: string): number {
    const i = lowerBoundKey(this.kvs, key);
    return i < this.kvs.length && this.kvs[i]!.key === key ? i : -1;
  }
}

interface Followed {
  readonly prefix: string;
  readonly etcdKeys: readonly string[];
  /** The view last handed out: never changed. */
  published: KeyStore;
  /** Renders holding `published` now (HeldViews not yet released). */
  holds: number;
  /** Changes since `published`, as store keys, in arrival order (value undefined: deleted). */
  delta: Array<[string, string | undefined]>;
}

/**
 * A delta longer than this (and than the view) is dropped with its view: the next render builds
 * one from the mirrors instead. Bounds the memory of a resource that does not render for a while
 * (guarded, or waiting for a prefix to be re-read).
 */
const MAX_DELTA = 4_096;

/**
 * -watch: the mirrors' published views, one per resource scope. `apply` records a change of the
 * mirrors (the mirrors call it before anyone hears of the change); `hold` hands a render the views
 * of the mirrors as they are now.
 */
export class MirrorViews {
  private readonly followed = new Map<string, Followed>();

  /** `read` gives the mirrors' current keys under etcdKeys (sorted by byte order), for a view built from scratch. */
  constructor(private readonly read: (etcdKeys: readonly string[]) => readonly KeyValue[]) {}

  /**
   * Takes the views of these scopes as the mirrors hold them now, for one render, which keeps them
   * until `release()`: meanwhile none of them is handed over to a later view (that one copies). A
   * scope where nothing changed since gets the same view again (its template's memoized answers go on).
   */
  hold(scopes: ReadonlyArray<{ readonly prefix: string; readonly keys: readonly string[] }>): HeldViews {
    const taken: Array<[string, Followed, KeyStore]> = [];
    for (const s of scopes) {
      const f = this.publish(s.prefix, s.keys);
      if (f.holds >= 0) f.holds++;
      taken.push([viewId(f.prefix, f.etcdKeys), f, f.published]);
    }
    return new HeldViews(
      taken.map(([id, , store]) => [id, store]),
      () => {
        for (const [, f, store] of taken) if (f.published === store && f.holds > 0) f.holds--;
      },
    );
  }

  /** Brings the view of (prefix, etcdKeys) up to date, building it if it is not followed. */
  private publish(prefix: string, etcdKeys: readonly string[]): Followed {
    const uniq = uniqueSorted(etcdKeys);
    const id = viewId(prefix, uniq);
    const f = this.followed.get(id);
    if (f) {
      if (f.delta.length === 0) return f;
      const next = f.published.withChanges(f.delta, f.holds === 0);
      if (next) {
        f.published = next;
        f.delta = [];
        f.holds = 0;
        return f;
      }
      this.followed.delete(id);
    }
    const kvs = this.read(uniq);
    const store = new SnapshotStores(kvs).storeFor(prefix, uniq);
    const built: Followed = { prefix, etcdKeys: uniq, published: store, holds: 0, delta: [] };
    // Only a view whose every key maps one to one onto a store key can be followed by deltas; another
    // one is built afresh each time (holds -1: never handed over).
    if (kvs.every((kv) => !coversAny(uniq, kv.key) || mapsOneToOne(kv.key, prefix))) this.followed.set(id, built);
    else built.holds = -1;
    return built;
  }

  /** Records a change of the mirrors for the views it touches; views that cannot follow it are dropped (rebuilt when next taken). */
  apply(change: { readonly keys: readonly string[]; readonly values: readonly (string | undefined)[] }): void {
    const { keys, values } = change;
    for (const [id, f] of this.followed) {
      let ok = true;
      for (let i = 0; i < keys.length && ok; i++) {
        const k = keys[i]!;
        if (!coversAny(f.etcdKeys, k)) continue;
        if (!mapsOneToOne(k, f.prefix)) ok = false;
        else f.delta.push([storeKeyFor(k, f.prefix), values[i]]);
      }
      if (!ok || (f.delta.length > MAX_DELTA && f.delta.length > f.published.size)) this.followed.delete(id);
    }
  }

  clear(): void {
    this.followed.clear();
  }
}

/** The views one render took (MirrorViews.hold), for processResources: the render reads these and nothing else. */
export class HeldViews implements StoreSource {
  private readonly held: Map<string, KeyStore>;
  private released = false;

  constructor(
    held: ReadonlyArray<readonly [string, KeyStore]>,
    private readonly onRelease: () => void,
  ) {
    this.held = new Map(held);
  }

  storeFor(prefix: string, etcdKeys: readonly string[]): KeyStore {
    if (this.released) throw new Error('views read after their render released them');
    const store = this.held.get(viewId(prefix, uniqueSorted(etcdKeys)));
    if (!store) throw new Error(`no view was taken for ${prefix} ${etcdKeys.join(', ')} before the render`);
    return store;
  }

  /** The render is over: it reads none of these views any more. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}
