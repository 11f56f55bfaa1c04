// Behaviour of the fmt port that Go cannot record for us: where the JavaScript value model has no Go
// counterpart (undefined, lone surrogates, fractional JS numbers, JS functions) and the API contract the
// template engine relies on. Go's own outputs are checked in fmt-golden.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoFloat, GoUint8, goFunc, withGoType } from '../../../src/template/go/value.js';
import {
  UnprintableValueError,
  compareKeys,
  formatValue,
  isPrintable,
  sortedMapKeys,
  sprint,
  sprintf,
  sprintln,
} from '../../../src/template/go/fmt.js';
import { evalArgs, htmlEscaper, jsEscaper, urlQueryEscaper } from '../../../src/template/go/escape.js';
import { formatFloat, quote, runeCount, utf8Length } from '../../../src/template/go/strconv.js';

test('formatValue: <no value> for undefined, <nil> for null, strings and ints as they are', () => {
  assert.equal(formatValue(undefined), '<no value>');
  assert.equal(formatValue(null), '<nil>');
  assert.equal(formatValue('a b'), 'a b');
  assert.equal(formatValue(-42), '-42');
  assert.equal(formatValue(new GoFloat(1e6)), '1e+06');
  assert.equal(formatValue(['a', null, undefined]), '[a <nil> <nil>]');
  assert.equal(formatValue(new Map([['k', undefined]])), 'map[k:<nil>]');
});

test('formatValue refuses funcs as Go printableValue does', () => {
  const f = goFunc(['string'], (s: string) => s);
  assert.equal(isPrintable(f), false);
  assert.equal(isPrintable(() => 1), false);
  assert.equal(isPrintable({ a: 1 }), true);
  assert.throws(() => formatValue(f), UnprintableValueError);
  assert.throws(() => formatValue(() => 1), (e: unknown) => e instanceof UnprintableValueError && e.goType.startsWith('func'));
});

test('methods come from the prototype; an own property of the same name is a field', () => {
  class Addr {
    constructor(
      readonly Host: string,
      readonly Port: number,
    ) {}
    String(): string {
      return `${this.Host}:${this.Port}`;
    }
  }
  assert.equal(formatValue(new Addr('h', 80)), 'h:80');
  assert.equal(sprintf('%s|%v|%q|%d', [new Addr('h', 80), [new Addr('a', 1)], new Addr('q', 2), new Addr('d', 3)]), 'h:80|[a:1]|"q:2"|{%!d(string=d) 3}');
  assert.equal(sprintf('%+v', [{ Key: 'k', String: 'not a method' }]), '{Key:k String:not a method}');
});

test('a method that throws prints as Go prints a panic', () => {
  class Bad {
    Error(): string {
      throw new Error('kaput');
    }
  }
  assert.equal(sprint([new Bad()]), '%!v(PANIC=Error method: kaput)');
  assert.equal(sprintf('%s', [new Bad()]), '%!s(PANIC=Error method: kaput)');
});

test('undefined operands are nil interfaces for Sprint and Sprintf', () => {
  assert.equal(sprint([undefined, 1]), '<nil> 1');
  assert.equal(sprintln([undefined]), '<nil>\n');
  assert.equal(sprintf('%d|%v|%T', [undefined, undefined, undefined]), '%!d(<nil>)|<nil>|<nil>');
  assert.equal(sprintf('', [undefined]), '%!(EXTRA <nil>)');
});

test('a fractional JS number is taken as a float64, never printed as an int', () => {
  assert.equal(sprintf('%v %T %d', [1.5, 1.5, 2.5]), '1.5 float64 %!d(float64=2.5)');
  assert.equal(formatValue(1234567.5), '1.2345675e+06');
  assert.equal(sprint([NaN, Infinity]), 'NaN +Inf');
});

test('ints beyond 2^53 print the exact value of the double', () => {
  assert.equal(sprintf('%d %x', [2 ** 60, -(2 ** 60)]), '1152921504606846976 -1000000000000000');
  assert.equal(formatValue(2 ** 60), '1152921504606846976');
});

