// The engine's public API: TemplateError fields, lookup, listCalls, function kinds (GoFunction,
// plain JS functions, methods with GO_METHODS signatures), data conventions and re-entrancy.
// Expected error texts were measured with Go 1.19 (see engine-gen/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputLimitError, parse, TemplateError } from '../../../src/template/go/index.js';
import { decodeBytes, encodeString } from '../../../src/bytes.js';
import { GO_METHODS, GoFloat, goFunc, nilSlice, withGoType } from '../../../src/template/go/value.js';
import { confdLikeFuncs } from './engine-funcs.js';

function execError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TemplateError, `not a TemplateError: ${e}`);
    return e;
  }
  assert.fail('no error');
}

test('parse errors are TemplateErrors of kind parse with the line', () => {
  const e = execError(() => parse('app.tmpl', 'a\nb\n{{if}}', {}));
  assert.equal(e.kind, 'parse');
  assert.equal(e.templateName, 'app.tmpl');
  assert.equal(e.line, 3);
  assert.equal(e.message, 'template: app.tmpl:3: missing value for if');
});

test('execution errors carry kind, name, line and byte column', () => {
  const t = parse('app.tmpl', 'é\n  {{define "d"}}x{{.a.b}}{{end}}é{{getv "/nope"}}', { funcs: confdLikeFuncs });
  const e = execError(() => t.execute(undefined));
  assert.equal(e.kind, 'exec');
  assert.equal(e.templateName, 'app.tmpl');
  assert.equal(e.line, 2);
  // Go counts columns in bytes (0-based): "  {{define "d"}}x{{.a.b}}{{end}}é{{" is 36 bytes.
  assert.equal(e.col, 36);
  assert.equal(e.message, 'template: app.tmpl:2:36: executing "app.tmpl" at <getv "/nope">: error calling getv: key does not exist: /nope');
  // A field chain is located at its last field (Go positions the chain there).
  const d = execError(() => t.lookup('d')!.execute(new Map([['a', 'str']])));
  assert.equal(d.templateName, 'd');
  assert.equal(d.message, 'template: app.tmpl:2:21: executing "d" at <.a.b>: can\'t evaluate field b in type interface {}');
});

test('lookup finds define, block and the top-level template, and nothing else', () => {
  const t = parse('main', '{{define "a"}}A{{.}}{{end}}{{block "b" .}}B{{end}}M', {});
  assert.equal(t.lookup('a')!.execute('x'), 'Ax');
  assert.equal(t.lookup('b')!.execute(undefined), 'B');
  assert.equal(t.lookup('main')!.execute(undefined), 'BM');
  assert.equal(t.lookup('nope'), undefined);
});

test('listCalls reports every call with literal arguments, in text order, defines included', () => {
  const text = [
    '{{define "x"}}{{exists "/b"}}{{end}}{{getv "/a"}}',
    '{{range gets "/svc/*"}}{{getv (printf "/x/%s" .Key) "d"}}{{end}}',
    '{{"/c" | getv}}{{if getv `/raw`}}{{end}}{{template "x" getv "/t"}}',
  ].join('\n');
  const funcs = { ...confdLikeFuncs, exists: goFunc(['string'], () => true) };
  const calls = parse('t', text, { funcs }).listCalls(new Set(['getv', 'gets', 'exists']));
  assert.deepEqual(calls, [
    { func: 'exists', args: ['/b'], line: 1, col: 16 },
    { func: 'getv', args: ['/a'], line: 1, col: 38 },
    { func: 'gets', args: ['/svc/*'], line: 2, col: 8 },
    { func: 'getv', args: [null, 'd'], line: 2, col: 25 },
    { func: 'getv', args: [], line: 3, col: 9 },
    { func: 'getv', args: ['/raw'], line: 3, col: 20 },
    { func: 'getv', args: ['/t'], line: 3, col: 55 },
  ]);
});

