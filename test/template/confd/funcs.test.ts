// confd's function map: every function's Go signature, results and error texts, checked
// directly (.call) against Go 1.19's recorded results (fixtures/go-golden.json) and through the
// Go template engine with the error texts of the conformance corpus (case 67).
import { decodeBytes, replaceRawBytes, encodeString } from '../../../src/bytes.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { confdFuncMap, CONFD_FUNC_NAMES, normalizeIP, type Resolver } from '../../../src/template/confd/funcs.js';
import { KeyStore } from '../../../src/template/confd/store.js';
import { GoTime } from '../../../src/template/confd/gotime.js';
import { goSortArray } from '../../../src/template/confd/gosort.js';
import { unmarshalArray, unmarshalObject } from '../../../src/template/confd/gojson.js';
import { GoFloat, type GoFunction, goTypeOf, isGoFunction } from '../../../src/template/go/value.js';
import { parse } from '../../../src/template/go/index.js';

const golden = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'go-golden.json'), 'utf8')) as {
  sort: Array<[string[], string[]]>;
  json: Array<[string, string, string, string, string]>;
  base64: Array<[string, string, string]>;
  atoi: Array<[string, string, string]>;
  time: Array<[string, string, string]>;
};

const fakeDNS: Resolver = {
  lookupHost: (h) => (h === 'db.test' ? ['10.0.0.2', '10.0.0.1', '::1', '10.0.0.1', '0:0:0:0:0:0:0:2'] : null),
  lookupSRV: (n) =>
    n === '_http._tcp.svc.test'
      ? [
          { Target: 'b.svc.test.', Port: 80, Priority: 1, Weight: 5 },
          { Target: 'a.svc.test.', Port: 8080, Priority: 2, Weight: 1 },
        ]
      : null,
};

const store = new KeyStore([
  ['/e/n', '1'],
  ['/e/empty', ''],
  ['/sk/long-name', 'x'],
  ['/sk/a', 'yyy'],
  ['/sk/mid', 'zz'],
  ['/sk/b', 'qqqq'],
]);
const funcs = confdFuncMap(store, { env: { SET: 'v', EMPTY: '' }, resolver: fakeDNS });

function fn(name: string): GoFunction {
  const f = funcs[name];
  assert.ok(isGoFunction(f), name);
  return f;
}

function render(text: string, opts = {}): string {
  try {
    return parse('t.tmpl', text, { funcs: confdFuncMap(store, { env: { SET: 'v', EMPTY: '' }, resolver: fakeDNS, ...opts }) }).execute(null);
  } catch (e) {
    return 'ERROR ' + (e as Error).message;
  }
}

test('every confd function is defined, with its Go signature', () => {
  const sigs: Record<string, [string[], string | undefined, boolean]> = {
    get: [['string'], undefined, true],
    gets: [['string'], undefined, true],
    getv: [['string'], 'string', true],
    getvs: [['string'], undefined, true],
    exists: [['string'], undefined, false],
    ls: [['string'], undefined, false],
    lsdir: [['string'], undefined, false],
    base: [['string'], undefined, false],
    dir: [['string'], undefined, false],
    split: [['string', 'string'], undefined, false],
    join: [['[]string', 'string'], undefined, false],
    json: [['string'], undefined, true],
    jsonArray: [['string'], undefined, true],
    map: [[], 'interface {}', true],
    getenv: [['string'], 'string', false],
    datetime: [[], undefined, false],
    toUpper: [['string'], undefined, false],
    toLower: [['string'], undefined, false],
    contains: [['string', 'string'], undefined, false],
    replace: [['string', 'string', 'string', 'int'], undefined, false],
    trimSuffix: [['string', 'string'], undefined, false],
    lookupIP: [['string'], undefined, false],
    lookupIPV4: [['string'], undefined, false],
    lookupIPV6: [['string'], undefined, false],
    lookupSRV: [['string', 'string', 'string'], undefined, false],
    fileExists: [['string'], undefined, false],
    base64Encode: [['string'], undefined, false],
    base64Decode: [['string'], undefined, true],
    parseBool: [['string'], undefined, true],
    reverse: [['interface {}'], undefined, false],
    sortByLength: [['[]string'], undefined, false],
    sortKVByLength: [['interface {}'], undefined, false],
    add: [['int', 'int'], undefined, false],
    sub: [['int', 'int'], undefined, false],
    div: [['int', 'int'], undefined, false],
    mod: [['int', 'int'], undefined, false],
    mul: [['int', 'int'], undefined, false],
    seq: [['int', 'int'], undefined, false],
    atoi: [['string'], undefined, true],
  };
  assert.deepEqual([...CONFD_FUNC_NAMES].sort(), Object.keys(sigs).sort());
  for (const [name, [params, variadic, returnsError]] of Object.entries(sigs)) {
    const f = fn(name);
    assert.deepEqual([...f.params], params, name);
    assert.equal(f.variadic, variadic, name);
    assert.equal(f.returnsError, returnsError, name);
  }
});

