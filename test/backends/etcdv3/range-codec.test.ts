// The hand-written Range/Txn codec against protobufjs driven by etcd's own rpc.proto (the codec
// etcd3 uses): what we encode must decode there field for field, and what it encodes (including
// fields we do not read) must decode here to the same keys, values and revisions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { decodeRangeResponse, decodeTxnOfRanges, encodeRangeRequest, encodeTxnOfRanges } from '../../../src/backends/etcdv3/range-codec.js';

const require = createRequire(import.meta.url);
// protobufjs is etcd3's (through @grpc/proto-loader) and not a dependency of ours: tests only.
const protobuf = require('protobufjs') as typeof import('protobufjs');
const rpcProto = fileURLToPath(new URL('../../../node_modules/etcd3/proto/rpc.proto', import.meta.url));
const root = new protobuf.Root().loadSync(rpcProto, { keepCase: true });
const RangeRequest = root.lookupType('etcdserverpb.RangeRequest');
const RangeResponse = root.lookupType('etcdserverpb.RangeResponse');
const TxnRequest = root.lookupType('etcdserverpb.TxnRequest');
const TxnResponse = root.lookupType('etcdserverpb.TxnResponse');
const asObject = { longs: String, bytes: String, defaults: false } as const;

function encodeWithProtobufjs(type: protobuf.Type, value: Record<string, unknown>): Buffer {
  const err = type.verify(value);
  assert.equal(err, null);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

const sampleKvs = [
  // Every KeyValue field set, revisions above 2^32 (varints longer than 5 bytes).
  { key: Buffer.from('/svc/a'), create_revision: 5_000_000_001, mod_revision: 5_000_000_007, version: 3, value: Buffer.from('10.0.0.1:80'), lease: 7 },
  { key: Buffer.from('/svc/\u00e9\u4e2d'), mod_revision: 9, value: Buffer.from('caf\u00e9\n\u{1f600}') },
  { key: Buffer.from('/svc/empty'), mod_revision: 10 },
  { key: Buffer.from('/svc/big'), mod_revision: 11, value: Buffer.from('v'.repeat(300)) },
];

describe('etcd range codec', () => {
  test('a RangeRequest reads back in protobufjs with the same fields', () => {
    const bytes = encodeRangeRequest({ key: Buffer.from('/svc'), rangeEnd: Buffer.from('/svd'), limit: 5000, revision: 2 ** 40 + 3 });
    const back = RangeRequest.toObject(RangeRequest.decode(bytes), asObject);
    assert.deepEqual(back, {
      key: Buffer.from('/svc').toString('base64'),
      range_end: Buffer.from('/svd').toString('base64'),
      limit: '5000',
      revision: String(2 ** 40 + 3),
    });
    const countOnly = RangeRequest.toObject(RangeRequest.decode(encodeRangeRequest({ key: Buffer.from([0]), rangeEnd: Buffer.alloc(0), countOnly: true })), asObject);
    assert.deepEqual(countOnly, { key: 'AA==', count_only: true });
  });

  test('a Txn of ranges is success-branch range ops in order, no compares', () => {
    const specs = Array.from({ length: 130 }, (_, i) => ({ key: Buffer.from(`/p/${i}`), rangeEnd: Buffer.from(`/p/${i}0`), limit: 5000, revision: 77 }));
    const back = TxnRequest.toObject(TxnRequest.decode(encodeTxnOfRanges(specs)), asObject) as {
      compare?: unknown[];
      success: Array<{ request_range: { key: string; range_end: string; limit: string; revision: string } }>;
    };
    assert.equal(back.compare, undefined);
    assert.equal(back.success.length, 130);
    back.success.forEach((op, i) => {
      assert.equal(Buffer.from(op.request_range.key, 'base64').toString(), `/p/${i}`);
      assert.equal(Buffer.from(op.request_range.range_end, 'base64').toString(), `/p/${i}0`);
      assert.equal(op.request_range.limit, '5000');
      assert.equal(op.request_range.revision, '77');
    });
  });

  test('a RangeResponse decodes to keys, values, revision, more, count and the raw last key', () => {
    const bytes = encodeWithProtobufjs(RangeResponse, {
      header: { cluster_id: 2 ** 52, member_id: 12, revision: 2 ** 33 + 1, raft_term: 4 },
      kvs: sampleKvs,
      more: true,
      count: 123456,
    });
    const page = decodeRangeResponse(bytes);
    assert.equal(page.revision, 2 ** 33 + 1);
    assert.equal(page.more, true);
    assert.equal(page.count, 123456);
    assert.deepEqual(page.kvs, [
      { key: '/svc/a', value: '10.0.0.1:80' },
      { key: '/svc/\u00e9\u4e2d', value: 'caf\u00e9\n\u{1f600}' },
      { key: '/svc/empty', value: '' },
      { key: '/svc/big', value: 'v'.repeat(300) },
    ]);
    assert.deepEqual(page.lastKey, Buffer.from('/svc/big'));
    // The last key is a copy: it must survive the response buffer being reused.
    bytes.fill(0);
    assert.deepEqual(page.lastKey, Buffer.from('/svc/big'));
  });

  test('an empty RangeResponse (count_only, or nothing in range)', () => {
    const page = decodeRangeResponse(encodeWithProtobufjs(RangeResponse, { header: { revision: 42 }, count: 0 }));
    assert.deepEqual(page, { revision: 42, clusterId: '', kvs: [], lastKey: undefined, more: false, count: 0 });
    assert.deepEqual(decodeRangeResponse(Buffer.alloc(0)), { revision: 0, clusterId: '', kvs: [], lastKey: undefined, more: false, count: 0 });
  });

  test('the header cluster id is decoded exactly, all 64 bits (a replaced store shows by it)', () => {
    // By hand: protobufjs without Long cannot write a uint64 above 2^53 exactly.
    const varint = (n: bigint): number[] => {
      const out: number[] = [];
      while (n >= 0x80n) {
        out.push(Number(n & 0x7fn) | 0x80);
        n >>= 7n;
      }
      return [...out, Number(n)];
    };
    const header = [0x08, ...varint(17237436991929493444n), 0x18, 7];
    const page = decodeRangeResponse(Buffer.from([0x0a, header.length, ...header]));
    assert.equal(page.clusterId, '17237436991929493444');
    assert.equal(page.revision, 7);
  });

  test('a TxnResponse gives one page per range op, with the Txn revision where an op has none', () => {
    const bytes = encodeWithProtobufjs(TxnResponse, {
      header: { revision: 900 },
      succeeded: true,
      responses: [
        { response_range: { header: { revision: 900 }, kvs: sampleKvs.slice(0, 2), count: 2 } },
        { response_range: { kvs: [], count: 0 } },
        { response_range: { kvs: sampleKvs.slice(3), more: true, count: 5001 } },
      ],
    });
    const pages = decodeTxnOfRanges(bytes);
    assert.equal(pages.length, 3);
    assert.deepEqual(
      pages.map((p) => [p.revision, p.kvs.map((kv) => kv.key), p.more, p.count]),
      [
        [900, ['/svc/a', '/svc/\u00e9\u4e2d'], false, 2],
        [900, [], false, 0],
        [900, ['/svc/big'], true, 5001],
      ],
    );
  });

  test('truncated or malformed input is an error, not a wrong answer', () => {
    const bytes = encodeWithProtobufjs(RangeResponse, { header: { revision: 5 }, kvs: sampleKvs, count: 4 });
    for (const cut of [bytes.length - 1, bytes.length - 5, 20]) {
      assert.throws(() => decodeRangeResponse(bytes.subarray(0, cut)), /overruns|truncated/);
    }
    assert.throws(() => decodeRangeResponse(Buffer.from([0x13])), /wire type/);
    const put = encodeWithProtobufjs(TxnResponse, { header: { revision: 1 }, responses: [{ response_put: { header: { revision: 1 } } }] });
    assert.throws(() => decodeTxnOfRanges(put), /not a range/);
  });
});