test('a plain JS function is func(...interface {}) interface {}: any arguments, nil for missing values', () => {
  const seen: unknown[][] = [];
  const funcs = {
    f: (...args: unknown[]) => {
      seen.push(args);
      return args.length;
    },
  };
  assert.equal(parse('t', '{{f}} {{f 1 "a" .missing nil 1.5}}', { funcs }).execute(new Map()), '0 5');
  assert.deepEqual(seen[1].slice(0, 4), [1, 'a', null, null]);
  assert.ok(seen[1][4] instanceof GoFloat);
});

test('a thrown error becomes "error calling NAME", whatever was thrown', () => {
  const funcs = { boom: () => { throw 'plain string'; }, fail: goFunc([], () => { throw new Error('bad'); }, { returnsError: true }) };
  assert.equal(execError(() => parse('t', '{{boom}}', { funcs }).execute(undefined)).message, 'template: t:1:2: executing "t" at <boom>: error calling boom: plain string');
  assert.equal(execError(() => parse('t', '{{fail}}', { funcs }).execute(undefined)).message, 'template: t:1:2: executing "t" at <fail>: error calling fail: bad');
});

class Svc {
  constructor(public Name: string) {
    withGoType(this, 'main.Svc');
  }
  Addr(port: number): string {
    return `${this.Name}:${port}`;
  }
  Hello(): string {
    return 'hi ' + this.Name;
  }
}
(Svc.prototype as unknown as Record<symbol, unknown>)[GO_METHODS] = { Addr: { params: ['int'] }, Hello: { params: [] } };

test('methods on the prototype are called with arguments checked against GO_METHODS', () => {
  const svc = new Svc('web');
  assert.equal(parse('t', '{{.Addr 80}} {{.Hello}} {{.Name}}', {}).execute(svc), 'web:80 hi web web');
  assert.equal(
    execError(() => parse('t', '{{.Addr "x"}}', {}).execute(svc)).message,
    'template: t:1:8: executing "t" at <"x">: expected integer; found "x"',
  );
  assert.equal(
    execError(() => parse('t', '{{.Hello 1}}', {}).execute(svc)).message,
    'template: t:1:2: executing "t" at <.Hello>: wrong number of args for Hello: want 0 got 1',
  );
  // Object.prototype and lowercase names are not methods.
  assert.equal(execError(() => parse('t', '{{.toString}}', {}).execute(svc)).message, 'template: t:1:2: executing "t" at <.toString>: can\'t evaluate field toString in type main.Svc');
});

test('typed maps give the zero value of their element type for missing keys in index', () => {
  const m = withGoType(new Map([['a', 'x']]), 'map[string]string');
  assert.equal(parse('t', '[{{index . "b"}}]', {}).execute(m), '[]');
  const untyped = new Map([['a', 'x']]);
  assert.equal(parse('t', '[{{index . "b"}}]', {}).execute(untyped), '[<no value>]');
});

test('null and undefined data are both Go nil data', () => {
  const t = parse('t', '{{.}} {{.a}}', {});
  assert.equal(t.execute(null), '<no value> <no value>');
  assert.equal(t.execute(undefined), '<no value> <no value>');
});

test('a template renders the same on every execution and can be re-entered by its functions', () => {
  let inner: ReturnType<typeof parse> | undefined;
  const funcs = { nested: (x: unknown) => inner!.execute(x) };
  inner = parse('inner', '{{$v := .}}<{{$v}}>', {});
  const t = parse('t', '{{$a := 1}}{{range split "x,y" ","}}{{nested .}}{{$a}}{{end}}', { funcs: { ...confdLikeFuncs, ...funcs } });
  assert.equal(t.execute(undefined), '<x>1<y>1');
  assert.equal(t.execute(undefined), '<x>1<y>1');
});

test('range over an integer is an execution error, as in Go 1.19', () => {
  assert.equal(execError(() => parse('t', '{{range 1}}{{end}}', {}).execute(undefined)).message, 'template: t:1:8: executing "t" at <1>: range can\'t iterate over 1');
});

