// Execution of Go's text/template (exec.go), compiled: each node of the tree becomes a closure
// once, so rendering walks closures instead of dispatching on node types. The closures mirror
// Go's walk/eval functions one to one, including where Go records the "current node" (s.at),
// because that node is what Go's error messages quote.

import { formatValue, isPrintable, sortedMapKeys, sprintf } from './fmt.js';
import { quote } from './strconv.js';
import type { ArgNode, BranchNode, ChainNode, CommandNode, FieldNode, ListNode, Node, NumberNode, PipeNode, TemplateNode, VariableNode } from './node.js';
import { errorContext } from './node.js';
import type { ParsedTree } from './parse.js';
import { ANY, GO_METHODS, GO_NIL, GO_TYPE, GoFloat, GoUint8, goTypeOf, isGoFunction, nilSlice, withGoType } from './value.js';
import type { FuncMap, GoFunction, GoMethodSignature } from './value.js';
import { builtinFuncs, IfaceBox, isTrue, REFLECT } from './builtins.js';
import { byteLength } from '../../bytes.js';

/** A template failure with Go's exact error text as message. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly kind: 'parse' | 'exec',
    readonly templateName: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/**
 * The output grew beyond the caller's bound (ExecuteOptions.maxOutputBytes). Located like any
 * execution error: the node being executed when the bound was crossed.
 */
export class OutputLimitError extends TemplateError {
  constructor(
    message: string,
    templateName: string,
    line: number,
    col: number,
    readonly limit: number,
  ) {
    super(message, 'exec', templateName, line, col);
    this.name = 'OutputLimitError';
  }
}

/** Go's missingVal: "no value came from the previous pipeline stage". */
const MISSING: unique symbol = Symbol('missing');
type Final = unknown;

/** Type name used for an argument evaluated without an expected type (a chain's head). */
const NOTYPE = '';
/**
 * An index argument of the slice builtin: a reflect.Value that Go does not unwrap, so a value whose
 * static type is interface {} (a map[string]interface {} element...) arrives boxed and is refused.
 */
const SLICE_INDEX = 'reflect.Value (slice index)';

const OK = 0;
const BREAK = 1;
const CONTINUE = 2;

const maxExecDepth = 100000;

export class State {
  /** Output not yet moved to parts (see flushOut). */
  out = '';
  parts: string[] = [];
  node: Node | null = null;
  names: string[];
  vals: unknown[];
  /** Whether a variable's static Go type is interface {} (a range element of []interface {}). */
  ifaces: boolean[];
  n = 1;
  depth = 0;
  dotIface = false;
  /** Side channel of evalField: whether the value it returned has static type interface {}. */
  lastIface = false;
  /** The innermost {{template}} call and the template making it: where Go reports too deep a recursion. */
  callNode: Node | null = null;
  callerName = '';
  /** Bytes of output moved to parts so far, counted only under a bound. */
  written = 0;
  constructor(
    public tmplName: string,
    dot: unknown,
    /** ExecuteOptions.maxOutputBytes (Infinity: no bound). */
    readonly maxOutput = Infinity,
  ) {
    this.names = ['$'];
    this.vals = [dot];
    this.ifaces = [false];
  }
}

type Walk = (s: State, dot: unknown) => number;
type Eval = (s: State, dot: unknown) => unknown;
type Cmd = (s: State, dot: unknown, final: Final) => unknown;

/** A callable as evalCall sees it. */
export interface Fn {
  params: readonly string[];
  variadic: string | undefined;
  call: (...args: any[]) => unknown;
  /** A plain JS function: Go's func(...interface {}) interface {}, whose result is an interface. */
  untyped: boolean;
}

export function errorf(s: State, msg: string): never {
  const node = s.node;
  if (node === null) throw new TemplateError(`template: ${s.tmplName}: ${msg}`, 'exec', s.tmplName, 0, 0);
  const { location, context } = errorContext(node);
  const [, line, col] = /:(\d+):(\d+)$/.exec(location)!;
  throw new TemplateError(
    `template: ${location}: executing ${quote(s.tmplName)} at <${context}>: ${msg}`,
    'exec',
    s.tmplName,
    Number(line),
    Number(col),
  );
}

function fnOf(f: GoFunction | ((...args: any[]) => unknown), self?: unknown): Fn {
  if (isGoFunction(f)) {
    const call = self === undefined ? f.call : f.call.bind(self);
    return { params: f.params.map(normType), variadic: f.variadic === undefined ? undefined : normType(f.variadic), call, untyped: false };
  }
  return { params: [], variadic: ANY, call: self === undefined ? f : f.bind(self), untyped: true };
}

