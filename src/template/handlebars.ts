// The Handlebars engine for resources whose template ends in .hbs (or engine = "handlebars"),
// with confd's functions as helpers: `{{#each (gets "/service/*")}}{{base Key}} {{Value}}{{/each}}`.
//
// Helpers are the Go function map's implementations, called with Handlebars' trailing options
// argument dropped, arguments checked against the Go parameter types, and results turned into
// plain JS values Handlebars can walk (Go maps become objects, float64s numbers). Output is not
// HTML-escaped, and unknown names are errors (strict mode).
//
// Errors name the template and the call site: each helper call is renamed in the parsed AST to
// a per-site helper that knows its line and column, so a failing `getv` reports
// `NAME:LINE:COL: error calling getv: key does not exist: /x`.

import Handlebars from 'handlebars';
import { GoFloat, GoUint8, type GoFunction, goTypeOf, isGoFunction } from './go/value.js';
import { confdFuncMap, type ConfdFuncOptions } from './confd/funcs.js';
import { KeyStore } from './confd/store.js';

export class HandlebarsTemplateError extends Error {
  constructor(
    message: string,
    readonly templateName: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(message);
    this.name = 'HandlebarsTemplateError';
  }
}

export interface HandlebarsTemplate {
  /** Renders against a store (the one given to compileHandlebars by default). */
  (store?: KeyStore, opts?: ConfdFuncOptions): string;
  render(store?: KeyStore, opts?: ConfdFuncOptions): string;
}

interface CallSite {
  /** The template (or partial) the call is in. */
  template: string;
  helper: string;
  func: string;
  line: number;
  col: number;
}

type AnyNode = { type?: string; [k: string]: unknown };

/** Go maps, floats and typed values as plain JS values for Handlebars. */
function toPlain(v: unknown): unknown {
  if (v instanceof GoFloat || v instanceof GoUint8) return v.value;
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) Object.defineProperty(o, k, { value: toPlain(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  if (Array.isArray(v)) {
    // Nested arrays from json need converting; store results (strings, KVPairs) are already plain.
    if (v.some((x) => x instanceof Map || x instanceof GoFloat || Array.isArray(x))) return v.map(toPlain);
    return v;
  }
  return v;
}

function checkArg(v: unknown, type: string): void {
  if (type === 'interface {}') return;
  const t = goTypeOf(v);
  if (type === 'int' && typeof v === 'number' && Number.isInteger(v)) return;
  if (type === 'string' && typeof v === 'string') return;
  if (type.startsWith('[]') && Array.isArray(v)) return;
  if (t === type) return;
  const got = typeof v === 'number' && !Number.isInteger(v) ? 'float64' : t;
  throw new Error(`wrong type for value; expected ${type}; got ${got}`);
}

function callHelper(fn: GoFunction, name: string, args: unknown[]): unknown {
  const fixed = fn.params.length;
  if (fn.variadic === undefined ? args.length !== fixed : args.length < fixed) {
    throw new Error(`wrong number of args for ${name}: want ${fn.variadic === undefined ? '' : 'at least '}${fixed} got ${args.length}`);
  }
  args.forEach((a, i) => checkArg(a, i < fixed ? fn.params[i]! : fn.variadic!));
  return toPlain(fn.call(...args));
}

/** Renames every helper call in the AST to a per-site name; returns the sites. */
function instrument(ast: hbs.AST.Program, helperNames: Set<string>, template: string, sites: CallSite[] = []): CallSite[] {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as AnyNode;
    const isCall = n.type === 'MustacheStatement' || n.type === 'SubExpression' || n.type === 'BlockStatement';
    if (isCall) {
      const path = n.path as AnyNode & { parts?: string[]; original?: string; head?: string; loc?: hbs.AST.SourceLocation; data?: boolean; depth?: number };
      const name = path?.type === 'PathExpression' && !path.data && path.depth === 0 && path.parts?.length === 1 ? path.parts[0]! : undefined;
      // A bare {{name}} is a helper call only for the functions that take no arguments; otherwise it
      // stays a lookup (a block parameter or field may share a helper's name).
      const args = ((n.params as unknown[] | undefined)?.length ?? 0) > 0 || n.hash !== undefined;
      if (name !== undefined && helperNames.has(name) && (args || n.type !== 'MustacheStatement' || NO_ARG.has(name))) {
        const loc = (n.loc as hbs.AST.SourceLocation | undefined) ?? path.loc;
        const site: CallSite = { template, helper: `${name}__site${sites.length}`, func: name, line: loc?.start.line ?? 0, col: (loc?.start.column ?? 0) + 1 };
        sites.push(site);
        path.parts = [site.helper];
        path.original = site.helper;
        if ('head' in path) path.head = site.helper;
      }
    }
    for (const [k, v] of Object.entries(n)) {
      if (k === 'loc' || k === 'path') continue;
      if (v !== null && typeof v === 'object') visit(v);
    }
  };
  visit(ast);
  return sites;
}

/**
 * Handlebars' own runtime errors end in " - LINE:COLUMN" (0-based column); they are located as ours
 * are, and strict mode's `"x" not defined in [object Object]` loses the stringified context.
 */
function runtimeError(name: string, message: string): HandlebarsTemplateError {
  const m = /^([\s\S]*) - (\d+):(\d+)$/.exec(message);
  if (!m) return new HandlebarsTemplateError(`${name}: ${message}`, name);
  const line = Number(m[2]);
  const col = Number(m[3]) + 1;
  const text = m[1]!.replace(/^(".*" not defined) in \[object \w+\]$/, '$1');
  return new HandlebarsTemplateError(`${name}:${line}:${col}: ${text}`, name, line, col);
}

const NO_ARG = new Set(['datetime', 'map']);
const HELPER_NAMES = new Set(Object.keys(confdFuncMap(new KeyStore([]))));

export interface HandlebarsOptions {
  /**
   * The text of the partial `{{> name}}` names (the caller decides where partials live and which names are
   * allowed; it throws to refuse one). Without it a partial is an error.
   */
  loadPartial?: (name: string) => string;
}

function parseHandlebars(hb: typeof Handlebars, name: string, text: string): hbs.AST.Program {
  try {
    return hb.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /line (\d+)/.exec(msg);
    throw new HandlebarsTemplateError(`${name}: ${msg}`, name, m ? Number(m[1]) : undefined);
  }
}

/**
 * Loads, instruments and compiles every partial `ast` names, transitively, into `partials`. Partial names must be
 * static (`{{> sub/x.hbs}}` or `{{> "x.hbs"}}`) so they are all known before the render; a cycle is refused at the
 * partial that closes it.
 */
function compilePartials(
  hb: typeof Handlebars,
  ast: hbs.AST.Program,
  chain: string[],
  opts: HandlebarsOptions,
  sites: CallSite[],
  partials: Record<string, HandlebarsTemplateDelegate>,
): void {
  const here = chain.at(-1)!;
  const found: Array<{ partial: string; line: number; col: number }> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const n = node as AnyNode;
    if (n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') {
      const ref = n.name as AnyNode & { original?: string; value?: string };
      const loc = n.loc as hbs.AST.SourceLocation | undefined;
      const line = loc?.start.line ?? 0;
      const col = (loc?.start.column ?? 0) + 1;
      const partial = ref.type === 'PathExpression' ? ref.original : ref.type === 'StringLiteral' ? ref.value : undefined;
      if (partial === undefined) throw new HandlebarsTemplateError(`${here}:${line}:${col}: a partial's name must be written out (no dynamic partials)`, here, line, col);
      found.push({ partial, line, col });
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'loc' && v !== null && typeof v === 'object') visit(v);
  };
  visit(ast);
  for (const { partial, line, col } of found) {
    const fail = (msg: string): never => {
      throw new HandlebarsTemplateError(`${here}:${line}:${col}: ${msg}`, here, line, col);
    };
    if (chain.includes(partial)) fail(`include cycle: ${[...chain, partial].join(' → ')}`);
    if (partials[partial]) continue;
    if (!opts.loadPartial) fail(`partial ${JSON.stringify(partial)}: no partials here`);
    let text = '';
    try {
      text = opts.loadPartial!(partial);
    } catch (e) {
      fail((e as Error).message);
    }
    const partialAst = parseHandlebars(hb, partial, text);
    instrument(partialAst, HELPER_NAMES, partial, sites);
    compilePartials(hb, partialAst, [...chain, partial], opts, sites, partials);
    partials[partial] = hb.compile(partialAst, { noEscape: true, strict: true });
  }
}

