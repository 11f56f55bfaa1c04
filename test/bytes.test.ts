// src/bytes.ts: backend bytes that are not UTF-8 survive as escaped bytes (U+DC80..U+DCFF) and
// come back out unchanged; len and byte order see them as single bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteLength, decodeBytes, encodeString, hasRawBytes } from '../src/bytes.js';
import { compareBytes } from '../src/keys/index.js';

/** Deterministic pseudo-random bytes biased to UTF-8 lead/continuation bytes and ASCII. */
function* samples(count: number): Generator<Buffer> {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pool = [0x41, 0x2f, 0x80, 0xbf, 0xc2, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x90, 0xff, 0xfe, 0xef, 0xbd];
  for (let k = 0; k < count; k++) {
    const b = Buffer.alloc(rnd(9));
    for (let i = 0; i < b.length; i++) b[i] = rnd(3) === 0 ? rnd(256) : pool[rnd(pool.length)]!;
    yield b;
  }
}

test('valid UTF-8 decodes as Node decodes it (the fast path), U+FFFD in the text included', () => {
  for (const text of ['', 'abc', 'café', '日本', '😀', 'a\ufffdb']) {
    const b = Buffer.from(text, 'utf8');
    assert.equal(decodeBytes(b), text);
    assert.equal(hasRawBytes(text), false);
  }
});

test('each invalid byte becomes one escaped byte, as Go decodes one invalid byte at a time', () => {
  assert.equal(decodeBytes(Buffer.from([0xff, 0xfe])), '\udcff\udcfe');
  // E2 82 is a truncated 3-byte sequence: two invalid bytes in Go (WHATWG would make one U+FFFD).
  assert.equal(decodeBytes(Buffer.from([0x61, 0xe2, 0x82, 0x62])), 'a\udce2\udc82b');
  // ED A0 80 would be a surrogate: invalid in Go, three bytes.
  assert.equal(decodeBytes(Buffer.from([0xed, 0xa0, 0x80])), '\udced\udca0\udc80');
  assert.equal(decodeBytes(Buffer.from('caf\xe9', 'latin1')), 'caf\udce9');
  assert.equal(hasRawBytes('caf\udce9'), true);
});

test('bytes round-trip, and byteLength and compareBytes agree with the bytes', () => {
  const all = [...samples(3000)];
  for (const b of all) {
    const s = decodeBytes(b);
    assert.deepEqual(encodeString(s), b, b.toString('hex'));
    assert.equal(byteLength(s), b.length, b.toString('hex'));
  }
  for (let i = 0; i + 1 < all.length; i++) {
    const [a, b] = [all[i]!, all[i + 1]!];
    assert.equal(Math.sign(compareBytes(decodeBytes(a), decodeBytes(b))), Buffer.compare(a, b), `${a.toString('hex')} vs ${b.toString('hex')}`);
  }
});

test('a pair whose low half is in U+DC80..U+DCFF is a character, not an escaped byte', () => {
  const s = '\ud800\udc80'; // U+10080
  assert.deepEqual(encodeString(s), Buffer.from(s, 'utf8'));
  assert.equal(byteLength(s), 4);
  assert.equal(Math.sign(compareBytes(s, '\uffff')), 1);
});

test('a lone surrogate that is not an escaped byte is written as Node writes it (EF BF BD)', () => {
  assert.deepEqual(encodeString('a\ud800b'), Buffer.from('a\ud800b', 'utf8'));
  assert.equal(byteLength('a\ud800b'), 5);
});