test('case 67: error texts through the engine', () => {
  const cases: Array<[string, string]> = [
    ['{{div 1 0}}', 'error calling div: runtime error: integer divide by zero'],
    ['{{mod 5 0}}', 'error calling mod: runtime error: integer divide by zero'],
    ['{{add (getv "/e/n") 1}}', 'wrong type for value; expected int; got string'],
    ['{{$d := json "{\\"p\\":80}"}}{{add $d.p 1}}', 'wrong type for value; expected int; got float64'],
    ['{{json "{bad"}}', "error calling json: invalid character 'b' looking for beginning of object key string"],
    ['{{jsonArray "{\\"a\\":1}"}}', 'error calling jsonArray: json: cannot unmarshal object into Go value of type []interface {}'],
    ['{{map "a"}}', 'error calling map: invalid map call'],
    ['{{map 1 2}}', 'error calling map: map keys must be strings'],
    ['{{base64Decode "!!not base64"}}', 'error calling base64Decode: illegal base64 data at input byte 0'],
    ['{{parseBool "yes"}}', 'error calling parseBool: strconv.ParseBool: parsing "yes": invalid syntax'],
    ['{{atoi "1.5"}}', 'error calling atoi: strconv.Atoi: parsing "1.5": invalid syntax'],
    ['{{lt (index (jsonArray "[1]") 0) 2}}', 'error calling lt: incompatible types for comparison'],
    ['{{seq 1}}', 'wrong number of args for seq: want 2 got 1'],
    ['{{gets "/e/["}}', 'error calling gets: syntax error in pattern'],
    ['{{get "/e/missing"}}', 'error calling get: key does not exist: /e/missing'],
    ['{{getv "/e/n/"}}', 'error calling getv: key does not exist: /e/n/'],
    ['{{toUpper 5}}', 'expected string; found 5'],
    ['{{eq (split "a" ",") (split "a" ",")}}', 'error calling eq: non-comparable type [a]: []string'],
  ];
  for (const [tmpl, msg] of cases) {
    const out = render(tmpl);
    assert.ok(out.startsWith('ERROR template: t.tmpl:1:') && out.endsWith(msg), `${tmpl} -> ${out}`);
  }
});

test('store functions through the engine (seed-style template)', () => {
  assert.equal(render('{{range gets "/sk/*"}}{{base .Key}}={{.Value}} {{end}}'), 'a=yyy b=qqqq long-name=x mid=zz ');
  assert.equal(render('{{get "/e/n"}} {{getv "/e/missing" "d"}} [{{getv "/e/empty" "d"}}] {{exists "/e"}} {{exists "/e/n"}}'), '{/e/n 1} d [] false true');
  assert.equal(render('{{getvs "/sk/*"}} {{ls "/sk"}} {{lsdir "/"}}'), '[qqqq x yyy zz] [a b long-name mid] []');
});

