// Rendering one resource's template in memory, with confd's error texts:
//   Missing template: <abs src>
//   Unable to process template <abs src>, template: app.tmpl:3: ...   (parse errors)
//   template: app.tmpl:2:10: executing "app.tmpl" at <...>: ...        (execution errors)
import { readFileSync } from 'node:fs';
import { parse } from '../template/go/index.js';
import { confdFuncMap } from '../template/confd/funcs.js';
import type { KeyStore } from '../template/confd/store.js';
import type { TemplateResource } from './load.js';
import { templateDelims } from './extensions.js';
import { IncludeFunction, readIncluded, requireLiteralIncludes, templatesDirOf } from './include.js';

/** A parsed template, ready to execute against the store it was compiled for. */
export interface CompiledTemplate {
  execute(): string;
}

/** Reads the template; throws confd's "Missing template" when it does not exist. */
export async function readTemplate(resource: TemplateResource): Promise<string> {
  try {
    // Synchronous: a template is a small local file, and an awaited read is four thread-pool round trips.
    return readFileSync(resource.src, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`Missing template: ${resource.src}`);
    throw new Error(`Unable to process template ${resource.src}, ${(e as Error).message}`);
  }
}

const compiled = new WeakMap<TemplateResource, { text: string; store: KeyStore; template: CompiledTemplate }>();
const RESOLVING = ['lookupIP', 'lookupIPV4', 'lookupIPV6'];

/**
 * Parses the template with confd's functions bound to `store`. Throws confd's parse error text.
 * Handlebars is loaded only for resources that use it (it is large and most runs never need it).
 */
export async function compileTemplate(resource: TemplateResource, text: string, store: KeyStore): Promise<CompiledTemplate> {
  // Watch mode renders a resource again and again against the same store (updated in place,
  // template/confd/store.ts LiveStores): parse once per template text. Parse errors are not
  // cached, so they are reported on every render as before.
  const hit = compiled.get(resource);
  if (hit && hit.text === text && hit.store === store) return hit.template;
  try {
    if (resource.engine === 'handlebars') {
      const { compileHandlebars } = await import('../template/handlebars.js');
      // {{> name.hbs}} renders <templates>/name.hbs: the same names and refusals as include (include.ts).
      const loadPartial = (name: string) => readIncluded(templatesDirOf(resource), name);
      const render = compileHandlebars(resource.name, text, store, undefined, { loadPartial });
      return { execute: () => render() };
    }
    const delims = templateDelims(resource);
    // A fan-out file (fanout.ts) renders with its key's KVPair as dot.
    const dot = () => resource.ext?.dot ?? null;
    const include = new IncludeFunction(templatesDirOf(resource), { name: resource.name, file: resource.src }, delims, dot);
    const t = parse(resource.name, text, { funcs: include.install(confdFuncMap(store)), delims });
    requireLiteralIncludes(t, resource.name);
    // The function map caches DNS answers for its life, which must stay one render.
    const resolves = t.listCalls(new Set(RESOLVING)).length > 0;
    const template = {
      execute: () => {
        include.beginRender();
        const out = t.execute(dot());
        if (include.resolves && compiled.get(resource)?.template === template) compiled.delete(resource);
        return out;
      },
    };
    if (!resolves) compiled.set(resource, { text, store, template });
    return template;
  } catch (e) {
    throw new Error(`Unable to process template ${resource.src}, ${(e as Error).message}`);
  }
}