test('break and continue are keywords only when no function of that name exists', () => {
  const funcs = { break: () => 'B' };
  assert.equal(parse('t', '{{break}}', { funcs }).execute(undefined), 'B');
});

test('deep template recursion is reported as Go reports its depth limit', () => {
  const t = parse('t', '{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}', {});
  assert.equal(execError(() => t.execute(undefined)).message, 'template: t:1:25: executing "r" at <{{template "r" .}}>: exceeded maximum template depth (100000)');
});

test('one field site serves receivers of different types in turn (inline cache)', () => {
  const items = [new Svc('a'), new Map([['Name', 'm'], ['Hello', 'not a method']]), new Svc('b'), { Name: 'plain', Hello: 'field' }];
  assert.equal(parse('t', '{{range .}}{{.Name}}/{{.Hello}};{{end}}', {}).execute(items), 'a/hi a;m/not a method;b/hi b;plain/field;');
});

test('nil slices (nilSlice) equal nil in eq, print as empty and range as empty', () => {
  const funcs = { none: goFunc([], () => nilSlice('[]string')), some: goFunc([], () => withGoType(['x'], '[]string')) };
  const t = parse('t', '{{eq none nil}} {{eq some nil}} {{none}} {{len none}} {{range none}}x{{else}}empty{{end}}', { funcs });
  assert.equal(t.execute(undefined), 'true false [] 0 empty');
});

test('an error of a template executed by a function is that function\'s error', () => {
  const inner = parse('inner', '{{.x.y}}', {});
  const t = parse('outer', '{{render .}}', { funcs: { render: (d: unknown) => inner.execute(d) } });
  assert.equal(
    execError(() => t.execute(new Map([['x', 1]]))).message,
    'template: outer:1:2: executing "outer" at <render .>: error calling render: template: inner:1:4: executing "inner" at <.x.y>: can\'t evaluate field y in type interface {}',
  );
});

test('maxOutputBytes: a render past the bound fails, located, instead of growing until V8 gives up', () => {
  const t = parse('big.tmpl', 'head\n{{range .}}{{.}}0123456789abcdef0123456789abcdef{{end}}', {});
  const data = Array.from({ length: 1000 }, (_, i) => i % 10); // 5 + 1000 * 33 = 33,005 bytes
  assert.equal(t.execute(data, { maxOutputBytes: 33_005 }).length, 33_005); // at the bound: fine
  const e = execError(() => t.execute(data, { maxOutputBytes: 20_000 }));
  assert.ok(e instanceof OutputLimitError);
  assert.equal(e.limit, 20_000);
  assert.equal(e.line, 2);
  assert.match(e.message, /^template: big\.tmpl:2:\d+: executing "big\.tmpl" at <\{\{\.\}\}>: output is larger than the limit of 20000 bytes$/);
  // Bytes, not UTF-16 units: 1000 x "é" is 2000 bytes.
  const accents = parse('a', '{{range .}}é{{end}}', {});
  assert.throws(() => accents.execute(Array(10_000).fill(0), { maxOutputBytes: 19_999 }), OutputLimitError);
  assert.equal(accents.execute(Array(10_000).fill(0), { maxOutputBytes: 20_000 }).length, 10_000);
  // No bound by default.
  assert.equal(t.execute(data).length, 33_005);
});

test('template text that is not UTF-8 keeps its bytes where Go does (recorded with Go 1.19)', () => {
  // a\xffb|{{"c\xe9d"}}|{{`r\xe9w`}}|{{len "\xe9"}}|{{printf "%q" "x\xe9\\n"}} as raw bytes in the file
  const text = decodeBytes(Buffer.concat([Buffer.from('a\xffb|{{"c\xe9d"}}|{{`r\xe9w`}}|{{len "\xe9"}}|{{printf "%q" "x\xe9\\n"}}', 'latin1')]));
  const out = encodeString(parse('t', text, {}).execute(undefined));
  assert.equal(out.toString('hex'), '61ff627c63efbfbd647c72e9777c337c2278efbfbd5c6e22');
});