test('quirks 25 and 26: reverse and sortByLength/sortKVByLength, in place', () => {
  assert.equal(render('{{reverse (gets "/sk/*")}}'), '[{/sk/a yyy} {/sk/b qqqq} {/sk/long-name x} {/sk/mid zz}]', 'KVPairs: no-op');
  assert.equal(render('{{$s := split "a,bb,c" ","}}{{reverse $s}} {{$s}}'), '[c bb a] [c bb a]');
  assert.equal(render('{{$s := split "ccc,a,e,bb,dddd" ","}}{{sortByLength $s}} {{$s}}'), '[a e bb ccc dddd] [a e bb ccc dddd]');
  assert.equal(
    render('{{$x := gets "/sk/*"}}{{$y := sortKVByLength $x}}{{range $y}}{{.Key}} {{end}}|{{reverse $y}}|{{$x}}|{{reverse $x}}'),
    '/sk/a /sk/b /sk/mid /sk/long-name |[{/sk/long-name x} {/sk/mid zz} {/sk/b qqqq} {/sk/a yyy}]|[{/sk/long-name x} {/sk/mid zz} {/sk/b qqqq} {/sk/a yyy}]|[{/sk/long-name x} {/sk/mid zz} {/sk/b qqqq} {/sk/a yyy}]',
  );
  assert.equal(render('{{reverse (jsonArray "[1,2]")}} {{reverse "ab"}} {{reverse (seq 1 3)}}'), '[1 2] ab [1 2 3]');
  assert.match(render('{{sortKVByLength (split "a" ",")}}'), /expected \[\]memkv\.KVPair; got \[\]string$/);
});

test('sortByLength is Go sort.Sort, ties included, on 200 recorded arrays', () => {
  for (const [input, want] of golden.sort) {
    const arr = [...input];
    goSortArray(arr, (a, b) => a.length < b.length);
    assert.deepEqual(arr, want);
    const viaFunc = fn('sortByLength').call(Object.assign([...input], {})) as string[];
    assert.deepEqual([...viaFunc], want);
  }
});

test('json and jsonArray: Go syntax and type errors, float64 numbers, maps', () => {
  for (const [input, errObj, printedObj, errArr, printedArr] of golden.json) {
    let got = '';
    let val: unknown;
    try {
      val = unmarshalObject(input);
    } catch (e) {
      got = (e as Error).message;
    }
    assert.equal(got, errObj, `json ${JSON.stringify(input)}`);
    if (errObj === '') assert.equal(parse('t', '{{printf "%v" .}}').execute(val), printedObj, `json value ${input}`);
    got = '';
    try {
      val = unmarshalArray(input);
    } catch (e) {
      got = (e as Error).message;
    }
    assert.equal(got, errArr, `jsonArray ${JSON.stringify(input)}`);
    if (errArr === '') assert.equal(parse('t', '{{printf "%v" .}}').execute(val), printedArr, `jsonArray value ${input}`);
  }
  assert.equal(unmarshalArray('['.repeat(10000) + ']'.repeat(10000)).length, 1, 'Go nests 10000 deep');
  assert.throws(() => unmarshalArray('['.repeat(10001) + ']'.repeat(10001)), { message: "invalid character '[' exceeded max depth" });
  const m = unmarshalObject('{"n":1000000,"o":{"a":[1,"x",null]}}');
  assert.equal(goTypeOf(m), 'map[string]interface {}');
  assert.ok(m.get('n') instanceof GoFloat);
  assert.equal(render('{{$j := json "{\\"n\\":1000000,\\"o\\":{\\"a\\":[1,null]}}"}}{{$j.n}} {{$j.o.a}} {{$j.missing}}'), '1e+06 [1 <nil>] <no value>');
});

test('base64Encode/base64Decode as Go StdEncoding (recorded results)', () => {
  for (const [input, decoded, err] of golden.base64) {
    let got: string;
    try {
      got = fn('base64Decode').call(input) as string;
      assert.equal(err, '', `${JSON.stringify(input)} should fail with ${err}`);
      // The recording went through Go's json.Marshal, which writes each invalid byte as U+FFFD;
      // base64Decode keeps those bytes (src/bytes.ts), so compare as the recording saw them.
      assert.equal(replaceRawBytes(got), decoded);
    } catch (e) {
      if (err === '') throw e;
      assert.equal((e as Error).message, err, JSON.stringify(input));
    }
  }
  assert.equal(fn('base64Encode').call('héllo'), 'aMOpbGxv');
  // Bytes that are not UTF-8 round-trip: base64Decode "//4=" is ff fe, and base64Encode gives it back.
  assert.deepEqual(encodeString(fn('base64Decode').call('//4=') as string), Buffer.from([0xff, 0xfe]));
  assert.equal(fn('base64Encode').call(fn('base64Decode').call('//4=')), '//4=');
});

