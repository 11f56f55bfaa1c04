// The protobuf encoding of etcd's Range and Txn-of-Ranges messages (rpc.proto, kv.proto), by
// hand. etcd3's generated codec (protobufjs decode, then toObject with defaults) builds two
// objects and two Buffer copies per key before we turn them into strings: for 100k keys that
// was most of a read's CPU. Here a response becomes our KeyValue objects in one pass, and the
// -onetime path never loads protobufjs. Only the fields reads use are written; unknown fields
// are skipped, as protobuf requires. Keys and values are bytes: decodeBytes keeps bytes that are
// not UTF-8 (src/bytes.ts).
import type { KeyValue } from '../types.js';
import { decodeBytes } from '../../bytes.js';

/** A RangeRequest: keys in [key, rangeEnd) at `revision` (0: the current one). */
export interface RangeSpec {
  key: Buffer;
  rangeEnd: Buffer;
  /** 0: no limit. */
  limit?: number;
  revision?: number;
  countOnly?: boolean;
}

/** One decoded RangeResponse. */
export interface RangePage {
  /** The store revision the answer was read at (ResponseHeader.revision). */
  revision: number;
  /** ResponseHeader.cluster_id as a decimal string (a uint64); "" when absent. */
  clusterId: string;
  kvs: KeyValue[];
  /** The raw bytes of the last key, where the next page starts (+ "\0"); undefined when no keys. */
  lastKey: Buffer | undefined;
  /** More keys exist in the range beyond `limit`. */
  more: boolean;
  /** Keys in the whole range (not just this page). */
  count: number;
}

// ---- encoding -------------------------------------------------------------------------------

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

// Tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const TAG_KEY = (1 << 3) | 2;
const TAG_RANGE_END = (2 << 3) | 2;
const TAG_LIMIT = (3 << 3) | 0;
const TAG_REVISION = (4 << 3) | 0;
const TAG_COUNT_ONLY = (9 << 3) | 0;
const TAG_TXN_SUCCESS = (2 << 3) | 2;
const TAG_REQUEST_RANGE = (1 << 3) | 2;

// proto3 leaves fields at their defaults (empty, 0, false) out of the encoding.
function rangeRequestLength(r: RangeSpec): number {
  let len = 0;
  if (r.key.length) len += 1 + varintLength(r.key.length) + r.key.length;
  if (r.rangeEnd.length) len += 1 + varintLength(r.rangeEnd.length) + r.rangeEnd.length;
  if (r.limit) len += 1 + varintLength(r.limit);
  if (r.revision) len += 1 + varintLength(r.revision);
  if (r.countOnly) len += 2;
  return len;
}

function writeRangeRequest(buf: Buffer, pos: number, r: RangeSpec): number {
  if (r.key.length) {
    buf[pos++] = TAG_KEY;
    pos = writeVarint(buf, pos, r.key.length);
    pos += r.key.copy(buf, pos);
  }
  if (r.rangeEnd.length) {
    buf[pos++] = TAG_RANGE_END;
    pos = writeVarint(buf, pos, r.rangeEnd.length);
    pos += r.rangeEnd.copy(buf, pos);
  }
  if (r.limit) {
    buf[pos++] = TAG_LIMIT;
    pos = writeVarint(buf, pos, r.limit);
  }
  if (r.revision) {
    buf[pos++] = TAG_REVISION;
    pos = writeVarint(buf, pos, r.revision);
  }
  if (r.countOnly) {
    buf[pos++] = TAG_COUNT_ONLY;
    buf[pos++] = 1;
  }
  return pos;
}

export function encodeRangeRequest(r: RangeSpec): Buffer {
  const buf = Buffer.allocUnsafe(rangeRequestLength(r));
  writeRangeRequest(buf, 0, r);
  return buf;
}

/** A TxnRequest with no compares whose success branch is these ranges (so it always succeeds). */
export function encodeTxnOfRanges(ranges: readonly RangeSpec[]): Buffer {
  const lengths = ranges.map(rangeRequestLength);
  let total = 0;
  for (const len of lengths) {
    const op = 1 + varintLength(len) + len; // RequestOp { request_range = 1 }
    total += 1 + varintLength(op) + op;
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < ranges.length; i++) {
    const len = lengths[i]!;
    buf[pos++] = TAG_TXN_SUCCESS;
    pos = writeVarint(buf, pos, 1 + varintLength(len) + len);
    buf[pos++] = TAG_REQUEST_RANGE;
    pos = writeVarint(buf, pos, len);
    pos = writeRangeRequest(buf, pos, ranges[i]!);
  }
  return buf;
}

// ---- decoding -------------------------------------------------------------------------------

/** Reads protobuf fields from buf[pos, end); every method advances `pos`. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    if (b < 0x80) return b;
    let n = b & 0x7f;
    let mul = 0x80;
    for (let i = 1; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      b = buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** A uint64 varint, exactly (cluster ids use all 64 bits), as a decimal string. */
  uint64(): string {
    let n = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      n |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return n.toString();
      shift += 7n;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** The end offset of a length-delimited field whose length comes next. */
  delimited(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new Error('length-delimited field overruns its message');
    return end;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new Error('fixed-width field overruns its message');
  }
}

