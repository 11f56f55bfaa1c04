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
// A store is an immutable view: once built nothing changes it, so a render that holds one reads one
// revision from start to end. The next revision is a new store (withChanges), which shares nothing
// mutable with this one and carries forward the memoized answers no change touched; a store nobody
// holds any more may hand its arrays over to the next one instead of having them copied (retire). Which backend
// keys a resource's store holds is decided outside the template layer (runtime/views.ts).
//
// Keys are handled internally as byte strings (UTF-8 bytes, one per char): sorting those with
// JS string order is Go's byte order, and path.Match runs on bytes as in Go. For ASCII keys the
// byte string is the key itself, so the common case costs nothing extra.

import { GO_TYPE, withGoType } from '../go/value.js';
import { gallopBound, lowerBound, partitionPoint, prefixEnd, sortByBytes } from '../../keys/index.js';
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

/** Whether cp is the literal prefix followed by one final '*' (prefix as literalPrefix gives it). */
function isPrefixStar(cp: CompiledPattern, prefix: string): boolean {
  const c = cp.chunks;
  return c.length === 2 && c[0]!.literal && !c[0]!.star && c[0]!.chunk === prefix && c[1]!.star && c[1]!.chunk === '';
}

const SURROGATE = /[\ud800-\udfff]/;

const MEMO_LIMIT = 20_000;

/**
 * A memoized answer. ls/lsdir (kind l, d) depend on which keys exist under dependsOn; gets and
 * getvs (g, v) on the keys and values their pattern matches. A result array is never changed once
 * memoized (the next store follows a change with a copy), so stores may share entries.
 */
type MemoEntry =
  | { readonly kind: 'l' | 'd'; readonly dependsOn: string; readonly result: string[] }
  | { readonly kind: 'g'; readonly dependsOn: string; readonly pattern: CompiledPattern; readonly result: KVPair[] }
  | { readonly kind: 'v'; readonly dependsOn: string; readonly pattern: CompiledPattern; readonly result: string[] };

const FROM_ARRAYS: unique symbol = Symbol('fromArrays');
/** Arrays already sorted by byte order, unique, ASCII, absolute and clean: nothing to check. */
const DERIVED: unique symbol = Symbol('derived');

export class KeyStore {
  /** Sorted byte strings of the keys. */
  private bkeys: string[];
  /** The keys as JS strings, same order (=== bkeys when every key is ASCII). */
  private keys: string[];
  private values: string[];
  private readonly ascii: boolean;
  /** Every key absolute and clean: the indexed ls/lsdir apply. */
  private readonly regular: boolean;
  /**
   * Answers of gets/getvs/ls/lsdir by call, carried forward to the next revision's store (watch
   * mode: a template asks the same questions on every render and one change invalidates few of
   * them). Each entry knows the byte prefix its answer depends on.
   */
  private memo = new Map<string, MemoEntry>();
  /**
   * Made for one pass and dropped after it (SnapshotStores with `uses`, runtime/views.ts): nothing
   * renders from it again, so what is compiled for it need not be kept (resource/render.ts).
   */
  transient = false;
  /**
   * The values the changes that made this store (withChanges) replaced or deleted, by key: what the
   * previous render may have written. A deleted or rotated secret's old value is known this way, so a
   * diff of the old file can mask it (resource/audit.ts). Empty for a store built from scratch.
   */
  replacedValues: ReadonlyArray<readonly [string, string]> = [];

