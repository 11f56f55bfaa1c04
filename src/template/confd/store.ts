// confd's key store (kelseyhightower/memkv v0.1.1, the version confd vendors), indexed.
//
// memkv keeps a Go map and answers every gets/getvs/ls/lsdir by scanning all keys. This store
// keeps the keys sorted by byte order and answers the same questions with the same results from
// binary searches: get/exists in O(log n); gets/getvs in O(log n + keys sharing the pattern's
// literal prefix); ls/lsdir in O(log n) per child, skipping whole subtrees.
//
// The indexed paths assume what storeKeyFor guarantees: every key is absolute and clean. A store
// given other keys answers ls/lsdir with memkv's own linear algorithm, so results never differ.
//
// Keys are handled internally as byte strings (UTF-8 bytes, one per char): sorting those with
// JS string order is Go's byte order, and path.Match runs on bytes as in Go. For ASCII keys the
// byte string is the key itself, so the common case costs nothing extra.

import { GO_TYPE, withGoType } from '../go/value.js';
import { coversAny, gallopBound, lowerBound, lowerBoundKey, mapsOneToOne, partitionPoint, prefixEnd, sortByBytes, storeKeyFor } from '../../keys/index.js';
import {
  clean,
  dir as pathDir,
  base as pathBase,
  isAscii,
  isCleanAbs,
  literalPrefix,
  compilePattern,
  matchCompiled,
  type CompiledPattern,
  toByteString,
  fromByteString,
} from '../../keys/gopath.js';

/** memkv.KVPair: a struct {Key, Value}; prints as {/key value}. */
export class KVPair {
  constructor(
    public Key: string,
    public Value: string,
  ) {}
}
Object.defineProperty(KVPair.prototype, GO_TYPE, { value: 'memkv.KVPair' });

export class KeyNotExistError extends Error {
  constructor(readonly key: string) {
    super(`key does not exist: ${key}`);
    this.name = 'KeyError';
  }
}

/** A key/value pair as a backend delivers it. */
export interface RawKeyValue {
  readonly key: string;
  readonly value: string;
}

/** Whether cp is the literal prefix followed by one final '*' (prefix as literalPrefix gives it). */
function isPrefixStar(cp: CompiledPattern, prefix: string): boolean {
  const c = cp.chunks;
  return c.length === 2 && c[0]!.literal && !c[0]!.star && c[0]!.chunk === prefix && c[1]!.star && c[1]!.chunk === '';
}

const SURROGATE = /[\ud800-\udfff]/;

const MEMO_LIMIT = 20_000;

/**
 * A memoized answer. ls/lsdir (kind l, d) depend on which keys exist under dependsOn; gets and
 * getvs (g, v) on the keys and values their pattern matches, and follow changes in place.
 */
type MemoEntry =
  | { readonly kind: 'l' | 'd'; readonly dependsOn: string; readonly result: string[] }
  | { readonly kind: 'g'; readonly dependsOn: string; readonly pattern: CompiledPattern; readonly result: KVPair[] }
  | { readonly kind: 'v'; readonly dependsOn: string; readonly pattern: CompiledPattern; readonly result: string[] };

const FROM_ARRAYS: unique symbol = Symbol('fromArrays');

export class KeyStore {
  /** Sorted byte strings of the keys. */
  private readonly bkeys: string[];
  /** The keys as JS strings, same order (=== bkeys when every key is ASCII). */
  private readonly keys: string[];
  private readonly values: string[];
  private readonly ascii: boolean;
  /** Every key absolute and clean: the indexed ls/lsdir apply. */
  private readonly regular: boolean;
  /**
   * Answers of gets/getvs/ls/lsdir by call, kept while the store is updated in place (watch mode:
   * a template asks the same questions on every render and one change invalidates few of them).
   * Each entry knows the byte prefix its answer depends on.
   */
  private readonly memo = new Map<string, MemoEntry>();
  /**
   * Made for one pass and dropped after it (SnapshotStores with `uses`): nothing renders from it
   * again, so what is compiled for it need not be kept (resource/render.ts).
   */
  transient = false;

