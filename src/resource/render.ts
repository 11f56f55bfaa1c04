// Rendering one resource's template in memory, with confd's error texts:
//   Missing template: <abs src>
//   Unable to process template <abs src>, template: app.tmpl:3: ...   (parse errors)
//   template: app.tmpl:2:10: executing "app.tmpl" at <...>: ...        (execution errors)
import { readFileSync } from 'node:fs';
import { byteLength, decodeBytes } from '../bytes.js';
import { OutputLimitError, parse } from '../template/go/index.js';
import { confdFuncMap } from '../template/confd/funcs.js';
import { KeyStore } from '../template/confd/store.js';
import type { TemplateResource } from './model.js';
import { templateDelims } from './extensions.js';
import { IncludeFunction, readIncluded, requireLiteralIncludes, templatesDirOf } from './include.js';

/** A parsed template, ready to execute against the store it was compiled for. */
export interface CompiledTemplate {
  /** Throws a located error once the output passes maxOutputBytes (ProcessOptions). */
  execute(bound?: OutputBound): string;
}

export interface OutputBound {
  /** -max-output-bytes (default DEFAULT_MAX_OUTPUT_BYTES). */
  maxOutputBytes?: number;
}

/**
 * The bytes a render may produce. A rendered file lives in memory about 3.5 times over while it
 * is built and encoded (178 MB of output: 620 MB peak RSS), and V8 cannot hold one string beyond
 * ~2^29 UTF-16 units (about 512 MiB of ASCII): past that a render used to fail with "Invalid
 * string length" and no position, and a runaway template (10 GB) aborted the process. The
 * default refuses nothing a config agent plausibly writes and stays far from both limits.
 */
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** Runs a render under the bound; its errors name the template position (Go) or file (Handlebars) and the limit. */
function bounded(resource: TemplateResource, bound: OutputBound | undefined, render: (maxOutputBytes: number) => string): string {
  const limit = bound?.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const tooLarge = (where: string) =>
    new Error(`${where}: output is larger than the limit of ${limit} bytes (-max-output-bytes); ${resource.dest} is left as it is`);
  let out: string;
  try {
    out = render(limit);
  } catch (e) {
    if (e instanceof OutputLimitError) throw new Error(`${e.message} (-max-output-bytes); ${resource.dest} is left as it is`);
    if (e instanceof RangeError && /Invalid string length/.test(e.message)) {
      throw new Error(`${resource.src}: output is larger than JavaScript can hold in one string (about 512 MiB); ${resource.dest} is left as it is`);
    }
    throw e;
  }
  // Handlebars builds its output without our bound: it is checked once built.
  if (out.length * 3 > limit && byteLength(out) > limit) throw tooLarge(resource.src);
  return out;
}

/** Reads the template; throws confd's "Missing template" when it does not exist. */
export async function readTemplate(resource: TemplateResource): Promise<string> {
  try {
    // Synchronous: a template is a small local file, and an awaited read is four thread-pool round trips.
    // Bytes that are not UTF-8 stay bytes in the output, as in Go (src/bytes.ts).
    return decodeBytes(readFileSync(resource.src));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`Missing template: ${resource.src}`);
    throw new Error(`Unable to process template ${resource.src}, ${(e as Error).message}`);
  }
}

/** A parsed template and the store its confd functions read while it executes (set per execution). */
interface Parsed {
  readonly text: string;
  execute(store: KeyStore, bound?: OutputBound): string;
}

const compiled = new WeakMap<TemplateResource, Parsed>();
const NO_KEYS = new KeyStore([]);
const RESOLVING = ['lookupIP', 'lookupIPV4', 'lookupIPV6'];

/**
 * Parses the template with confd's functions bound to `store`. Throws confd's parse error text.
 * Handlebars is loaded only for resources that use it (it is large and most runs never need it).
 */
export async function compileTemplate(resource: TemplateResource, text: string, store: KeyStore): Promise<CompiledTemplate> {
  // Watch mode renders a resource again and again, each time from a new immutable view
  // (runtime/views.ts): parse once per template text; the functions read the store given here
  // while it executes. Parse errors are not cached, so they are reported on every render as before.
  const hit = compiled.get(resource);
  if (hit && hit.text === text) return { execute: (bound) => hit.execute(store, bound) };
  try {
    if (resource.engine === 'handlebars') {
      const { compileHandlebars } = await import('../template/handlebars.js');
      // {{> name.hbs}} renders <templates>/name.hbs: the same names and refusals as include (include.ts).
      const loadPartial = (name: string) => readIncluded(templatesDirOf(resource), name);
      const render = compileHandlebars(resource.name, text, store, undefined, { loadPartial });
      return { execute: (bound) => bounded(resource, bound, () => render()) };
    }
    const delims = templateDelims(resource);
    // A fan-out file (fanout.ts) renders with its key's KVPair as dot.
    const dot = () => resource.ext?.dot ?? null;
    const include = new IncludeFunction(templatesDirOf(resource), { name: resource.name, file: resource.src }, delims, dot);
    const reads = { store: NO_KEYS };
    const t = parse(resource.name, text, { funcs: include.install(confdFuncMap(() => reads.store)), delims });
    requireLiteralIncludes(t, resource.name);
    // The function map caches DNS answers for its life, which must stay one render.
    const resolves = t.listCalls(new Set(RESOLVING)).length > 0;
    const parsed: Parsed = {
      text,
      // Synchronous from start to end: no other execution can swap the store meanwhile.
      execute: (s, bound) => {
        reads.store = s;
        try {
          include.beginRender();
          const out = bounded(resource, bound, (maxOutputBytes) => t.execute(dot(), { maxOutputBytes }));
          if (include.resolves && compiled.get(resource) === parsed) compiled.delete(resource);
          return out;
        } finally {
          reads.store = NO_KEYS;
        }
      },
    };
    // A store made for one pass is not rendered from again (runtime/views.ts SnapshotStores): nothing to keep.
    if (!resolves && !store.transient) compiled.set(resource, parsed);
    return { execute: (bound) => parsed.execute(store, bound) };
  } catch (e) {
    throw new Error(`Unable to process template ${resource.src}, ${(e as Error).message}`);
  }
}
