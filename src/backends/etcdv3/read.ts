// Reading whole prefixes from etcd v3 the way confd's GetValues answers, without its costs:
// each prefix K is one range read of every key starting with K, filtered to K itself and keys
// below "K/" (confd quirk 15), every page pinned to the revision of the first answer, paged by
// key (next page starts at lastKey + "\0") and never with a sort option: etcd 3.4 re-sorts the
// whole range on every page when asked to sort, and returns keys in byte order anyway.
import type { KeyValue, Snapshot } from '../types.js';
import { compareByKey, compareBytes, covers, minimalCover } from '../../keys/index.js';
import type { RangePage, RangeSpec } from './range-codec.js';

/** What reads need of a client: etcd3's pool (connection.ts) or node:http2 (unary.ts). */
export interface RangeReader {
  rangePage(spec: RangeSpec): Promise<RangePage>;
  /** Several ranges in one Txn: one round trip, at one revision, answers in request order. */
  rangePages(specs: readonly RangeSpec[]): Promise<RangePage[]>;
}

// etcd 3.4 counts the whole rest of the range for every page (RangeResponse.count), so small pages
// make a large read quadratic: for 102k keys etcd spent 310 ms of CPU with 5,000-key pages, 160 ms
// with 20,000 and 130 ms with 50,000 (one page: 120 ms). 50,000 keys of ~80 bytes are ~4 MB.
const PAGE_KEYS = 50_000;

/** The exclusive end of the range of keys that start with `prefix` (clientv3's GetPrefixRangeEnd). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): to the end of the key space.
  return Buffer.from([0]);
}

const COMPACTED = /required revision has been compacted/;

/**
 * All prefixes at one revision, keys sorted by bytes and de-duplicated: the current one, or `atRevision`
 * (a revision already reached; the answer then says `atRevision`, not the head).
 */
export async function readPrefixes(conn: RangeReader, prefixes: readonly string[], pageKeys = PAGE_KEYS, atRevision = 0): Promise<Snapshot> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readPinned(conn, minimalCover(prefixes), pageKeys, atRevision);
    } catch (e) {
      // A compaction between our pages invalidates the pinned revision: start over at the head.
      // A read at a given revision cannot start over: that revision is gone.
      if (attempt >= 3 || atRevision > 0 || !COMPACTED.test((e as Error).message)) throw e;
    }
  }
}

function rangeOf(prefix: string, revision: number, pageKeys: number): RangeSpec {
  const key = Buffer.from(prefix);
  return { key, rangeEnd: prefixRangeEnd(key), limit: pageKeys, revision };
}

// Prefixes' first pages go 128 to a Txn (etcd's default --max-txn-ops), as confd batches them:
// one round trip per prefix made 1000 prefixes cost about a second. The first Txn fixes the
// revision every later request is pinned to; prefixes with more than one page continue alone.
const TXN_OPS = 128;
const TXN_CONCURRENCY = 4;

async function readPinned(conn: RangeReader, distinct: readonly string[], pageKeys: number, atRevision: number): Promise<Snapshot> {
  if (distinct.length === 0 && atRevision === 0) {
    // No prefix asked: still report where the store is, so callers can watch from there.
    const page = await conn.rangePage({ key: Buffer.from([0]), rangeEnd: Buffer.alloc(0), countOnly: true });
    return { kvs: [], revision: page.revision };
  }
  const chunks: KeyValue[][] = new Array(distinct.length);
  let revision = 0;
  // Pages one prefix on from its first page, every page pinned to `revision`.
  const finish = async (i: number, first: RangePage): Promise<void> => {
    const prefix = distinct[i]!;
    const end = prefixRangeEnd(Buffer.from(prefix));
    const kvs = first.kvs;
    let page = first;
    while (page.more && page.lastKey) {
      const from = Buffer.concat([page.lastKey, ZERO]);
      page = await conn.rangePage({ key: from, rangeEnd: end, limit: pageKeys, revision });
      for (const kv of page.kvs) kvs.push(kv);
    }
    chunks[i] = onlyCovered(prefix, kvs);
  };
  if (distinct.length === 0) return { kvs: [], revision: atRevision };
  const firstBatch = Math.min(TXN_OPS, distinct.length);
  const firstPages =
    firstBatch === 1
      ? [await conn.rangePage(rangeOf(distinct[0]!, atRevision, pageKeys))]
      : await conn.rangePages(distinct.slice(0, firstBatch).map((p) => rangeOf(p, atRevision, pageKeys)));
  // The header says the head, also for a read at an older revision.
  revision = atRevision > 0 ? atRevision : firstPages[0]!.revision;
  const pending: Array<Promise<void>> = firstPages.map((page, i) => finish(i, page));
  let next = firstBatch;
  const worker = async (): Promise<void> => {
    while (next < distinct.length) {
      const from = next;
      next = Math.min(next + TXN_OPS, distinct.length);
      const pages = await conn.rangePages(distinct.slice(from, next).map((p) => rangeOf(p, revision, pageKeys)));
      await Promise.all(pages.map((page, j) => finish(from + j, page)));
    }
  };
  const workers = Math.min(TXN_CONCURRENCY, Math.ceil((distinct.length - next) / TXN_OPS));
  for (let w = 0; w < workers; w++) pending.push(worker());
  await Promise.all(pending);
  return { kvs: mergeChunks(chunks), revision };
}

const ZERO = Buffer.from([0]);

/** The keys `prefix` covers among those that start with its text ("/app" drops "/apple"). */
function onlyCovered(prefix: string, kvs: KeyValue[]): KeyValue[] {
  if (prefix.endsWith('/')) return kvs;
  let i = 0;
  while (i < kvs.length && covers(prefix, kvs[i]!.key)) i++;
  if (i === kvs.length) return kvs;
  return kvs.filter((kv) => covers(prefix, kv.key));
}

/**
 * Distinct prefixes select disjoint keys, in byte order within each prefix; the chunks come in
 * the prefixes' byte order, which is the keys' order unless a prefix's keys interleave with a
 * sibling's ("/a/x" sorts after "/a-b").
 */
function mergeChunks(chunks: KeyValue[][]): KeyValue[] {
  if (chunks.length === 1) return chunks[0]!;
  const all: KeyValue[] = [];
  for (const chunk of chunks) for (const kv of chunk) all.push(kv);
  for (let i = 1; i < all.length; i++) {
    if (compareBytes(all[i - 1]!.key, all[i]!.key) > 0) return all.sort(compareByKey);
  }
  return all;
}