  /**
   * entries: [storeKey, value], already prefix-stripped and cleaned (see storeKeyFor). Any order;
   * for a key given twice the last one wins.
   */
  constructor(entries: Iterable<readonly [string, string]>);
  /** @internal parallel arrays, owned by the store from now on; allClean: every key from storeKeyFor */
  constructor(entries: typeof FROM_ARRAYS, keys: string[], values: string[], allClean: boolean);
  constructor(entries: Iterable<readonly [string, string]> | typeof FROM_ARRAYS, keys?: string[], values?: string[], allClean = false) {
    let ks: string[];
    let vs: string[];
    if (entries === FROM_ARRAYS) {
      ks = keys!;
      vs = values!;
    } else {
      ks = [];
      vs = [];
      for (const [k, v] of entries) {
        ks.push(k);
        vs.push(v);
      }
    }
    let ascii = true;
    for (const k of ks) {
      if (!isAscii(k)) {
        ascii = false;
        break;
      }
    }
    const bs = ascii ? ks : ks.map(toByteString);
    let sorted = true;
    for (let i = 1; i < bs.length; i++) {
      if (!(bs[i - 1]! < bs[i]!)) {
        sorted = false;
        break;
      }
    }
    if (sorted) {
      this.bkeys = bs;
      this.keys = ks;
      this.values = vs;
    } else {
      const idx = bs.map((_, i) => i);
      // Stable, so among equal keys the last given stays last and wins below.
      idx.sort((i, j) => (bs[i]! < bs[j]! ? -1 : bs[i]! > bs[j]! ? 1 : i - j));
      const b2: string[] = [];
      const k2: string[] = [];
      const v2: string[] = [];
      for (const i of idx) {
        if (b2.length > 0 && b2[b2.length - 1] === bs[i]) {
          v2[v2.length - 1] = vs[i]!;
          continue;
        }
        b2.push(bs[i]!);
        k2.push(ks[i]!);
        v2.push(vs[i]!);
      }
      this.bkeys = b2;
      this.keys = ascii ? b2 : k2;
      this.values = v2;
    }
    this.ascii = ascii;
    this.regular = allClean || this.keys.every(isCleanAbs);
  }

  get size(): number {
    return this.bkeys.length;
  }