/**
 * Compiles a Handlebars template once; render it against any store. Parse errors are thrown
 * here as HandlebarsTemplateError, naming the template and line.
 */
export function compileHandlebars(
  name: string,
  text: string,
  store?: KeyStore,
  defaultOpts?: ConfdFuncOptions,
  hbOpts: HandlebarsOptions = {},
): HandlebarsTemplate {
  const hb = Handlebars.create();
  const ast = parseHandlebars(hb, name, text);
  const sites = instrument(ast, HELPER_NAMES, name);
  const partials: Record<string, HandlebarsTemplateDelegate> = {};
  compilePartials(hb, ast, [name], hbOpts, sites, partials);
  const compiled = hb.compile(ast, { noEscape: true, strict: true });

  const render = (s?: KeyStore, opts?: ConfdFuncOptions): string => {
    const funcs = confdFuncMap(s ?? store ?? new KeyStore([]), opts ?? defaultOpts);
    const helpers: Record<string, Handlebars.HelperDelegate> = {};
    for (const site of sites) {
      const fn = funcs[site.func];
      helpers[site.helper] = (...args: unknown[]) => {
        const real = args.slice(0, -1); // Handlebars' options object
        try {
          if (isGoFunction(fn)) return callHelper(fn, site.func, real);
          return toPlain((fn as (...a: unknown[]) => unknown)(...real));
        } catch (e) {
          throw new HandlebarsTemplateError(
            `${site.template}:${site.line}:${site.col}: error calling ${site.func}: ${(e as Error).message}`,
            site.template,
            site.line,
            site.col,
          );
        }
      };
    }
    try {
      return compiled({}, { helpers, partials });
    } catch (e) {
      if (e instanceof HandlebarsTemplateError) throw e;
      throw runtimeError(name, (e as Error).message);
    }
  };
  const t = ((s?: KeyStore, opts?: ConfdFuncOptions) => render(s, opts)) as HandlebarsTemplate;
  t.render = render;
  return t;
}
