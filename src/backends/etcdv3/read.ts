// Reading whole prefixes from etcd v3 the way confd's GetValues answers, without its costs:
// each prefix K is one range read of every key starting with K, filtered to K itself and keys
// below "K/" (confd quirk 15), every page pinned to the revision of the first answer, paged by
// key (next page starts at lastKey + "\0") and never with a sort option: etcd 3.4 re-sorts the
// whole range on every page when asked to sort, and returns keys in byte order anyway.
import type { KeyValue, Snapshot } from '../types.js';
import { covers } from '../keys.js';
import type { EtcdConnection } from './connection.js';
import type { IRangeRequest, IRangeResponse } from 'etcd3';

const PAGE_KEYS = 5000;

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

/** Drops prefixes another listed prefix already covers; the rest are read once each. */
export function distinctPrefixes(prefixes: readonly string[]): string[] {
  const sorted = [...new Set(prefixes)].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && covers(q, p)));
}

export interface RawKeyValue {
  key: Buffer;
  value: Buffer;
  modRevision: number;
}

/**
 * Every key covered by `prefix` at `revision` (0: now). Resolves to the keys in byte order and the
 * revision they were read at.
 */
export async function readPrefix(
  conn: EtcdConnection,
  prefix: string,
  revision: number,
  first?: IRangeResponse,
): Promise<{ kvs: RawKeyValue[]; revision: number }> {
  const start = Buffer.from(prefix);
  const end = prefixRangeEnd(start);
  const kvs: RawKeyValue[] = [];
  let from = start;
  let atRevision = revision;
  let response = first;
  for (;;) {
    response ??= await conn.range(pageRequest(from, end, atRevision));
    if (atRevision <= 0) atRevision = Number(response.header.revision);
    for (const kv of response.kvs) {
      if (covers(prefix, kv.key.toString('utf8'))) {
        kvs.push({ key: kv.key, value: kv.value, modRevision: Number(kv.mod_revision) });
      }
    }
    if (!response.more || response.kvs.length === 0) break;
    const last = response.kvs[response.kvs.length - 1]!.key;
    from = Buffer.concat([last, Buffer.from([0])]);
    response = undefined;
  }
  return { kvs, revision: atRevision };
}

function pageRequest(from: Buffer, end: Buffer, revision: number): IRangeRequest {
  return { key: from, range_end: end, limit: PAGE_KEYS, revision: revision > 0 ? revision : undefined };
}

const COMPACTED = /required revision has been compacted/;

/** All prefixes at one revision, keys sorted by bytes and de-duplicated. */
export async function readPrefixes(conn: EtcdConnection, prefixes: readonly string[]): Promise<Snapshot> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readPinned(conn, prefixes);
    } catch (e) {
      // A compaction between our pages invalidates the pinned revision: start over at the head.
      if (attempt >= 3 || !COMPACTED.test((e as Error).message)) throw e;
    }
  }
}

// Once the first read has fixed the revision, the other prefixes' first pages go 128 to a Txn
// (etcd's default --max-txn-ops), as confd batches them: one round trip per prefix made 1000
// prefixes cost about a second. Prefixes with more than one page continue on their own.
const TXN_OPS = 128;
const TXN_CONCURRENCY = 4;

async function readPinned(conn: EtcdConnection, prefixes: readonly string[]): Promise<Snapshot> {
  let revision = 0;
  const distinct = distinctPrefixes(prefixes);
  const chunks: RawKeyValue[][] = new Array(distinct.length);
  if (distinct.length > 0) {
    const first = await readPrefix(conn, distinct[0]!, 0);
    revision = first.revision;
    chunks[0] = first.kvs;
    const batches: number[][] = [];
    for (let i = 1; i < distinct.length; i += TXN_OPS) {
      batches.push(Array.from({ length: Math.min(TXN_OPS, distinct.length - i) }, (_, j) => i + j));
    }
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const requests = batch.map((i) => {
          const start = Buffer.from(distinct[i]!);
          return pageRequest(start, prefixRangeEnd(start), revision);
        });
        const responses = await conn.ranges(requests);
        for (let j = 0; j < batch.length; j++) {
          const i = batch[j]!;
          chunks[i] = (await readPrefix(conn, distinct[i]!, revision, responses[j])).kvs;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(TXN_CONCURRENCY, batches.length) }, worker));
  }
  // Distinct, non-covering prefixes select disjoint keys; only their order needs merging.
  const all = chunks.length === 1 ? chunks[0]! : chunks.flat().sort((a, b) => Buffer.compare(a.key, b.key));
  const kvs: KeyValue[] = all.map((kv) => ({ key: kv.key.toString('utf8'), value: kv.value.toString('utf8') }));
  if (revision === 0) {
    // No prefix asked: still report where the store is, so callers can watch from there.
    const response = await conn.range({ key: Buffer.from([0]), count_only: true });
    revision = Number(response.header.revision);
  }
  return { kvs, revision };
}