  /** All pairs in key order. */
  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i]!, this.values[i]!];
  }

  private indexOf(key: string): number {
    const b = this.ascii ? (isAscii(key) ? key : null) : toByteString(key);
    if (b === null) return -1;
    const i = lowerBound(this.bkeys, b);
    return i < this.bkeys.length && this.bkeys[i] === b ? i : -1;
  }

  private range(bytePrefix: string): [number, number] {
    if (bytePrefix === '') return [0, this.bkeys.length];
    const lo = lowerBound(this.bkeys, bytePrefix);
    const hi = gallopBound(this.bkeys, prefixEnd(bytePrefix), lo, this.bkeys.length);
    return [lo, hi];
  }

  /** memkv Exists: an exact lookup. */
  exists(key: string): boolean {
    return this.indexOf(key) >= 0;
  }

  /** memkv Get; throws KeyNotExistError. */
  get(key: string): KVPair {
    const i = this.indexOf(key);
    if (i < 0) throw new KeyNotExistError(key);
    return new KVPair(this.keys[i]!, this.values[i]!);
  }

  /** The value or undefined. */
  value(key: string): string | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.values[i];
  }

  /** memkv GetValue: the first default only when the key is missing. */
  getValue(key: string, defaults: readonly string[] = []): string {
    const i = this.indexOf(key);
    if (i >= 0) return this.values[i]!;
    if (defaults.length > 0) return defaults[0]!;
    throw new KeyNotExistError(key);
  }

  /**
   * The keys matching a path.Match pattern, in key order: [pattern compiled, its literal prefix,
   * indexes]. Throws BadPatternError. An empty store matches nothing without checking the
   * pattern (memkv never looks at it then): compiled is null.
   */
  private matchIndexes(pattern: string): [CompiledPattern | null, string, number[]] {
    const bp = toByteString(pattern);
    const prefix = literalPrefix(bp);
    if (this.bkeys.length === 0) return [null, prefix, []];
    const cp = compilePattern(bp);
    const [lo, hi] = this.range(prefix);
    const out: number[] = [];
    const bk = this.bkeys;
    if (isPrefixStar(cp, prefix)) {
      // "literal*" (a service's nodes): a key in the prefix range matches unless a '/' follows.
      for (let i = lo; i < hi; i++) if (bk[i]!.indexOf('/', prefix.length) < 0) out.push(i);
    } else {
      for (let i = lo; i < hi; i++) if (matchCompiled(cp, bk[i]!)) out.push(i);
    }
    return [cp, prefix, out];
  }

  /** memkv GetAll (gets): memkv.KVPairs sorted by key. */
  getAll(pattern: string): KVPair[] {
    const memoKey = 'g\u0000' + pattern;
    let out = this.memo.get(memoKey)?.result as KVPair[] | undefined;
    if (!out) {
      const [cp, prefix, idx] = this.matchIndexes(pattern);
      out = new Array<KVPair>(idx.length);
      for (let j = 0; j < idx.length; j++) out[j] = new KVPair(this.keys[idx[j]!]!, this.values[idx[j]!]!);
      // An empty store answers even a bad pattern: not kept, a key added later makes it fail.
      if (cp !== null) this.remember(memoKey, { kind: 'g', dependsOn: prefix, pattern: cp, result: out });
    }
    // A copy: Go's gets returns a fresh slice, and sortKVByLength sorts its argument in place.
    return withGoType(out.slice(), 'memkv.KVPairs');
  }

  /** memkv GetAllValues (getvs): the values sorted as bytes (not by key). */
  getAllValues(pattern: string): string[] {
    const memoKey = 'v\u0000' + pattern;
    let out = this.memo.get(memoKey)?.result as string[] | undefined;
    if (!out) {
      const [cp, prefix, idx] = this.matchIndexes(pattern);
      const values = new Array<string>(idx.length);
      for (let j = 0; j < idx.length; j++) values[j] = this.values[idx[j]!]!;
      out = sortByBytes(values);
      // An empty store answers even a bad pattern: not kept, a key added later makes it fail.
      if (cp !== null) this.remember(memoKey, { kind: 'v', dependsOn: prefix, pattern: cp, result: out });
    }
    return withGoType(out.slice(), '[]string');
  }

  /** memkv List (ls). */
  list(filePath: string): string[] {
    if (!this.regular) return withGoType(this.listLinear(filePath), '[]string');
    const memoKey = 'l\u0000' + filePath;
    let out = this.memo.get(memoKey)?.result as string[] | undefined;
    if (!out) {
      out = this.listIndexed(filePath);
      this.remember(memoKey, { kind: 'l', dependsOn: clean(this.ascii ? filePath : toByteString(filePath)), result: out });
    }
    return withGoType(out.slice(), '[]string');
  }

  private listIndexed(filePath: string): string[] {
    const seen = new Set<string>();
    const bpath = this.ascii ? filePath : toByteString(filePath);
    const bk = this.bkeys;
    if (this.indexOf(filePath) >= 0) seen.add(toByteString(pathBase(filePath)));
    const c = clean(bpath);
    if (c === '/') {
      // Only keys whose directory is "/": top-level leaves (and "/" itself).
      let [i, hi] = this.range('/');
      while (i < hi) {
        const k = bk[i]!;
        const slash = k.indexOf('/', 1);
        if (slash < 0) {
          if (k !== bpath) seen.add(firstTerm(stripKey(k, bpath)));
          i++;
        } else {
          i = lowerBound(bk, prefixEnd(k.slice(0, slash + 1)), i, hi);
        }
      }
    } else if (c.charCodeAt(0) === 47) {
      const dirPrefix = c + '/';
      let [i, hi] = this.range(dirPrefix);
      const exact = bpath === c;
      while (i < hi) {
        const k = bk[i]!;
        if (!exact) {
          if (k !== bpath) seen.add(firstTerm(stripKey(k, bpath)));
          i++;
          continue;
        }
        const slash = k.indexOf('/', dirPrefix.length);
        if (slash < 0) {
          seen.add(k.slice(dirPrefix.length));
          i++;
        } else {
          seen.add(k.slice(dirPrefix.length, slash));
          i = lowerBound(bk, prefixEnd(k.slice(0, slash + 1)), i, hi);
        }
      }
    }
    // A relative path lists nothing: no absolute key has a relative directory.
    return this.sortedOut(seen);
  }

  /** memkv ListDir (lsdir). */
  listDir(filePath: string): string[] {
    if (!this.regular) return withGoType(this.listDirLinear(filePath), '[]string');
    const memoKey = 'd\u0000' + filePath;
    let out = this.memo.get(memoKey)?.result as string[] | undefined;
    if (!out) {
      out = this.listDirIndexed(filePath);
      this.remember(memoKey, { kind: 'd', dependsOn: clean(this.ascii ? filePath : toByteString(filePath)), result: out });
    }
    return withGoType(out.slice(), '[]string');
  }

  private listDirIndexed(filePath: string): string[] {
    const seen = new Set<string>();
    const bpath = this.ascii ? filePath : toByteString(filePath);
    const c = clean(bpath);
    // Directories of absolute clean keys never start with "/" + "" + ..., nor with a relative term.
    if (c !== '/' && c.charCodeAt(0) === 47) {
      const dirPrefix = c + '/';
      const bk = this.bkeys;
      let [i, hi] = this.range(dirPrefix);
      while (i < hi) {
        const k = bk[i]!;
        const slash = k.indexOf('/', dirPrefix.length);
        if (slash < 0) {
          i++;
          continue;
        }
        if (k.startsWith(bpath)) seen.add(k.slice(dirPrefix.length, slash));
        i = k.startsWith(bpath) ? lowerBound(bk, prefixEnd(k.slice(0, slash + 1)), i, hi) : i + 1;
      }
    }
    return this.sortedOut(seen);
  }

  private remember(memoKey: string, entry: MemoEntry): void {
    // Templates building patterns from data could ask ever new questions: bound the memory.
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    // "/" lists the top level, which any key can change.
    this.memo.set(memoKey, entry.dependsOn === '/' ? { ...entry, dependsOn: '' } : entry);
  }

  /** Brings the memoized answers up to date with one change (the store is ASCII and regular). */
  private followMemo(k: string, existed: boolean, oldValue: string | undefined, v: string | undefined): void {
    for (const [mk, m] of this.memo) {
      if (!k.startsWith(m.dependsOn)) continue;
      if (m.kind !== 'g' && m.kind !== 'v') {
        // A new value under an existing key lists the same names.
        if (!(existed && v !== undefined)) this.memo.delete(mk);
        continue;
      }
      if (!matchCompiled(m.pattern, k)) continue;
      if (m.kind === 'g') {
        const r = m.result;
        const lo = partitionPoint(0, r.length, (i) => r[i]!.Key < k);
        const found = lo < r.length && r[lo]!.Key === k;
        if (v === undefined) {
          if (found) r.splice(lo, 1);
        } else if (found) r[lo] = new KVPair(k, v);
        else r.splice(lo, 0, new KVPair(k, v));
        continue;
      }
      // getvs: the values in byte order, which is JS order without surrogates.
      if ((oldValue !== undefined && SURROGATE.test(oldValue)) || (v !== undefined && SURROGATE.test(v)) || (existed && oldValue === undefined)) {
        this.memo.delete(mk);
        continue;
      }
      const r = m.result;
      if (existed) r.splice(lowerBound(r, oldValue!), 1);
      if (v !== undefined) r.splice(lowerBound(r, v), 0, v);
    }
  }

  /**
   * Applies changes in place (value undefined: deleted), keeping what the store would be if built
   * from scratch with the new keys. Keys are store keys. False, with nothing changed, when the
   * store cannot take them in place (a non-ASCII or unclean key): build a new one instead.
   */
  update(changes: ReadonlyArray<readonly [string, string | undefined]>): boolean {
    if (!this.ascii || !this.regular) return false;
    for (const [k] of changes) if (!isAscii(k) || !isCleanAbs(k)) return false;
    if (this.bkeys !== this.keys) return false;
    const ks = this.bkeys;
    for (const [k, v] of changes) {
      const i = lowerBound(ks, k);
      const found = i < ks.length && ks[i] === k;
      const oldValue = found ? this.values[i] : undefined;
      if (v === undefined) {
        if (!found) continue;
        ks.splice(i, 1);
        this.values.splice(i, 1);
      } else if (found) {
        if (oldValue === v) continue;
        this.values[i] = v;
      } else {
        ks.splice(i, 0, k);
        this.values.splice(i, 0, v);
      }
      if (this.memo.size > 0) {
        if (changes.length > MEMO_LIMIT) this.memo.clear();
        else this.followMemo(k, found, oldValue, v);
      }
    }
    return true;
  }

  private sortedOut(seen: Set<string>): string[] {
    const arr = [...seen].sort();
    return this.ascii ? arr : arr.map(fromByteString);
  }

  // memkv's own algorithms, for stores holding keys that are not absolute and clean.
  private listLinear(filePath: string): string[] {
    const m = new Set<string>();
    const prefix = pathToTerms(filePath);
    for (const k of this.keys) {
      if (k === filePath) {
        m.add(pathBase(k));
        continue;
      }
      const target = pathToTerms(pathDir(k));
      if (samePrefixTerms(prefix, target)) m.add(firstTerm(stripKey(k, filePath)));
    }
    return sortByBytes([...m]);
  }

  private listDirLinear(filePath: string): string[] {
    const m = new Set<string>();
    const prefix = pathToTerms(filePath);
    for (const k of this.keys) {
      if (!k.startsWith(filePath)) continue;
      const items = pathToTerms(pathDir(k));
      if (samePrefixTerms(prefix, items) && items.length - prefix.length >= 1) m.add(items[prefix.length]!);
    }
    return sortByBytes([...m]);
  }
}