test('atoi and parseBool as strconv (recorded results)', () => {
  for (const [input, n, err] of golden.atoi) {
    try {
      const got = fn('atoi').call(input);
      assert.equal(err, '', `${JSON.stringify(input)} should fail`);
      // Exact to 64 bits; a number when safe, a bigint only beyond 2^53 (value.ts).
      assert.equal(String(got), n);
      assert.equal(typeof got, Number.isSafeInteger(Number(n)) ? 'number' : 'bigint');
    } catch (e) {
      if (err === '') throw e;
      assert.equal((e as Error).message, err, JSON.stringify(input));
    }
  }
  for (const s of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(fn('parseBool').call(s), true);
  for (const s of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(fn('parseBool').call(s), false);
  assert.throws(() => fn('parseBool').call('tRUE'), { message: 'strconv.ParseBool: parsing "tRUE": invalid syntax' });
});

test('quirks 29 and 30: int arithmetic, seq', () => {
  assert.equal(render('{{div -7 2}} {{mod -7 2}} {{mod 7 -2}} {{add 1 2}} {{sub 1 2}} {{mul 3 4}}'), '-3 -1 1 3 -1 12');
  assert.match(render('{{add "1" 1}}'), /expected integer; found "1"$/);
  assert.match(render('{{add 1.5 1}}'), /expected integer; found 1\.5$|wrong type for value; expected int; got float64$/);
  assert.equal(render('{{seq 3 1}} {{len (seq 3 1)}} {{seq 1 3}}'), '[] 0 [1 2 3]');
  assert.equal(goTypeOf(fn('seq').call(1, 2)), '[]int');
  assert.equal(fn('mul').call(2 ** 40, 2 ** 40), 0, 'int64 wrap-around');
});

// Expected texts printed by Go 1.19 for the same templates with confd's functions.
test('int arithmetic, atoi and seq are exact 64-bit ints beyond 2^53, wrapping as Go', () => {
  assert.equal(
    render(
      '{{add 9223372036854775807 1}} {{sub -9223372036854775808 1}} {{mul 3037000500 3037000500}} {{mul -9223372036854775808 -1}} ' +
        '{{div -9223372036854775808 -1}} {{mod -9223372036854775808 -1}} {{div 9223372036854775807 1000000000}} {{mod 9223372036854775807 1000000000}} ' +
        '{{add (atoi "1732550000123456789") 1000}} {{sub 9007199254740993 2}} {{mul 2 4503599627370497}} {{mod -9007199254740993 10}} {{div 9007199254740993 -3}}',
    ),
    '-9223372036854775808 9223372036854775807 -9223372036709301616 -9223372036854775808 -9223372036854775808 0 9223372036 854775807 ' +
      '1732550000123457789 9007199254740991 9007199254740994 -3 -3002399751580331',
  );
  assert.equal(
    render('{{seq 9223372036854775805 9223372036854775806}} {{seq -9223372036854775808 -9223372036854775807}} {{len (seq 9007199254740993 9007199254740992)}}'),
    '[9223372036854775805 9223372036854775806] [-9223372036854775808 -9223372036854775807] 0',
  );
  assert.equal(render('{{atoi "99999999999999999999"}}'), 'ERROR template: t.tmpl:1:2: executing "t.tmpl" at <atoi "99999999999999999999">: error calling atoi: strconv.Atoi: parsing "99999999999999999999": value out of range');
  // One representation per int: results back inside 2^53 are numbers again.
  assert.equal(fn('sub').call(2n ** 60n, 2n ** 60n - 5n), 5);
  assert.equal(fn('add').call(9007199254740991, 2), 9007199254740993n);
  // Go's loop never ends when last is the largest int (i wraps); here it is the resource's error.
  assert.match(render('{{seq 9223372036854775806 9223372036854775807}}'), /error calling seq: .*never ends/);
});

test('quirks 19, 31, 32: getenv, case mapping, split, replace, join, contains, trimSuffix', () => {
  assert.equal(render('{{getenv "SET" "d"}} {{getenv "EMPTY" "d"}} {{getenv "UNSET" "d"}} [{{getenv "UNSET"}}]'), 'v d d []');
  assert.equal(render('{{toUpper "straße"}} {{toLower "İSTANBUL"}} {{toLower "ΑΣ ΟΔΟΣ"}}'), 'STRAßE istanbul ασ οδοσ');
  assert.equal(render('{{split "" ","}} {{len (split "" ",")}} {{split "abc" ""}} {{replace "abc" "" "-" -1}}'), '[] 1 [a b c] -a-b-c-');
  assert.equal(render('{{join (split "a,b" ",") "+"}} {{contains "abc" "bc"}} {{trimSuffix "a.conf" ".conf"}}'), 'a+b true a');
  assert.match(render('{{join (jsonArray "[\\"a\\"]") ","}}'), /expected \[\]string; got \[\]interface \{\}$/);
});

test('quirk 28: map', () => {
  assert.equal(render('{{$m := map "b" 2 "a" "x"}}{{$m.a}} {{$m}} {{map}}'), 'x map[a:x b:2] map[]');
});

test('quirk 34: lookupIP literals without DNS, names through the resolver, sorted', () => {
  assert.equal(render('{{lookupIP "127.0.0.1"}} {{lookupIP ""}} {{lookupIP "::FFFF:1.2.3.4"}} {{lookupIP "fe80::1%eth0"}}'), '[127.0.0.1] [] [1.2.3.4] [fe80::1]');
  assert.equal(render('{{lookupIP "db.test"}} {{lookupIPV4 "db.test"}} {{lookupIPV6 "db.test"}} {{lookupIP "nx.test"}}'), '[10.0.0.1 10.0.0.2 ::1 ::2] [10.0.0.1 10.0.0.2] [::1 ::2] []');
  assert.equal(render('{{range lookupSRV "http" "tcp" "svc.test"}}{{.Target}}:{{.Port}} {{end}}|{{lookupSRV "x" "y" "z"}}'), 'a.svc.test.:8080 b.svc.test.:80 |[]');
  assert.equal(normalizeIP('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(normalizeIP('1.2.3.04'), null, 'Go rejects leading zeros');
  assert.equal(normalizeIP('::1.2.3.4'), '::102:304');
});

test('lookupIP resolves real names through the system (localhost)', () => {
  const ips = confdFuncMap(store).lookupIP as GoFunction;
  const got = ips.call('localhost') as string[];
  assert.ok(got.includes('127.0.0.1') || got.includes('::1'), JSON.stringify(got));
  assert.deepEqual([...got], [...got].sort());
});

test('fileExists is util.IsFileExist', () => {
  const d = mkdtempSync(join(tmpdir(), 'fe-'));
  try {
    writeFileSync(join(d, 'f'), 'x');
    assert.equal(fn('fileExists').call(join(d, 'f')), true);
    assert.equal(fn('fileExists').call(d), true);
    assert.equal(fn('fileExists').call(join(d, 'nope')), false);
    assert.equal(fn('fileExists').call(''), false);
    assert.equal(fn('fileExists').call(join(d, 'f', 'under-a-file')), true, 'ENOTDIR is not "does not exist" in Go');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('datetime is a time.Time: methods and Go layouts (recorded results)', () => {
  const t1 = new GoTime(Date.UTC(2026, 0, 5, 7, 4, 9, 123), 456789, { utc: true });
  const t2 = new GoTime(Date.UTC(1999, 11, 31, 23, 59, 0, 0), 0, { utc: true });
  for (const [layout, want1, want2] of golden.time) {
    assert.equal(t1.Format(layout), want1, layout);
    assert.equal(t2.Format(layout), want2, layout);
  }
  const fixed = () => t1;
  assert.equal(
    render('{{datetime.Year}} {{datetime.Month}} {{datetime.Day}} {{datetime.Weekday}} {{datetime.YearDay}} {{datetime.Unix}} {{datetime.Nanosecond}}', { now: fixed }),
    '2026 January 5 Monday 5 1767596649 123456789',
  );
  assert.equal(render('{{(datetime).Format "2006-01-02T15:04:05Z07:00"}} {{datetime}}', { now: fixed }), '2026-01-05T07:04:09Z 2026-01-05 07:04:09.123456789 +0000 UTC');
  assert.match(render('{{datetime}}'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+ m=\+\d+\.\d{9}$/);
  assert.equal(render('{{printf "%T" datetime}}'), 'time.Time');
  // Recorded from Go 1.19 (time.Date(2026, 1, 5, 7, 4, 9, 123456789, time.UTC)): UnixNano exact beyond 2^53.
  assert.equal(render('{{datetime.UnixNano}} {{datetime.UnixMicro}} {{datetime.UnixMilli}}', { now: fixed }), '1767596649123456789 1767596649123456 1767596649123');
  assert.equal(t1.Before(new GoTime(Date.UTC(2026, 0, 5, 7, 4, 9, 123), 456790, { utc: true })), true);
  assert.equal(t1.Equal(new GoTime(Date.UTC(2026, 0, 5, 7, 4, 9, 123), 456790, { utc: true })), false);
});

test('datetime zone names come from tzdata as Go prints them (recorded from Go 1.19)', () => {
  const gotime = new URL('../../../src/template/confd/gotime.ts', import.meta.url).href;
  const script = `import('${gotime}').then((m) => console.log(new m.GoTime(Date.UTC(2026, 6, 1, 12)).Format('MST -0700'), new m.GoTime(Date.UTC(2026, 0, 1, 12)).Format('MST -0700')))`;
  const want: Record<string, string> = {
    'Europe/Paris': 'CEST +0200 CET +0100',
    'America/New_York': 'EDT -0400 EST -0500',
    'Asia/Tokyo': 'JST +0900 JST +0900',
    'America/Sao_Paulo': '-03 -0300 -03 -0300',
    ':Asia/Seoul': 'KST +0900 KST +0900',
    '': 'UTC +0000 UTC +0000',
    'Nowhere/Bad': 'UTC +0000 UTC +0000',
  };
  for (const [tz, expected] of Object.entries(want)) {
    if (tz.includes('/') && !tz.startsWith('Nowhere') && !readableZone(tz)) continue; // no tzdata installed
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, TZ: tz }, encoding: 'utf8' }).trim();
    assert.equal(out, expected, `TZ=${tz}`);
  }
});

function readableZone(tz: string): boolean {
  try {
    readFileSync(`/usr/share/zoneinfo/${tz.replace(/^:/, '')}`);
    return true;
  } catch {
    return false;
  }
}

test('json of a value that is not UTF-8: each bad byte in a string is U+FFFD, outside one a syntax error (Go 1.19)', () => {
  // Recorded with Go 1.19's json.Unmarshal on the same bytes.
  assert.throws(() => unmarshalObject(decodeBytes(Buffer.from([0xff]))), { message: "invalid character 'ÿ' looking for beginning of value" });
  const m = unmarshalObject(decodeBytes(Buffer.from('{"a":"x\xe9\xe2\x82y"}', 'latin1')));
  assert.equal(m.get('a'), 'x\ufffd\ufffd\ufffdy');
});

test('toUpper/toLower write a byte that is not UTF-8 as U+FFFD; split "" keeps it only in the last piece (Go 1.19, see bytes-invalid-utf8.json)', () => {
  const s = decodeBytes(Buffer.from('caf\xe9\xff', 'latin1'));
  assert.equal(fn('toUpper').call(s), 'CAF\ufffd\ufffd');
  assert.equal(fn('toLower').call(s), 'caf\ufffd\ufffd');
  assert.deepEqual(
    (fn('split').call(s, '') as string[]).map((p) => encodeString(p).toString('hex')),
    ['63', '61', '66', 'efbfbd', 'ff'],
  );
});
