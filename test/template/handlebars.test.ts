// The Handlebars adapter: the seed example renders byte for byte as confd's Go output (the
// conformance corpus, case 01), confd's helpers behave as the Go functions, errors are located.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileHandlebars, HandlebarsTemplateError } from '../../src/template/handlebars.js';
import { KeyStore } from '../../src/template/confd/store.js';
import { SnapshotStores } from '../../src/runtime/views.js';
import { compareBytes } from '../../src/keys/index.js';
import { join } from '../../src/keys/gopath.js';

const seedCase = '/work/shared/conformance/cases/01-seed-nginx';

// The seed template of /work/shared/notes/dependencies.md section 6, with the seed's
// proxy_redirect/proxy_set_header lines that the Go template of case 01 has. Standalone block
// lines vanish with their newline, hence the blank line after the first and after the last.
const SEED_HBS = `{{#each (gets "/service/*")}}

upstream backend_{{base Key}} {  {{#each (getvs "/node/*")}}
    server {{this}}:{{../Value}}{{/each}}
}

server {
    server_name {{base Key}}.example.com;
    location / {
        proxy_pass http://backend_{{base Key}};
        proxy_redirect    off;
        proxy_set_header  Host             $host;
        proxy_set_header  X-Real-IP        $remote_addr;
        proxy_set_header  X-Forwarded-For  $proxy_add_x_forwarded_for;
    }
}
{{/each}}

`;

function seedStore(): KeyStore {
  const keys = JSON.parse(readFileSync(`${seedCase}/keys.json`, 'utf8')) as Record<string, string>;
  const kvs = Object.entries(keys)
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => compareBytes(a.key, b.key));
  const prefix = '/docker';
  return new SnapshotStores(kvs).storeFor(prefix, ['/node', '/service'].map((k) => join(prefix, k)));
}

test('the seed example in Handlebars renders byte for byte as confd renders the Go template', () => {
  const expected = readFileSync(`${seedCase}/expected/myapp.conf`, 'utf8');
  const t = compileHandlebars('nginx.hbs', SEED_HBS);
  assert.equal(t.render(seedStore()), expected);
  assert.equal(compileHandlebars('nginx.hbs', SEED_HBS, seedStore())(), expected, 'store bound at compile time');
});

const store = new KeyStore([
  ['/app/name', 'a&b<"c">'],
  ['/app/port', '80'],
  ['/app/json', '{"hosts":["h1","h2"],"n":1000000,"o":{"k":"v"}}'],
  ['/app/list/b', '2'],
  ['/app/list/a', '1'],
]);

function render(text: string): string {
  return compileHandlebars('t.hbs', text).render(store, { env: { HOME_DIR: '/home/x' } });
}

test('helpers: store functions, defaults, no HTML escaping', () => {
  assert.equal(render('{{getv "/app/name"}}'), 'a&b<"c">');
  assert.equal(render('{{getv "/app/missing" "dflt"}}|{{exists "/app/port"}}|{{exists "/app"}}'), 'dflt|true|false');
  assert.equal(render('{{#each (gets "/app/list/*")}}{{Key}}={{Value}};{{/each}}'), '/app/list/a=1;/app/list/b=2;');
  assert.equal(render('{{#each (ls "/app")}}{{this}} {{/each}}|{{#each (lsdir "/app")}}{{this}}{{/each}}'), 'json list name port |list');
  assert.equal(render('{{#each (getvs "/app/list/*")}}{{this}}{{/each}}'), '12');
});

test('helpers: confd functions, Go values made plain', () => {
  assert.equal(render('{{add 2 3}} {{toUpper "straße"}} {{base "/a/b"}} {{dir "/a/b"}} {{replace "abc" "b" "x" -1}}'), '5 STRAßE b /a axc');
  assert.equal(render('{{#with (json (getv "/app/json"))}}{{#each hosts}}{{this}},{{/each}} {{n}} {{o.k}}{{/with}}'), 'h1,h2, 1000000 v');
  assert.equal(render('{{join (split "a,b" ",") "+"}} {{getenv "HOME_DIR"}} {{#each (seq 1 3)}}{{this}}{{/each}}'), 'a+b /home/x 123');
  assert.equal(render('{{#each (map "k" "v")}}{{@key}}={{this}}{{/each}}'), 'k=v');
  assert.equal(render('{{#if (parseBool "true")}}yes{{/if}} {{#if (contains "abc" "z")}}yes{{else}}no{{/if}}'), 'yes no');
});

test('a block parameter named like a helper stays a parameter; datetime and map need no arguments', () => {
  assert.equal(render('{{#each (split "x,y" ",") as |base|}}{{base}}{{/each}}'), 'xy');
  assert.match(render('{{datetime}}'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  assert.equal(render('{{#each (map)}}x{{/each}}.'), '.');
});

test('errors name the template, line and column, with Go error texts', () => {
  assert.throws(
    () => render('line1\n  {{getv "/app/missing"}}'),
    (e: unknown) => e instanceof HandlebarsTemplateError && e.message === 't.hbs:2:3: error calling getv: key does not exist: /app/missing' && e.line === 2,
  );
  assert.throws(() => render('{{div 1 0}}'), { message: 't.hbs:1:1: error calling div: runtime error: integer divide by zero' });
  assert.throws(() => render('{{add "1" 2}}'), { message: 't.hbs:1:1: error calling add: wrong type for value; expected int; got string' });
  assert.throws(() => render('{{seq 1}}'), { message: 't.hbs:1:1: error calling seq: wrong number of args for seq: want 2 got 1' });
  assert.throws(() => render('a\n{{nosuch "/x"}}'), (e: unknown) => e instanceof HandlebarsTemplateError && e.message === 't.hbs:2:3: "nosuch" not defined' && e.line === 2 && e.col === 3);
  assert.throws(() => render('{{#each (gets "/app/*")}}{{Nope}}{{/each}}'), { message: 't.hbs:1:28: "Nope" not defined' });
  assert.throws(
    () => compileHandlebars('bad.hbs', 'a\n{{#each x}}'),
    (e: unknown) => e instanceof HandlebarsTemplateError && e.message.startsWith('bad.hbs: Parse error on line 2') && e.line === 2,
  );
});