function stripKey(key: string, prefix: string): string {
  let s = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  if (s.startsWith('/')) s = s.slice(1);
  return s;
}

function firstTerm(s: string): string {
  const i = s.indexOf('/');
  return i < 0 ? s : s.slice(0, i);
}

function pathToTerms(p: string): string[] {
  return clean(p).split('/');
}

function samePrefixTerms(prefix: string[], test: string[]): boolean {
  if (test.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== test[i]) return false;
  return true;
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
  private readonly kvs: readonly RawKeyValue[];
  private readonly memo = new Map<string, KeyStore>();
  /** Expected storeFor calls left per memo key, when the uses were given. */
  private readonly usesLeft: Map<string, number> | undefined;

  constructor(kvs: readonly RawKeyValue[], opts: { uses?: Iterable<{ readonly prefix: string; readonly keys: readonly string[] }> } = {}) {
    this.kvs = kvs;
    if (opts.uses) {
      this.usesLeft = new Map();
      for (const u of opts.uses) {
        const k = memoKeyOf(u.prefix, u.keys);
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
    const uniq = [...new Set(etcdKeys)].sort();
    const memoKey = memoKeyOf(prefix, uniq);
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
    const store = new KeyStore(FROM_ARRAYS, keys, values, true);
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

function memoKeyOf(prefix: string, etcdKeys: readonly string[]): string {
  return prefix + '\u0000' + [...new Set(etcdKeys)].sort().join('\u0000');
}

/** Where a pass takes each resource's store from. */
export interface StoreSource {
  storeFor(prefix: string, etcdKeys: readonly string[]): KeyStore;
}

/**
 * Stores kept across renders (watch mode): built once from a snapshot, then updated in place
 * with each change of the mirrors, so a render costs what its template asks, not the key count,
 * and answers the template asked before stay valid unless a change touched them.
 */
export class LiveStores implements StoreSource {
  private readonly stores = new Map<string, { prefix: string; etcdKeys: readonly string[]; store: KeyStore }>();

  /** `snapshot` gives the current keys of etcdKeys when a store must be built. */
  constructor(private readonly snapshot: (etcdKeys: readonly string[]) => readonly RawKeyValue[]) {}

  storeFor(prefix: string, etcdKeys: readonly string[]): KeyStore {
    const uniq = [...new Set(etcdKeys)].sort();
    const id = prefix + '\u0000' + uniq.join('\u0000');
    const hit = this.stores.get(id);
    if (hit) return hit.store;
    const kvs = this.snapshot(uniq);
    const store = new SnapshotStores(kvs).storeFor(prefix, uniq);
    // Only a store whose every key maps one to one onto a store key can follow changes in place.
    if (kvs.every((kv) => !coversAny(uniq, kv.key) || mapsOneToOne(kv.key, prefix))) this.stores.set(id, { prefix, etcdKeys: uniq, store });
    return store;
  }

  /** Etcd keys changed (value undefined: deleted); stores that cannot follow are dropped and rebuilt when next asked. */
  apply(keys: readonly string[], values: readonly (string | undefined)[]): void {
    for (const [id, s] of this.stores) {
      const changes: Array<[string, string | undefined]> = [];
      let ok = true;
      for (let i = 0; i < keys.length && ok; i++) {
        const k = keys[i]!;
        if (!coversAny(s.etcdKeys, k)) continue;
        if (!mapsOneToOne(k, s.prefix)) ok = false;
        else changes.push([storeKeyFor(k, s.prefix), values[i]]);
      }
      if (!ok || (changes.length > 0 && !s.store.update(changes))) this.stores.delete(id);
    }
  }

  clear(): void {
    this.stores.clear();
  }
}
