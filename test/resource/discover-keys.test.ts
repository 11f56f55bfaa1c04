import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverKeys, discoveredCover, literalDir } from '../../src/resource/discover-keys.js';

const ROOT = join(import.meta.dirname, '../..');

test('literalDir: the directory before the first meta character', () => {
  assert.equal(literalDir('/sites/*'), '/sites');
  assert.equal(literalDir('/a/b*'), '/a');
  assert.equal(literalDir('/a/b/c'), '/a/b/c');
  assert.equal(literalDir('/*/port'), '/');
  assert.equal(literalDir('/a/[xy]/z'), '/a');
  assert.equal(literalDir('/a/b?c/d'), '/a');
  assert.equal(literalDir('/a/\\*'), '/a');
});

test('discoveredCover: dedupes, drops keys under another, keeps /apple beside /app', () => {
  assert.deepEqual(discoveredCover(['/app/x', '/app', '/apple', '/app/', '/b/c', '/b/c']), ['/app', '/apple', '/b/c']);
  assert.deepEqual(discoveredCover(['/', '/a']), ['/']);
  // "/app-x" sorts between "/app" and "/app/x"; /app still covers /app/x.
  assert.deepEqual(discoveredCover(['/app', '/app-x', '/app/x']), ['/app', '/app-x']);
});

test('the seed template: /node and /service', () => {
  const text = readFileSync(join(ROOT, 'templates/nginx.tmpl'), 'utf8');
  assert.deepEqual(discoverKeys('nginx.tmpl', text, 'go'), ['/node', '/service']);
});

test('every key function, in nested and define\'d templates, with and without patterns', () => {
  const text = `{{define "t"}}{{ls "/in/define"}}{{end}}
{{if exists "/flag"}}{{get "/one/key"}}{{end}}
{{range lsdir "/dirs"}}{{getv "/x/y" "default"}}{{end}}
{{with gets "/svc/*/port"}}{{.}}{{end}}{{getvs "/multi/[ab]*" | len}}
{{template "t" .}}{{base "/not/a/key"}}`;
  assert.deepEqual(discoverKeys('t.tmpl', text, 'go'), ['/dirs', '/flag', '/in/define', '/multi', '/one/key', '/svc', '/x/y']);
});

test('non-literal keys are refused with positions and a request for keys', () => {
  const text = '{{getv "/ok"}}\n{{$k := "/v"}}{{getv $k}}\n{{gets (printf "/s/%s" "x")}}';
  assert.throws(
    () => discoverKeys('bad.tmpl', text, 'go'),
    (e: Error) => {
      assert.match(e.message, /^bad\.tmpl:2:\d+: getv has no string literal key; bad\.tmpl:3:\d+: gets has no string literal key; /);
      assert.match(e.message, /list them in keys = \[\.\.\.\]$/);
      return true;
    },
  );
});

test('Handlebars templates are not scanned', () => {
  assert.throws(() => discoverKeys('x.hbs', '{{getv "/a"}}', 'handlebars'), /only Go templates can be scanned/);
});

test('a parse error surfaces as the engine reports it', () => {
  assert.throws(() => discoverKeys('p.tmpl', '{{getv "/a"', 'go'), /template: p\.tmpl:1: unclosed action/);
});