  /**
   * entries: [storeKey, value], already prefix-stripped and cleaned (see storeKeyFor). Any order;
   * for a key given twice the last one wins.
   */
  constructor(entries: Iterable<readonly [string, string]>);
  /** @internal parallel arrays, owned by the store from now on; allClean: every key from storeKeyFor */
  constructor(entries: typeof FROM_ARRAYS | typeof DERIVED, keys: string[], values: string[], allClean: boolean);
  constructor(entries: Iterable<readonly [string, string]> | typeof FROM_ARRAYS | typeof DERIVED, keys?: string[], values?: string[], allClean = false) {
    if (entries === DERIVED) {
      this.bkeys = this.keys = keys!;
      this.values = values!;
      this.ascii = this.regular = true;
      return;
    }
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

  /**
   * A view given as parallel arrays (store keys as storeKeyFor makes them, and their values), which
   * the store owns from now on: nobody may change them after. allClean: every key from storeKeyFor.
   */
  static fromArrays(keys: string[], values: string[], allClean: boolean): KeyStore {
    return new KeyStore(FROM_ARRAYS, keys, values, allClean);
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

  /**
   * The store holding these changes on top of this one's keys (value undefined: deleted), as a
   * store built from scratch with the new keys would answer. Keys are store keys, applied in order.
   * Undefined when the new store cannot be derived (a non-ASCII or unclean key): build one from
   * scratch instead. Memoized answers no change touches are carried over (shared: never changed).
   *
   * - `retire` false: this store stays as it was (a render may hold it); the new one costs a copy
   *   of the key and value arrays.
   * - `retire` true, when nobody holds this store any more: the new store takes its arrays over,
   *   and this one is left empty. No copy: at 100k keys a copy per render was ~1.6 MB of large-object
   *   garbage, ~30 MB more peak RSS over a run (bench-watch xlarge).
   */
  withChanges(changes: ReadonlyArray<readonly [string, string | undefined]>, retire = false): KeyStore | undefined {
    if (!this.ascii || !this.regular || this.bkeys !== this.keys) return undefined;
    for (const [k] of changes) if (!isAscii(k) || !isCleanAbs(k)) return undefined;
    if (changes.length === 0) return this;
    const ks = retire ? this.bkeys : this.bkeys.slice();
    const vs = retire ? this.values : this.values.slice();
    const next = new KeyStore(DERIVED, ks, vs, true);
    const memo = changes.length > MEMO_LIMIT ? new Map<string, MemoEntry>() : retire ? this.memo : new Map(this.memo);
    if (retire) {
      this.bkeys = this.keys = this.values = [];
      this.memo = new Map();
    }
    /** Memo entries whose result is already a copy owned by `next`. */
    const owned = new Set<string>();
    const replaced: Array<readonly [string, string]> = [];
    for (const [k, v] of changes) {
      const i = lowerBound(ks, k);
      const found = i < ks.length && ks[i] === k;
      const oldValue = found ? vs[i] : undefined;
      if (oldValue !== undefined && oldValue !== v) replaced.push([k, oldValue]);
      if (v === undefined) {
        if (!found) continue;
        ks.splice(i, 1);
        vs.splice(i, 1);
      } else if (found) {
        if (oldValue === v) continue;
        vs[i] = v;
      } else {
        ks.splice(i, 0, k);
        vs.splice(i, 0, v);
      }
      if (memo.size > 0) followMemo(memo, owned, k, found, oldValue, v);
    }
    next.memo = memo;
    next.replacedValues = replaced;
    return next;
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

/**
 * Brings memoized answers up to date with one change of a store key (ASCII, regular store). A result
 * not in `owned` is shared with an older store: it is copied before it changes.
 */
function followMemo(memo: Map<string, MemoEntry>, owned: Set<string>, k: string, existed: boolean, oldValue: string | undefined, v: string | undefined): void {
  for (const [mk, m] of memo) {
    if (!k.startsWith(m.dependsOn)) continue;
    if (m.kind !== 'g' && m.kind !== 'v') {
      // A new value under an existing key lists the same names.
      if (!(existed && v !== undefined)) memo.delete(mk);
      continue;
    }
    if (!matchCompiled(m.pattern, k)) continue;
    if (m.kind === 'g') {
      const r = owned.has(mk) ? m.result : m.result.slice();
      const lo = partitionPoint(0, r.length, (i) => r[i]!.Key < k);
      const found = lo < r.length && r[lo]!.Key === k;
      if (v === undefined) {
        if (found) r.splice(lo, 1);
      } else if (found) r[lo] = new KVPair(k, v);
      else r.splice(lo, 0, new KVPair(k, v));
      if (!owned.has(mk)) {
        memo.set(mk, { ...m, result: r });
        owned.add(mk);
      }
      continue;
    }
    // getvs: the values in byte order, which is JS order without surrogates.
    if ((oldValue !== undefined && SURROGATE.test(oldValue)) || (v !== undefined && SURROGATE.test(v)) || (existed && oldValue === undefined)) {
      memo.delete(mk);
      continue;
    }
    const r = owned.has(mk) ? m.result : m.result.slice();
    if (existed) r.splice(lowerBound(r, oldValue!), 1);
    if (v !== undefined) r.splice(lowerBound(r, v), 0, v);
    if (!owned.has(mk)) {
      memo.set(mk, { ...m, result: r });
      owned.add(mk);
    }
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