test('widths count runes; a lone surrogate is the one rune U+FFFD, as Node writes it', () => {
  // Written out, the lone surrogate is U+FFFD (EF BF BD), whichever spelling the string keeps.
  assert.deepEqual(Buffer.from(sprintf('%-4s|%4s|', ['é😀', '\ud800'])), Buffer.from('é😀  |   \ufffd|'));
  assert.equal(sprintf('%x', ['\ud800']), 'efbfbd');
  assert.equal(sprintf('%.1s', ['😀x']), '😀');
  assert.equal(quote('a\ud800'), '"a\ufffd"');
  assert.equal(runeCount('a😀\udc00'), 3);
  assert.equal(utf8Length('a😀é\udc00'), 1 + 4 + 2 + 3);
});

test('GoUint8 values and []uint8 slices print as Go bytes', () => {
  const bytes = withGoType([new GoUint8(104), new GoUint8(105)], '[]uint8');
  assert.equal(sprintf('%s %x %v %d %q', [bytes, bytes, bytes, bytes, bytes]), 'hi 6869 [104 105] [104 105] "hi"');
  assert.equal(sprintf('%#v', [bytes]), '[]byte{0x68, 0x69}');
  assert.equal(sprintf('%v %#v %c', [new GoUint8(7), new GoUint8(7), new GoUint8(65)]), '7 0x7 A');
});

test('map keys sort as Go sorts them: strings by UTF-8 bytes, numbers numerically, NaN first', () => {
  assert.deepEqual(sortedMapKeys(new Map([['\uff01', 1], ['\u{1F600}', 2], ['a', 3], ['B', 4]])), ['B', 'a', '\uff01', '\u{1F600}']);
  assert.deepEqual(sortedMapKeys(new Map([[10, 'a'], [-1, 'b'], [2, 'c']])), [-1, 2, 10]);
  const nan = new GoFloat(NaN);
  const one = new GoFloat(1);
  assert.deepEqual(sortedMapKeys(new Map([[one, 'x'], [nan, 'y']])), [nan, one]);
  assert.equal(compareKeys(false, true), -1);
  assert.equal(formatValue(new Map([[true, 1], [false, 0]])), 'map[false:0 true:1]');
});

test('escapers: a lone string is used as is, other operands join with Sprint rules, nil is <no value>', () => {
  assert.equal(evalArgs(['<b>']), '<b>');
  assert.equal(evalArgs([1, 2]), '1 2');
  assert.equal(evalArgs(['a', 1, 'b']), 'a1b');
  assert.equal(evalArgs([undefined]), '<no value>');
  assert.equal(evalArgs([1, null, 2]), '1<no value>2');
  assert.equal(htmlEscaper(['"\'&<>\0']), '&#34;&#39;&amp;&lt;&gt;\ufffd');
  assert.equal(jsEscaper(["a'b\"c\\<>&=\n\u2028é"]), 'a\\\'b\\"c\\\\\\u003C\\u003E\\u0026\\u003D\\u000A\\u2028é');
  assert.equal(urlQueryEscaper(['a b&c=d/é~']), 'a+b%26c%3Dd%2F%C3%A9~');
});

test('formatFloat gives the forms the other modules rely on', () => {
  assert.equal(formatFloat(1e6, 'g', -1), '1e+06');
  assert.equal(formatFloat(1234567, 'g', -1), '1.234567e+06');
  assert.equal(formatFloat(3.14, 'g', -1), '3.14');
  assert.equal(formatFloat(-0, 'g', -1), '-0');
  assert.equal(formatFloat(Infinity, 'f', 2), '+Inf');
  assert.equal(formatFloat(NaN, 'e', 2), 'NaN');
  assert.equal(formatFloat(0.125, 'f', 2), '0.12');
  assert.equal(formatFloat(0.375, 'f', 2), '0.38');
  assert.equal(formatFloat(2.5, 'e', 0), '2e+00');
  assert.equal(formatFloat(1e-7, 'E', 3), '1.000E-07');
});
