// Public API of the Go text/template engine. It knows nothing of confd: text, a function map
// and data in; a string or a TemplateError worded exactly as Go words it out.
//
// Semantics are Go 1.19's text/template (checked against real Go by the golden corpus, the
// engine tests and the differential fuzzer):
// - lexing: custom delimiters, trim markers, comments, strings/raw strings/char constants with Go
//   escapes, ints (decimal, 0x, 0o, 0b, leading-0 octal, _ separators), floats (incl. hex floats),
//   true/false/nil, fields, variables, := and =, pipes, parentheses; Go's lexer and parser errors;
// - if/else if/else, range over slices, maps (sorted keys) with $i, $v and else, break/continue,
//   with/else, define/template/block (redefinition rules of Go), variable scoping as Go's stack,
//   $ as the data; range over an int is an error as in 1.19 ("range can't iterate over 3");
//   "else with" (Go 1.23) is a parse error as in 1.19;
// - fields of Maps and structs (plain objects/class instances; lowercase fields are unexported),
//   methods (exported functions on the prototype; signatures from GO_METHODS), missing map keys
//   as <no value> (missingkey=default), nil handling including Go's "interface {}" static types;
// - builtins and/or (short-circuit), not len index slice eq ne lt le gt ge call, and print printf
//   println html js urlquery through fmt.ts/escape.ts; arguments checked against GoFunction
//   signatures with Go's conversions of untyped constants and Go's error texts.
// Ints are exact int64 (bigint beyond 2^53, value.ts). Not supported: complex constants (a parse
// error here), channels, missingkey options other than default, pointers beyond "nil interface".

import { builtinFuncs } from './builtins.js';
import { execute, TemplateError, TemplateSet, type ExecuteOptions } from './exec.js';
import type { ArgNode, Node } from './node.js';
import { ParseFailure, parseTrees } from './parse.js';
import type { FuncMap } from './value.js';
import { byteLength } from '../../bytes.js';

export { OutputLimitError, TemplateError, type ExecuteOptions } from './exec.js';
export type { FuncMap, GoFunction, GoTypeName } from './value.js';
export { ANY, GO_TYPE, GoFloat, GoUint8, goFunc, goTypeOf, isGoFunction, withGoType } from './value.js';

export interface ParseOptions {
  funcs?: FuncMap;
  delims?: [string, string];
}

export interface FunctionCall {
  func: string;
  /** Each argument's value when it is a string literal, else null. */
  args: Array<string | null>;
  line: number;
  col: number;
}

export class Template {
  /** @internal */
  constructor(
    readonly name: string,
    private readonly set: TemplateSet,
  ) {}

  /** Renders the template with data as dot ($). Throws TemplateError (OutputLimitError past opts.maxOutputBytes). */
  execute(data?: unknown, opts?: ExecuteOptions): string {
    return execute(this.set, this.name, data, opts);
  }

  /** The template of that name associated with this one (define, block, or the top-level one). */
  lookup(name: string): Template | undefined {
    return this.set.trees.has(name) ? new Template(name, this.set) : undefined;
  }

  /** Names of every template in the set. */
  templateNames(): string[] {
    return [...this.set.trees.keys()];
  }

  /** Every call of one of funcNames anywhere in the set (define'd templates included), in text order. */
  listCalls(funcNames: Set<string>): FunctionCall[] {
    // A call names its function in the text: when no name occurs there, the walk over every node
    // (cold, for each parse of a -onetime run: ~35 us a template) has nothing to find.
    const texts = new Set<string>();
    for (const tree of this.set.trees.values()) texts.add(tree.info.text);
    if (![...funcNames].some((f) => [...texts].some((t) => t.includes(f)))) return [];
    const calls: Array<FunctionCall & { pos: number }> = [];
    const visit = (n: Node | null): void => {
      if (n === null) return;
      switch (n.type) {
        case 'list':
          n.nodes.forEach(visit);
          return;
        case 'action':
          visit(n.pipe);
          return;
        case 'if':
        case 'range':
        case 'with':
          visit(n.pipe);
          visit(n.list);
          visit(n.elseList);
          return;
        case 'template':
          visit(n.pipe);
          return;
        case 'pipe':
          n.cmds.forEach(visit);
          return;
        case 'command': {
          const [first, ...rest] = n.args;
          if (first.type === 'identifier' && funcNames.has(first.ident)) {
            calls.push({ func: first.ident, args: rest.map(literal), ...position(first), pos: first.pos });
            rest.forEach(visit);
          } else n.args.forEach(visit);
          return;
        }
        case 'identifier':
          if (funcNames.has(n.ident)) calls.push({ func: n.ident, args: [], ...position(n), pos: n.pos });
          return;
        case 'chain':
          visit(n.node);
          return;
      }
    };
    for (const tree of this.set.trees.values()) visit(tree.root);
    return calls.sort((a, b) => a.pos - b.pos).map(({ pos: _pos, ...call }) => call);
  }
}

function literal(a: ArgNode): string | null {
  return a.type === 'string' ? a.text : null;
}

function position(n: Node): { line: number; col: number } {
  const before = n.tree.text.slice(0, n.pos);
  const nl = before.lastIndexOf('\n');
  let line = 1;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  return { line, col: byteLength(before.slice(nl + 1)) };
}

/**
 * Parses text as template.New(name).Funcs(funcs).Delims(...).Parse(text) does in Go.
 * Throws TemplateError (kind 'parse') with Go's message.
 */
export function parse(name: string, text: string, opts: ParseOptions = {}): Template {
  const funcs = opts.funcs ?? {};
  const [left, right] = opts.delims ?? ['', ''];
  // Go's hasFunction: a nil entry of the map is no function.
  const hasFunction = (fn: string): boolean =>
    (Object.prototype.hasOwnProperty.call(funcs, fn) && funcs[fn] != null) || Object.prototype.hasOwnProperty.call(builtinFuncs, fn);
  let trees;
  try {
    trees = parseTrees(name, text, left, right, hasFunction);
  } catch (e) {
    if (e instanceof ParseFailure) throw new TemplateError(e.message, 'parse', e.templateName, e.line, 0);
    throw e;
  }
  const set: TemplateSet = { trees, funcs, compiled: new Map(), fns: new Map() };
  return new Template(name, set);
}