function normType(t: string): string {
  return t === 'any' || t === 'interface{}' ? ANY : t;
}

// ---- Go type helpers over the value model -------------------------------------------------------

function canBeNil(typ: string): boolean {
  return (
    typ === ANY ||
    typ === REFLECT ||
    typ.startsWith('[]') ||
    typ.startsWith('map[') ||
    typ.startsWith('*') ||
    typ.startsWith('func') ||
    typ.startsWith('chan ') ||
    typ === 'error' ||
    typ.startsWith('interface')
  );
}

/** reflect.Zero(typ) for a nillable type. */
function zeroNil(typ: string): unknown {
  if (typ === REFLECT) return undefined;
  if (typ.startsWith('[]')) return nilSlice(typ);
  if (typ.startsWith('map[')) {
    const m = withGoType(new Map(), typ);
    Object.defineProperty(m, GO_NIL, { value: true, enumerable: false });
    return m;
  }
  return null;
}

function assignable(v: unknown, typ: string): boolean {
  switch (typ) {
    case 'string':
      return typeof v === 'string';
    case 'int':
      return typeof v === 'number' || typeof v === 'bigint';
    case 'float64':
      return v instanceof GoFloat;
    case 'bool':
      return typeof v === 'boolean';
    case 'uint8':
      return v instanceof GoUint8;
  }
  return v !== null && goTypeOf(v) === typ;
}

/** Static element type of a container is interface {}: its elements print "interface {}" in errors. */
export function elemIsIface(container: object): boolean {
  const tag = (container as { [GO_TYPE]?: string })[GO_TYPE];
  if (tag === undefined) return true;
  return tag.endsWith(']interface {}');
}

function isExported(name: string): boolean {
  const c = name.codePointAt(0)!;
  if (c < 0x80) return c >= 0x41 && c <= 0x5a;
  const ch = String.fromCodePoint(c);
  return ch !== ch.toLowerCase() && ch === ch.toUpperCase();
}

const builtinProtos = new Set<object | null>([null, Object.prototype, Array.prototype, Map.prototype, Function.prototype]);

type Method = GoFunction | ((...args: any[]) => unknown);
/** Methods found per prototype and name (null: none), so field access does not walk prototypes each time. */
const methodCache = new WeakMap<object, Map<string, Method | null>>();

/** A method of v: an exported function on its prototype chain (not an own property). */
function findMethod(v: object, name: string): Method | undefined {
  const proto = Object.getPrototypeOf(v);
  if (builtinProtos.has(proto)) return undefined;
  let byName = methodCache.get(proto);
  if (byName === undefined) {
    byName = new Map();
    methodCache.set(proto, byName);
  }
  let m = byName.get(name);
  if (m === undefined) {
    m = isExported(name) ? lookupMethod(proto, name) : null;
    byName.set(name, m);
  }
  return m === null ? undefined : m;
}

function lookupMethod(proto: object, name: string): Method | null {
  for (let p = proto; !builtinProtos.has(p); p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d !== undefined) {
      const m = d.value;
      return typeof m === 'function' || isGoFunction(m) ? m : null;
    }
  }
  return null;
}

function methodFn(receiver: object, name: string, m: GoFunction | ((...args: any[]) => unknown)): Fn {
  const sig = (receiver as { [GO_METHODS]?: Record<string, GoMethodSignature> })[GO_METHODS]?.[name];
  if (sig === undefined || isGoFunction(m)) return fnOf(m, receiver);
  return {
    params: sig.params.map(normType),
    variadic: sig.variadic === undefined ? undefined : normType(sig.variadic),
    call: (m as (...args: any[]) => unknown).bind(receiver),
    untyped: false,
  };
}

function boxIf(iface: boolean, v: unknown): unknown {
  return iface && v !== undefined ? new IfaceBox(v) : v;
}

/** One field name of a field chain, with an inline cache of the method lookup for the last prototype seen. */
class FieldSite {
  readonly exported: boolean;
  private proto: object | null = null;
  private found: Method | undefined = undefined;
  /** Whether receivers of `proto` are structs (isStruct), when their class says so alone; undefined: ask each one. */
  private structs: boolean | undefined = undefined;
  constructor(readonly name: string) {
    this.exported = isExported(name);
  }
  method(receiver: object): Method | undefined {
    const proto = Object.getPrototypeOf(receiver);
    if (proto !== this.proto) {
      this.found = findMethod(receiver, this.name);
      this.proto = proto;
      // An instance of a class of ours (a KVPair) is a struct or not by its class; a plain object may be a GoFunction.
      this.structs = builtinProtos.has(proto) ? undefined : isStruct(receiver);
    }
    return this.found;
  }
  /** isStruct(receiver), for the receiver method() was last asked about. */
  isStruct(receiver: object): boolean {
    return this.structs ?? isStruct(receiver);
  }
}

