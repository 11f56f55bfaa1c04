// The typed-JSON decoder must build the same Go types tools/gotemplate builds, or every golden
// comparison after it is meaningless.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoFloat, GoUint8, goTypeOf } from '../../../src/template/go/value.js';
import { decodeData, decodeTyped } from './typed-data.js';
import { KV } from './testfuncs.js';

test('numbers: integers are int, others float64, $float forces float64', () => {
  assert.equal(decodeTyped(3), 3);
  assert.equal(goTypeOf(decodeTyped(3)), 'int');
  assert.deepEqual(decodeTyped(2.5), new GoFloat(2.5));
  assert.deepEqual(decodeTyped({ $float: 1000000 }), new GoFloat(1000000));
  assert.deepEqual(decodeTyped({ $uint8: 97 }), new GoUint8(97));
});

test('typed slices, maps and nil', () => {
  assert.equal(goTypeOf(decodeTyped({ $strings: ['a'] })), '[]string');
  assert.equal(goTypeOf(decodeTyped({ $ints: [1] })), '[]int');
  assert.equal(goTypeOf(decodeTyped([1, 'a'])), '[]interface {}');
  const m = decodeTyped({ b: 1, a: null });
  assert.ok(m instanceof Map);
  assert.equal(m.get('a'), null);
  assert.equal(goTypeOf(m), 'map[string]interface {}');
  assert.equal(decodeData(null), undefined);
  assert.equal(decodeData(undefined), undefined);
});

test('structs keep field order and print their type as reflect.StructOf does', () => {
  const s = decodeTyped({ $struct: [['Key', 'a'], ['N', 1], ['Z', null], ['In', { $struct: [['X', 2.5]] }]] });
  assert.deepEqual(Object.keys(s as object), ['Key', 'N', 'Z', 'In']);
  assert.equal(goTypeOf(s), 'struct { Key string; N int; Z interface {}; In struct { X float64 } }');
  assert.equal(goTypeOf(decodeTyped({ $struct: [] })), 'struct {}');
});

test('$kv is main.KV with its methods', () => {
  const kv = decodeTyped({ $kv: ['k', 'v'] });
  assert.ok(kv instanceof KV);
  assert.equal(goTypeOf(kv), 'main.KV');
  assert.equal(kv.Joined(), 'k=v');
});

test('a one-key object whose key is not a known tag is an error, not a map', () => {
  assert.throws(() => decodeTyped({ $nope: 1 }), /unknown tag \$nope/);
});
