// The import graph of src/: no circle, and every arrow runs one way,
//   cli → runtime → resource → (template, backends) → leaves,
// where a layer may import any layer below it, the template engine and the backends never import
// each other, template/go knows nothing of confd, and a leaf (src/keys, src/time, src/bytes.ts,
// src/log.ts, src/suggest.ts) imports only leaves. Type-only imports count: they are arrows too.
// Pure logic over the source text; the parser is checked on fixtures first, so a parser that
// finds nothing cannot make the graph checks pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/** Every module specifier `text` imports: static, `export … from`, side-effect, `import()` and `import('…').T` types. */
function importSpecifiers(text: string): string[] {
  // Comments go first (a comment may quote an import); strings stay: specifiers are strings.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const p of patterns) for (const m of code.matchAll(p)) found.push(m[1]!);
  return found;
}

/** Every .ts file under dir, as paths relative to src/ with "/" separators. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(path));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(relative(SRC, path).split('\\').join('/'));
  }
  return out.sort();
}

/** file → the src files it imports (relative specifiers only; packages and node: builtins are not ours). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets = importSpecifiers(readFileSync(join(SRC, file), 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => posix.normalize(posix.join(posix.dirname(file), s)).replace(/\.js$/, '.ts'));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (;;) {
      const w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

type Layer = 'cli' | 'runtime' | 'resource' | 'template' | 'template/go' | 'backends' | 'leaf';

const LEAVES = ['keys/', 'time/', 'bytes.ts', 'log.ts', 'suggest.ts'];

function layerOf(file: string): Layer {
  if (LEAVES.some((l) => (l.endsWith('/') ? file.startsWith(l) : file === l))) return 'leaf';
  if (file === 'cli.ts' || file.startsWith('cli/')) return 'cli';
  if (file.startsWith('runtime/')) return 'runtime';
  if (file.startsWith('resource/')) return 'resource';
  if (file.startsWith('template/go/')) return 'template/go';
  if (file.startsWith('template/')) return 'template';
  if (file.startsWith('backends/')) return 'backends';
  throw new Error(`${file}: in no layer; add its folder to test/architecture/imports.test.ts`);
}

/** What each layer may import besides itself. */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  cli: ['runtime', 'resource', 'template', 'template/go', 'backends', 'leaf'],
  runtime: ['resource', 'template', 'template/go', 'backends', 'leaf'],
  resource: ['template', 'template/go', 'backends', 'leaf'],
  template: ['template/go', 'leaf'],
  'template/go': ['leaf'],
  backends: ['leaf'],
  leaf: [],
};

function againstLayers(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const wrong: string[] = [];
  for (const [from, targets] of graph) {
    const a = layerOf(from);
    for (const to of targets) {
      const b = layerOf(to);
      if (a !== b && !MAY_IMPORT[a].includes(b)) wrong.push(`${from} (${a}) → ${to} (${b})`);
    }
  }
  return wrong;
}

test('the import parser finds every kind of import and none in comments', () => {
  const text = [
    `import { a } from './a.js';`,
    `import type { B } from '../b.js';`,
    `import {`,
    `  c,`,
    `  type D,`,
    `} from "./c.js";`,
    `export { e } from './e.js';`,
    `export * from './f.js';`,
    `import './side-effect.js';`,
    `import * as ns from 'node:fs';`,
    `const m = await import('./lazy.js');`,
    `let t: import('./type-only.js').T;`,
    `// import { no } from './commented.js';`,
    `/* import('./commented-block.js') */`,
    `const s = 'from "./not-an-import.js"';`,
  ].join('\n');
  assert.deepEqual(importSpecifiers(text).sort(), [
    '../b.js',
    './a.js',
    './c.js',
    './e.js',
    './f.js',
    './lazy.js',
    './side-effect.js',
    './type-only.js',
    'node:fs',
  ]);
});

test('circles() finds a circle of two, a longer one and a self-import, and nothing in a tree', () => {
  const g = new Map<string, string[]>([
    ['a', ['b']],
    ['b', ['a', 'c']],
    ['c', ['d']],
    ['d', ['e']],
    ['e', ['c']],
    ['f', ['f']],
    ['g', ['a', 'h']],
    ['h', []],
  ]);
  assert.deepEqual(circles(g).sort(), [['a', 'b'], ['c', 'd', 'e'], ['f']]);
  assert.deepEqual(circles(new Map([['x', ['y']], ['y', []]])), []);
});

test('the layer rule refuses arrows upwards and between template and backends', () => {
  const g = new Map<string, string[]>([
    ['resource/process.ts', ['runtime/watch.ts', 'template/confd/store.ts', 'keys/order.ts']],
    ['template/confd/store.ts', ['backends/types.ts']],
    ['template/go/exec.ts', ['template/confd/funcs.ts']],
    ['keys/order.ts', ['bytes.ts', 'log.ts']],
    ['bytes.ts', ['resource/model.ts']],
  ]);
  assert.deepEqual(againstLayers(g), [
    'resource/process.ts (resource) → runtime/watch.ts (runtime)',
    'template/confd/store.ts (template) → backends/types.ts (backends)',
    'template/go/exec.ts (template/go) → template/confd/funcs.ts (template)',
    'bytes.ts (leaf) → resource/model.ts (resource)',
  ]);
});

test('src/ has no import circle', () => {
  const graph = importGraph();
  // The graph is real: the entry point and the pipeline are in it, with their arrows.
  assert.ok(graph.size > 100, `only ${graph.size} files found under src/`);
  assert.ok(graph.get('cli.ts')!.includes('runtime/onetime.ts'));
  const found = circles(graph);
  assert.deepEqual(found, [], `import circles:\n${found.map((c) => '  ' + c.join(' ↔ ')).join('\n')}`);
});

test('every import in src/ runs with the layers: cli → runtime → resource → (template, backends) → leaves', () => {
  const graph = importGraph();
  for (const [from, targets] of graph) {
    for (const to of targets) assert.ok(graph.has(to), `${from} imports ${to}, which is not a file under src/`);
  }
  const wrong = againstLayers(graph);
  assert.deepEqual(wrong, [], `imports against the layer order:\n${wrong.map((w) => '  ' + w).join('\n')}`);
});