function isStruct(v: object): boolean {
  return !Array.isArray(v) && !(v instanceof Map) && !(v instanceof GoFloat) && !(v instanceof GoUint8) && !isGoFunction(v);
}

// ---- evaluation helpers (run time) --------------------------------------------------------------

function validateType(s: State, value: unknown, typ: string): unknown {
  if (typ === NOTYPE) return value;
  if (value === undefined) {
    if (typ === ANY) return null;
    if (canBeNil(typ)) return zeroNil(typ);
    errorf(s, `invalid value; expected ${typ}`);
  }
  if (typ === ANY || typ === REFLECT) return value;
  if (assignable(value, typ)) return value;
  errorf(s, `wrong type for value; expected ${typ}; got ${value === null ? ANY : goTypeOf(value)}`);
}

function notAFunction(s: State, args: readonly ArgNode[] | null, final: Final): void {
  if ((args !== null && args.length > 1) || final !== MISSING) errorf(s, `can't give argument to non-function ${args![0]}`);
}

function lookupVar(s: State, name: string): number {
  for (let i = s.n - 1; i >= 0; i--) if (s.names[i] === name) return i;
  errorf(s, `undefined variable: ${name}`);
}

function push(s: State, name: string, v: unknown): void {
  const n = s.n++;
  s.names[n] = name;
  s.vals[n] = v;
  s.ifaces[n] = false;
}

function idealConstant(s: State, c: NumberNode): unknown {
  s.node = c;
  if (c.isFloat && !isHexInt(c.text) && c.text[0] !== "'" && /[.eEpP]/.test(c.text)) return new GoFloat(c.float);
  if (c.isInt) return c.int;
  if (c.isUint) errorf(s, `${c.text} overflows int`);
  return undefined;
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/.test(e.message);
}

function isHexInt(t: string): boolean {
  return t.length > 2 && t[0] === '0' && (t[1] === 'x' || t[1] === 'X') && !/[pP]/.test(t);
}

function callFn(s: State, fn: Fn, argv: unknown[], node: Node, name: string): unknown {
  try {
    return fn.call(...argv);
  } catch (e) {
    callFailed(s, e, node, name);
  }
}

/** callFn of a one-argument call: no argument array and no spread (a large render makes thousands). */
function callFn1(s: State, fn: Fn, a0: unknown, node: Node, name: string): unknown {
  try {
    return fn.call(a0);
  } catch (e) {
    callFailed(s, e, node, name);
  }
}

/** callFn of a two-argument call (printf "/svc/%s" $name, getv KEY DEFAULT). */
function callFn2(s: State, fn: Fn, a0: unknown, a1: unknown, node: Node, name: string): unknown {
  try {
    return fn.call(a0, a1);
  } catch (e) {
    callFailed(s, e, node, name);
  }
}