interface Header {
  revision: number;
  clusterId: string;
}

function decodeHeader(r: Reader, end: number): Header {
  const header: Header = { revision: 0, clusterId: '' };
  const sub = new Reader(r.buf, r.pos, end);
  while (sub.pos < end) {
    const tag = sub.varint();
    if (tag === ((3 << 3) | 0)) header.revision = sub.varint();
    else if (tag === ((1 << 3) | 0)) header.clusterId = sub.uint64();
    else sub.skip(tag & 7);
  }
  r.pos = end;
  return header;
}

function decodeRangeResponseAt(buf: Buffer, start: number, end: number, kvs: KeyValue[]): RangePage {
  const r = new Reader(buf, start, end);
  const page: RangePage = { revision: 0, clusterId: '', kvs, lastKey: undefined, more: false, count: 0 };
  let lastStart = 0;
  let lastEnd = 0;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2: {
        // header
        const header = decodeHeader(r, r.delimited());
        page.revision = header.revision;
        page.clusterId = header.clusterId;
        break;
      }
      case (2 << 3) | 2: {
        // kvs: KeyValue { key = 1; value = 5 } (revisions, version and lease are not needed)
        const kvEnd = r.delimited();
        let key = '';
        let value = '';
        while (r.pos < kvEnd) {
          const t = r.varint();
          if (t === ((1 << 3) | 2)) {
            const e = r.delimited();
            lastStart = r.pos;
            lastEnd = e;
            key = decodeBytes(buf, r.pos, e);
            r.pos = e;
          } else if (t === ((5 << 3) | 2)) {
            const e = r.delimited();
            value = decodeBytes(buf, r.pos, e);
            r.pos = e;
          } else {
            r.skip(t & 7);
          }
        }
        if (r.pos !== kvEnd) throw new Error('KeyValue overruns its length');
        kvs.push({ key, value });
        break;
      }
      case (3 << 3) | 0:
        page.more = r.varint() !== 0;
        break;
      case (4 << 3) | 0:
        page.count = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new Error('RangeResponse overruns its length');
  // Copied: the response buffer is not ours to keep, and only the last key is needed for paging.
  if (kvs.length > 0) page.lastKey = Buffer.from(buf.subarray(lastStart, lastEnd));
  return page;
}

export function decodeRangeResponse(buf: Buffer): RangePage {
  return decodeRangeResponseAt(buf, 0, buf.length, []);
}

/** The range answers of a TxnResponse, in request order. */
export function decodeTxnOfRanges(buf: Buffer): RangePage[] {
  const pages: RangePage[] = [];
  const r = new Reader(buf, 0, buf.length);
  let header: Header = { revision: 0, clusterId: '' };
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) {
      header = decodeHeader(r, r.delimited());
    } else if (tag === ((3 << 3) | 2)) {
      const opEnd = r.delimited();
      let page: RangePage | undefined;
      while (r.pos < opEnd) {
        const t = r.varint();
        if (t === ((1 << 3) | 2)) {
          const e = r.delimited();
          page = decodeRangeResponseAt(buf, r.pos, e, []);
          r.pos = e;
        } else {
          r.skip(t & 7);
        }
      }
      if (!page) throw new Error('Txn answered an operation that is not a range');
      pages.push(page);
    } else {
      r.skip(tag & 7);
    }
  }
  // etcd leaves the per-operation headers of a Txn empty; the Txn's own header has the revision.
  for (const page of pages) {
    if (page.revision === 0) page.revision = header.revision;
    if (page.clusterId === '') page.clusterId = header.clusterId;
  }
  return pages;
}

// ---- Authenticate (unary.ts: -basic-auth without etcd3) ------------------------------------

/** AuthenticateRequest { name = 1; password = 2 }. */
export function encodeAuthenticateRequest(name: string, password: string): Buffer {
  const nameBytes = Buffer.from(name);
  const passwordBytes = Buffer.from(password);
  const buf = Buffer.allocUnsafe(2 + varintLength(nameBytes.length) + nameBytes.length + varintLength(passwordBytes.length) + passwordBytes.length);
  let pos = 0;
  buf[pos++] = (1 << 3) | 2;
  pos = writeVarint(buf, pos, nameBytes.length);
  pos += nameBytes.copy(buf, pos);
  buf[pos++] = (2 << 3) | 2;
  pos = writeVarint(buf, pos, passwordBytes.length);
  passwordBytes.copy(buf, pos);
  return buf;
}

/** The token of an AuthenticateResponse { header = 1; token = 2 }. */
export function decodeAuthenticateResponse(buf: Buffer): string {
  const r = new Reader(buf, 0, buf.length);
  let token = '';
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === ((2 << 3) | 2)) {
      const end = r.delimited();
      token = buf.toString('utf8', r.pos, end);
      r.pos = end;
    } else {
      r.skip(tag & 7);
    }
  }
  return token;
}