function callFailed(s: State, e: unknown, node: Node, name: string): never {
  // JavaScript's stack running out is reported as Go's depth limit, not as the function's error.
  // (A TemplateError from a template the function executed is the function's error, as in Go.)
  if (isStackOverflow(e)) throw e;
  s.node = node;
  errorf(s, `error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
}

// ---- the compiler ----------------------------------------------------------------------------------

export interface TemplateSet {
  trees: Map<string, ParsedTree>;
  funcs: FuncMap;
  /** Closures of the templates compiled so far (each is compiled on its first execution). */
  compiled: Map<string, Walk>;
  /** Resolved callees by function name. */
  fns: Map<string, Fn & { isBuiltin: boolean }>;
}

export function compiledTemplate(set: TemplateSet, name: string): Walk | undefined {
  let w = set.compiled.get(name);
  if (w === undefined) {
    const tree = set.trees.get(name);
    if (tree === undefined) return undefined;
    // Placeholder first, so a template that calls itself finds an entry while compiling.
    let compiled: Walk | undefined;
    set.compiled.set(name, (s, dot) => compiled!(s, dot));
    compiled = new Compiler(set).list(tree.root);
    set.compiled.set(name, compiled);
    w = compiled;
  }
  return w;
}

/**
 * Output is built with += (V8 makes a rope: cheap appends), but a 1 MB rope of tens of thousands
 * of pieces, by then spread over the old generation, costs ~2 ms to flatten when the caller
 * encodes it. Flattening each 8 KB while its pieces are young and cache-hot, and joining flat
 * chunks at the end, cuts that to ~0.3 ms (large T=1 watch render: ~15 -> ~13 ms).
 */
const OUT_CHUNK = 8192;

function flushOut(s: State): void {
  // Reading a char flattens the rope in place (V8), so the chunk kept is one flat string.
  s.out.charCodeAt(0);
  if (s.maxOutput !== Infinity) checkOutputBound(s);
  s.parts.push(s.out);
  s.out = '';
}

/**
 * Counted at each flush (every ~8 KB), so a runaway template stops near the bound instead of
 * filling the heap (V8 aborts the process) or passing V8's string length limit (~2^29 units, a
 * RangeError without a position).
 */
function checkOutputBound(s: State): void {
  s.written += byteLength(s.out);
  if (s.written <= s.maxOutput) return;
  try {
    errorf(s, `output is larger than the limit of ${s.maxOutput} bytes`);
  } catch (e) {
    const t = e as TemplateError;
    throw new OutputLimitError(t.message, t.templateName, t.line, t.col, s.maxOutput);
  }
}

export interface ExecuteOptions {
  /** Fail with OutputLimitError once the output exceeds this many bytes (default: no bound). */
  maxOutputBytes?: number;
}

export function execute(set: TemplateSet, name: string, data: unknown, opts: ExecuteOptions = {}): string {
  const s = new State(name, data === null ? undefined : data, opts.maxOutputBytes ?? Infinity);
  const root = compiledTemplate(set, name);
  if (root === undefined) errorf(s, `${quote(name)} is an incomplete or empty template`);
  try {
    root(s, s.vals[0]);
  } catch (e) {
    if (isStackOverflow(e)) {
      // JavaScript's stack ends before Go's depth limit: report it where Go would, at the recursive call.
      if (s.callNode !== null) {
        s.node = s.callNode;
        s.tmplName = s.callerName;
      }
      errorf(s, `exceeded maximum template depth (${maxExecDepth})`);
    }
    throw e;
  }
  if (s.maxOutput !== Infinity) checkOutputBound(s);
  if (s.parts.length === 0) return s.out;
  s.parts.push(s.out);
  return s.parts.join('');
}

class Compiler {
  constructor(private readonly set: TemplateSet) {}

  list(l: ListNode): Walk {
    const items = l.nodes.map((n) => this.walk(n)).filter((w): w is Walk => w !== null);
    if (items.length === 0) return () => OK;
    if (items.length === 1) return items[0];
    if (items.length === 2) {
      const [a, b] = items;
      return (s, dot) => a(s, dot) || b(s, dot);
    }
    return (s, dot) => {
      for (let i = 0; i < items.length; i++) {
        const r = items[i](s, dot);
        if (r !== OK) return r;
      }
      return OK;
    };
  }

  private walk(node: Node): Walk | null {
    switch (node.type) {
      case 'text': {
        const text = node.text;
        return (s) => {
          s.out += text;
          if (s.out.length > OUT_CHUNK) flushOut(s);
          return OK;
        };
      }
      case 'comment':
        return null;
      case 'action': {
        const pipe = this.pipeline(node.pipe);
        if (node.pipe.decl.length > 0) {
          return (s, dot) => {
            s.node = node;
            pipe(s, dot);
            return OK;
          };
        }
        return (s, dot) => {
          s.node = node;
          const v = pipe(s, dot);
          s.node = node;
          if (typeof v === 'string') {
            s.out += v;
            if (s.out.length > OUT_CHUNK) flushOut(s);
          } else {
            if (!isPrintable(v)) errorf(s, `can't print ${node} of type ${goTypeOf(v)}`);
            s.out += formatValue(v);
            if (s.out.length > OUT_CHUNK) flushOut(s);
          }
          return OK;
        };
      }
      case 'break':
        return () => BREAK;
      case 'continue':
        return () => CONTINUE;
      case 'if':
      case 'with':
        return this.ifOrWith(node);
      case 'range':
        return this.range(node);
      case 'template':
        return this.template(node);
      case 'list':
        return this.list(node);
    }
    throw new Error(`unknown node: ${node}`);
  }

  private ifOrWith(node: BranchNode): Walk {
    const pipe = this.pipeline(node.pipe);
    const list = this.list(node.list);
    const elseList = node.elseList ? this.list(node.elseList) : null;
    const isWith = node.type === 'with';
    return (s, dot) => {
      s.node = node;
      const mark = s.n;
      const val = pipe(s, dot);
      let r = OK;
      if (isTrue(val)) {
        if (isWith) {
          const di = s.dotIface;
          s.dotIface = false;
          r = list(s, val);
          s.dotIface = di;
        } else r = list(s, dot);
      } else if (elseList !== null) r = elseList(s, dot);
      s.n = mark;
      return r;
    };
  }

  private range(node: BranchNode): Walk {
    const pipe = this.pipeline(node.pipe);
    const body = this.list(node.list);
    const elseList = node.elseList ? this.list(node.elseList) : null;
    const ndecl = node.pipe.decl.length;
    // One iteration: set the declared variables, walk the body, pop what the body pushed.
    const iterate = (s: State, mark: number, index: unknown, elem: unknown, iface: boolean): number => {
      if (ndecl > 0) {
        s.vals[mark - 1] = elem;
        s.ifaces[mark - 1] = iface;
      }
      if (ndecl > 1) {
        s.vals[mark - 2] = index;
        s.ifaces[mark - 2] = false;
      }
      s.dotIface = iface;
      const r = body(s, elem);
      s.n = mark;
      return r;
    };
    return (s, dot) => {
      s.node = node;
      const mark0 = s.n;
      const val = pipe(s, dot);
      const mark = s.n;
      const di = s.dotIface;
      let ran = false;
      if (Array.isArray(val)) {
        if (val.length > 0) {
          const iface = elemIsIface(val);
          for (let i = 0; i < val.length; i++) if (iterate(s, mark, i, val[i], iface) === BREAK) break;
          ran = true;
        }
      } else if (val instanceof Map) {
        if (val.size > 0) {
          const iface = elemIsIface(val);
          for (const k of sortedMapKeys(val)) if (iterate(s, mark, k, val.get(k), iface) === BREAK) break;
          ran = true;
        }
      } else if (val !== undefined) {
        errorf(s, `range can't iterate over ${sprintf('%v', [val])}`);
      }
      s.dotIface = di;
      let r = OK;
      if (!ran && elseList !== null) {
        r = elseList(s, dot);
        // Go's walkRange recovers a break raised in its else branch too.
        if (r === BREAK) r = OK;
      }
      s.n = mark0;
      return r;
    };
  }

  private template(node: TemplateNode): Walk {
    const pipe = node.pipe ? this.pipeline(node.pipe) : null;
    const set = this.set;
    const name = node.name;
    return (s, dot) => {
      s.node = node;
      const tmpl = compiledTemplate(set, name);
      if (tmpl === undefined) errorf(s, `template ${quote(name)} not defined`);
      if (s.depth === maxExecDepth) errorf(s, `exceeded maximum template depth (${maxExecDepth})`);
      const newDot = pipe === null ? undefined : pipe(s, dot);
      s.callNode = node;
      s.callerName = s.tmplName;
      const { names, vals, ifaces, n, tmplName, dotIface, node: savedNode } = s;
      s.names = ['$'];
      s.vals = [newDot];
      s.ifaces = [false];
      s.n = 1;
      s.tmplName = name;
      s.dotIface = false;
      s.depth++;
      tmpl(s, newDot);
      s.depth--;
      s.names = names;
      s.vals = vals;
      s.ifaces = ifaces;
      s.n = n;
      s.tmplName = tmplName;
      s.dotIface = dotIface;
      s.node = savedNode;
      return OK;
    };
  }

  pipeline(pipe: PipeNode): Eval {
    const cmds = pipe.cmds.map((c, i) => this.command(c, i > 0));
    const decl = pipe.decl.map((v) => v.ident[0]);
    const isAssign = pipe.isAssign;
    if (cmds.length === 1 && decl.length === 0) {
      const c0 = cmds[0];
      return (s, dot) => {
        s.node = pipe;
        const v = c0(s, dot, MISSING);
        return v === null ? undefined : v;
      };
    }
    return (s, dot) => {
      s.node = pipe;
      let v: unknown = MISSING;
      for (let i = 0; i < cmds.length; i++) {
        v = cmds[i](s, dot, v);
        if (v === null) v = undefined;
      }
      for (let i = 0; i < decl.length; i++) {
        if (isAssign) {
          const at = lookupVar(s, decl[i]);
          s.vals[at] = v;
          s.ifaces[at] = false;
        } else push(s, decl[i], v);
      }
      return v;
    };
  }

  private command(cmd: CommandNode, hasFinal: boolean): Cmd {
    const first = cmd.args[0];
    const args = cmd.args;
    switch (first.type) {
      case 'field':
        return this.fieldNode(first, args);
      case 'chain':
        return this.chainNode(first, args);
      case 'identifier':
        return this.function(first.ident, first, cmd, args, hasFinal);
      case 'pipe': {
        const p = this.pipeline(first);
        return (s, dot, final) => {
          notAFunction(s, args, final);
          return p(s, dot);
        };
      }
      case 'variable':
        return this.variableNode(first, args);
    }
    let value: (s: State) => unknown;
    switch (first.type) {
      case 'bool': {
        const b = first.value;
        value = () => b;
        break;
      }
      case 'dot':
        return (s, dot, final) => {
          s.node = first;
          notAFunction(s, args, final);
          return dot;
        };
      case 'nil':
        value = (s) => errorf(s, 'nil is not a command');
        break;
      case 'number':
        value = (s) => idealConstant(s, first);
        break;
      case 'string': {
        const t = first.text;
        value = () => t;
        break;
      }
    }
    return (s, _dot, final) => {
      s.node = first;
      notAFunction(s, args, final);
      return value(s);
    };
  }

  private fieldNode(field: FieldNode, args: readonly ArgNode[] | null): Cmd {
    const chain = this.fieldChain(field, field.ident, args);
    return (s, dot, final) => {
      s.node = field;
      return chain(s, dot, dot, s.dotIface, final);
    };
  }

  private chainNode(chain: ChainNode, args: readonly ArgNode[] | null): Cmd {
    if (chain.node.type === 'nil') {
      return (s) => {
        s.node = chain;
        errorf(s, `indirection through explicit nil in ${chain}`);
      };
    }
    const head = this.arg(chain.node, NOTYPE);
    const headIface = chain.node.type === 'identifier' && this.lookupFunction(chain.node.ident).untyped;
    const fields = this.fieldChain(chain, chain.field, args);
    return (s, dot, final) => {
      s.node = chain;
      const recv = head(s, dot);
      return fields(s, dot, recv, headIface, final);
    };
  }

  private variableNode(v: VariableNode, args: readonly ArgNode[] | null): Cmd {
    const name = v.ident[0];
    if (v.ident.length === 1) {
      return (s, _dot, final) => {
        s.node = v;
        const at = lookupVar(s, name);
        notAFunction(s, args, final);
        return s.vals[at];
      };
    }
    const chain = this.fieldChain(v, v.ident.slice(1), args);
    return (s, dot, final) => {
      s.node = v;
      const at = lookupVar(s, name);
      return chain(s, dot, s.vals[at], s.ifaces[at], final);
    };
  }

  /** evalFieldChain: .X.Y.Z, the last possibly a method taking the command's arguments. */
  private fieldChain(
    node: Node,
    ident: readonly string[],
    args: readonly ArgNode[] | null,
  ): (s: State, dot: unknown, receiver: unknown, iface: boolean, final: Final) => unknown {
    const n = ident.length;
    const self = this;
    const sites = ident.map((name) => new FieldSite(name));
    const lastSite = sites[n - 1];
    if (n === 1) return (s, dot, receiver, iface, final) => self.evalField(s, dot, lastSite, node, args, final, receiver, iface);
    return (s, dot, receiver, iface, final) => {
      for (let i = 0; i < n - 1; i++) {
        receiver = self.evalField(s, dot, sites[i], node, null, MISSING, receiver, iface);
        iface = s.lastIface;
      }
      return self.evalField(s, dot, lastSite, node, args, final, receiver, iface);
    };
  }

  /** evalField: a method call, a struct field or a map element of receiver. */
  evalField(
    s: State,
    dot: unknown,
    site: FieldSite,
    node: Node,
    args: readonly ArgNode[] | null,
    final: Final,
    receiver: unknown,
    iface: boolean,
  ): unknown {
    const fieldName = site.name;
    s.lastIface = false;
    if (receiver === undefined) return undefined;
    if (receiver === null) errorf(s, `nil pointer evaluating ${ANY}.${fieldName}`);
    if (typeof receiver === 'object') {
      const method = site.method(receiver);
      if (method !== undefined) {
        const v = this.evalCall(s, dot, methodFn(receiver, fieldName, method), false, node, fieldName, args, final);
        s.lastIface = false;
        return v;
      }
      const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
      if (receiver instanceof Map) {
        if (hasArgs) errorf(s, `${fieldName} is not a method but has arguments`);
        const v = receiver.get(fieldName);
        if (v === undefined) return undefined;
        s.lastIface = elemIsIface(receiver);
        return v;
      }
      if (Object.hasOwn(receiver, fieldName) && site.isStruct(receiver)) {
        if (!site.exported) errorf(s, `${fieldName} is an unexported field of struct type ${iface ? ANY : goTypeOf(receiver)}`);
        if (hasArgs) errorf(s, `${fieldName} has arguments but cannot be invoked as function`);
        return (receiver as Record<string, unknown>)[fieldName];
      }
    }
    errorf(s, `can't evaluate field ${fieldName} in type ${iface ? ANY : goTypeOf(receiver)}`);
  }

  /** evalCall for a callee known only at run time (a method). */
  evalCall(
    s: State,
    dot: unknown,
    fn: Fn,
    isBuiltin: boolean,
    node: Node,
    name: string,
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    const argNodes = args === null ? [] : args.slice(1);
    const hasFinal = final !== MISSING;
    const plan = this.callPlan(fn, isBuiltin, node, name, argNodes, hasFinal);
    return plan(s, dot, final);
  }

  private lookupFunction(name: string): Fn & { isBuiltin: boolean } {
    let fn = this.set.fns.get(name);
    if (fn === undefined) {
      const f = Object.prototype.hasOwnProperty.call(this.set.funcs, name) ? this.set.funcs[name] : undefined;
      if (f != null) fn = { ...fnOf(f), isBuiltin: false };
      else if (builtinFuncs[name] !== undefined) fn = { ...fnOf(builtinFuncs[name]), isBuiltin: true };
      else throw new Error(`function ${name} not found`);
      this.set.fns.set(name, fn);
    }
    return fn;
  }

  /** evalFunction: an identifier command; node is what "error calling" errors point at. */
  private function(name: string, ident: Node, node: Node, args: readonly ArgNode[] | null, hasFinal: boolean): Cmd {
    const fn = this.lookupFunction(name);
    const plan = this.callPlan(fn, fn.isBuiltin, node, name, args === null ? [] : args.slice(1), hasFinal);
    return (s, dot, final) => {
      s.node = ident;
      return plan(s, dot, final);
    };
  }

  /** The body of Go's evalCall, with argument count and types checked against the signature. */
  private callPlan(fn: Fn, isBuiltin: boolean, node: Node, name: string, argNodes: readonly ArgNode[], hasFinal: boolean): Cmd {
    const numIn = argNodes.length + (hasFinal ? 1 : 0);
    let numFixed = argNodes.length;
    if (fn.variadic !== undefined) {
      numFixed = fn.params.length;
      if (numIn < numFixed) {
        const msg = `wrong number of args for ${name}: want at least ${fn.params.length} got ${argNodes.length}`;
        return (s) => errorf(s, msg);
      }
    } else if (numIn !== fn.params.length) {
      const msg = `wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`;
      return (s) => errorf(s, msg);
    }
    if (isBuiltin && (name === 'and' || name === 'or')) {
      const isOr = name === 'or';
      const evals = argNodes.map((a) => this.arg(a, REFLECT));
      return (s, dot, final) => {
        let v: unknown = undefined;
        for (let i = 0; i < evals.length; i++) {
          v = evals[i](s, dot);
          if (isTrue(v) === isOr) return v;
        }
        if (final !== MISSING) v = final;
        return v;
      };
    }
    const evals: Eval[] = [];
    let i = 0;
    for (; i < numFixed && i < argNodes.length; i++) evals.push(this.arg(argNodes[i], fn.params[i]));
    const variadic = isBuiltin && name === 'slice' ? SLICE_INDEX : fn.variadic;
    if (variadic !== undefined) for (; i < argNodes.length; i++) evals.push(this.arg(argNodes[i], variadic));
    let finalType = '';
    if (hasFinal) {
      if (fn.variadic === undefined) finalType = fn.params[fn.params.length - 1];
      else finalType = numIn - 1 < numFixed ? fn.params[numIn - 1] : fn.variadic;
    }
    const n = evals.length;
    if (n === 1 && !hasFinal) {
      const e0 = evals[0];
      return (s, dot) => callFn1(s, fn, e0(s, dot), node, name);
    }
    if (n === 2 && !hasFinal) {
      const e0 = evals[0];
      const e1 = evals[1];
      return (s, dot) => {
        const a0 = e0(s, dot);
        return callFn2(s, fn, a0, e1(s, dot), node, name);
      };
    }
    if (n === 1 && hasFinal) {
      const e0 = evals[0];
      return (s, dot, final) => {
        const a0 = e0(s, dot);
        return callFn2(s, fn, a0, validateType(s, final, finalType), node, name);
      };
    }
    return (s, dot, final) => {
      const argv = new Array(n + (hasFinal ? 1 : 0));
      for (let j = 0; j < n; j++) argv[j] = evals[j](s, dot);
      if (hasFinal) argv[n] = validateType(s, final, finalType);
      return callFn(s, fn, argv, node, name);
    };
  }

  private sliceIndexArg(n: ArgNode): Eval {
    const plain = this.arg(n, REFLECT);
    switch (n.type) {
      case 'dot':
        return (s, dot) => boxIf(s.dotIface, plain(s, dot));
      case 'field':
      case 'chain':
        return (s, dot) => {
          const v = plain(s, dot);
          return boxIf(s.lastIface, v);
        };
      case 'variable': {
        if (n.ident.length > 1) {
          return (s, dot) => {
            const v = plain(s, dot);
            return boxIf(s.lastIface, v);
          };
        }
        const name = n.ident[0];
        return (s, dot) => {
          const v = plain(s, dot);
          return boxIf(s.ifaces[lookupVar(s, name)], v);
        };
      }
      case 'identifier': {
        const untyped = this.lookupFunction(n.ident).untyped;
        return (s, dot) => boxIf(untyped, plain(s, dot));
      }
    }
    return plain;
  }

  /** evalArg: an argument evaluated for a parameter of Go type typ. */
  arg(n: ArgNode, typ: string): Eval {
    if (typ === SLICE_INDEX) return this.sliceIndexArg(n);
    switch (n.type) {
      case 'dot':
        return (s, dot) => {
          s.node = n;
          return validateType(s, dot, typ);
        };
      case 'nil':
        if (typ === NOTYPE || canBeNil(typ)) {
          const z = typ === NOTYPE ? undefined : zeroNil(typ);
          return (s) => {
            s.node = n;
            return z;
          };
        }
        return (s) => {
          s.node = n;
          errorf(s, `cannot assign nil to ${typ}`);
        };
      case 'field': {
        const f = this.fieldNode(n, [n]);
        return (s, dot) => {
          s.node = n;
          return validateType(s, f(s, dot, MISSING), typ);
        };
      }
      case 'variable': {
        const v = this.variableNode(n, null);
        return (s, dot) => {
          s.node = n;
          return validateType(s, v(s, dot, MISSING), typ);
        };
      }
      case 'pipe': {
        const p = this.pipeline(n);
        return (s, dot) => {
          s.node = n;
          return validateType(s, p(s, dot), typ);
        };
      }
      case 'identifier': {
        const f = this.function(n.ident, n, n, null, false);
        return (s, dot) => {
          s.node = n;
          return validateType(s, f(s, dot, MISSING), typ);
        };
      }
      case 'chain': {
        const c = this.chainNode(n, null);
        return (s, dot) => {
          s.node = n;
          return validateType(s, c(s, dot, MISSING), typ);
        };
      }
    }
    // A literal: its conversion depends only on the parameter type, so it is decided now,
    // but any error is raised when (and only if) the argument is evaluated, as in Go.
    const fail = (msg: string): Eval => (s) => {
      s.node = n;
      errorf(s, msg);
    };
    const constant = (v: unknown): Eval => (s) => {
      s.node = n;
      return v;
    };
    if (typ === ANY || typ === REFLECT || typ === NOTYPE) {
      switch (n.type) {
        case 'bool':
          return constant(n.value);
        case 'string':
          return constant(n.text);
        case 'number':
          return (s) => {
            s.node = n;
            return idealConstant(s, n);
          };
      }
    }
    switch (typ) {
      case 'bool':
        return n.type === 'bool' ? constant(n.value) : fail(`expected bool; found ${n}`);
      case 'string':
        return n.type === 'string' ? constant(n.text) : fail(`expected string; found ${n}`);
      case 'float64':
      case 'float32':
        return n.type === 'number' && n.isFloat ? constant(new GoFloat(n.float)) : fail(`expected float; found ${n}`);
      case 'int':
      case 'int8':
      case 'int16':
      case 'int32':
      case 'int64':
        return n.type === 'number' && n.isInt ? constant(n.int) : fail(`expected integer; found ${n}`);
      case 'uint':
      case 'uint8':
      case 'uint16':
      case 'uint32':
      case 'uint64':
        return n.type === 'number' && n.isUint ? constant(typ === 'uint8' ? new GoUint8(Number(BigInt.asUintN(8, BigInt(n.uint)))) : n.uint) : fail(`expected unsigned integer; found ${n}`);
    }
    return fail(`can't handle ${n} for arg of type ${typ}`);
  }
}
