// The parser of Go's text/template (parse/parse.go): tokens to a node tree per template
// (the top-level one plus every define/block), with Go's error texts and line numbers.

import { Item, T, itemString, lex } from './lex.js';
import { quote, underscoreOK } from './strconv.js';
import { decodeBytes, hasRawBytes } from '../../bytes.js';
import {
  ActionNode,
  ArgNode,
  BoolNode,
  BranchNode,
  BreakNode,
  ChainNode,
  CommandNode,
  CommentNode,
  ContinueNode,
  DotNode,
  ElseNode,
  EndNode,
  FieldNode,
  IdentifierNode,
  isEmptyTree,
  ListNode,
  NilNode,
  Node,
  NumberNode,
  PipeNode,
  StringNode,
  TemplateNode,
  TextNode,
  TreeInfo,
  VariableNode,
} from './node.js';
import { goInt } from './value.js';

/** A parse failure, already worded as Go words it ("template: NAME:LINE: msg"). */
export class ParseFailure extends Error {
  constructor(
    message: string,
    readonly templateName: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export interface ParsedTree {
  name: string;
  root: ListNode;
  info: TreeInfo;
}

class Stream {
  i = 0;
  constructor(readonly items: Item[]) {}
  nextItem(): Item {
    const it = this.items[this.i];
    if (this.i < this.items.length - 1) this.i++;
    return it;
  }
}

class TreeParser {
  root: ListNode | null = null;
  readonly info: TreeInfo;
  private token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;

  constructor(
    public name: string,
    readonly parseName: string,
    readonly text: string,
    private readonly lexer: Stream,
    private readonly hasFunction: (name: string) => boolean,
    private readonly treeSet: Map<string, ParsedTree>,
  ) {
    this.info = { name, parseName, text };
  }

  private next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lexer.nextItem();
    return this.token[this.peekCount];
  }
  private backup(): void {
    this.peekCount++;
  }
  private backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }
  private backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }
  private peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1];
    this.peekCount = 1;
    this.token[0] = this.lexer.nextItem();
    return this.token[0];
  }
  private nextNonSpace(): Item {
    let token: Item;
    do token = this.next();
    while (token.typ === T.Space);
    return token;
  }
  private peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  errorf(msg: string): never {
    this.root = null;
    const line = this.token[0] ? this.token[0].line : 0;
    throw new ParseFailure(`template: ${this.parseName}:${line}: ${msg}`, this.parseName, line);
  }

  private expect(expected: T, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  private expectOneOf(e1: T, e2: T, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== e1 && token.typ !== e2) this.unexpected(token, context);
    return token;
  }

  private unexpected(token: Item, context: string): never {
    if (token.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  private sub(name: string): TreeParser {
    return new TreeParser(name, this.parseName, this.text, this.lexer, this.hasFunction, this.treeSet);
  }

  add(): void {
    const tree = this.treeSet.get(this.name);
    if (tree === undefined || isEmptyTree(tree.root)) {
      this.treeSet.set(this.name, { name: this.name, root: this.root!, info: this.info });
      return;
    }
    if (!isEmptyTree(this.root)) this.errorf(`template: multiple definition of template ${quote(this.name)}`);
  }

  parse(): void {
    this.root = new ListNode(this.info, this.peek().pos);
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) {
          const newT = this.sub('definition');
          newT.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${n}`);
      this.root.nodes.push(n);
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const name = this.expectOneOf(T.String, T.RawString, context);
    this.name = this.unquoteOrFail(name.val);
    this.info.name = this.name;
    this.expect(T.RightDelim, context);
    const [root, end] = this.itemList();
    this.root = root;
    if (end.type !== 'end') this.errorf(`unexpected ${end} in ${context}`);
    this.add();
  }

  private itemList(): [ListNode, Node] {
    const list = new ListNode(this.info, this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Text:
        return new TextNode(this.info, token.pos, token.val);
      case T.LeftDelim:
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      case T.Comment:
        return new CommentNode(this.info, token.pos, token.val);
      default:
        this.unexpected(token, 'input');
    }
  }

  private action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Block:
        return this.blockControl();
      case T.Break:
        return this.breakControl(token.pos, token.line);
      case T.Continue:
        return this.continueControl(token.pos, token.line);
      case T.Else:
        return this.elseControl();
      case T.End:
        return this.endControl();
      case T.If:
        return this.branch('if', true);
      case T.Range:
        return this.branch('range', false);
      case T.Template:
        return this.templateControl();
      case T.With:
        return this.branch('with', false);
    }
    this.backup();
    const t = this.peek();
    return new ActionNode(this.info, t.pos, t.line, this.pipeline('command', T.RightDelim));
  }

  private breakControl(pos: number, line: number): Node {
    const token = this.nextNonSpace();
    if (token.typ !== T.RightDelim) this.unexpected(token, '{{break}}');
    if (this.rangeDepth === 0) this.errorf('{{break}} outside {{range}}');
    return new BreakNode(this.info, pos, line);
  }

  private continueControl(pos: number, line: number): Node {
    const token = this.nextNonSpace();
    if (token.typ !== T.RightDelim) this.unexpected(token, '{{continue}}');
    if (this.rangeDepth === 0) this.errorf('{{continue}} outside {{range}}');
    return new ContinueNode(this.info, pos, line);
  }

  private pipeline(context: string, end: T): PipeNode {
    const token = this.peekNonSpace();
    const pipe = new PipeNode(this.info, token.pos, token.line);
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ === T.Variable) {
        this.next();
        const tokenAfterVariable = this.peek();
        const next = this.peekNonSpace();
        if (next.typ === T.Assign || next.typ === T.Declare) {
          pipe.isAssign = next.typ === T.Assign;
          this.nextNonSpace();
          pipe.decl.push(new VariableNode(this.info, v.pos, v.val));
          this.vars.push(v.val);
        } else if (next.typ === T.Char && next.val === ',') {
          this.nextNonSpace();
          pipe.decl.push(new VariableNode(this.info, v.pos, v.val));
          this.vars.push(v.val);
          if (context === 'range' && pipe.decl.length < 2) {
            const p = this.peekNonSpace().typ;
            if (p === T.Variable || p === T.RightDelim || p === T.RightParen) continue decls;
            this.errorf('range can only initialize variables');
          }
          this.errorf(`too many declarations in ${context}`);
        } else if (tokenAfterVariable.typ === T.Space) {
          this.backup3(v, tokenAfterVariable);
        } else {
          this.backup2(v);
        }
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      switch (token.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case T.Bool:
        case T.CharConstant:
        case T.Complex:
        case T.Dot:
        case T.Field:
        case T.Identifier:
        case T.Number:
        case T.Nil:
        case T.RawString:
        case T.String:
        case T.Variable:
        case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      switch (pipe.cmds[i].args[0].type) {
        case 'bool':
        case 'dot':
        case 'nil':
        case 'number':
        case 'string':
          this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  private parseControl(allowElseIf: boolean, context: string): [PipeNode, ListNode, ListNode | null] {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, T.RightDelim);
      if (context === 'range') this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        if (allowElseIf && this.peek().typ === T.If) {
          this.next();
          elseList = new ListNode(this.info, next.pos);
          elseList.nodes.push(this.branch('if', true));
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf(`expected end; found ${next}`);
        }
      }
      return [pipe, list, elseList];
    } finally {
      this.vars.length = mark;
    }
  }

  private branch(kind: 'if' | 'range' | 'with', allowElseIf: boolean): BranchNode {
    const [pipe, list, elseList] = this.parseControl(allowElseIf, kind);
    return new BranchNode(this.info, pipe.pos, kind, pipe.line, pipe, list, elseList);
  }

  private endControl(): Node {
    return new EndNode(this.info, this.expect(T.RightDelim, 'end').pos);
  }

  private elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === T.If) return new ElseNode(this.info, peek.pos, peek.line);
    const token = this.expect(T.RightDelim, 'else');
    return new ElseNode(this.info, token.pos, token.line);
  }

  private blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const block = this.sub(name);
    const [root, end] = block.itemList();
    block.root = root;
    if (end.type !== 'end') this.errorf(`unexpected ${end} in ${context}`);
    block.add();
    return new TemplateNode(this.info, token.pos, token.line, name, pipe);
  }

  private templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return new TemplateNode(this.info, token.pos, token.line, name, pipe);
  }

  private parseTemplateName(token: Item, context: string): string {
    if (token.typ === T.String || token.typ === T.RawString) return this.unquoteOrFail(token.val);
    this.unexpected(token, context);
  }

  private command(): CommandNode {
    const cmd = new CommandNode(this.info, this.peekNonSpace().pos);
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === T.Space) continue;
      if (token.typ === T.RightDelim || token.typ === T.RightParen) this.backup();
      else if (token.typ !== T.Pipe) this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    let node = this.term();
    if (node === null) return null;
    if (this.peek().typ === T.Field) {
      const chain = new ChainNode(this.info, this.peek().pos, node);
      while (this.peek().typ === T.Field) chain.add(this.next().val);
      switch (node.type) {
        case 'field':
          node = new FieldNode(this.info, chain.pos, String(chain));
          break;
        case 'variable':
          node = new VariableNode(this.info, chain.pos, String(chain));
          break;
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${quote(String(node))}`);
        default:
          node = chain;
      }
    }
    return node;
  }

  private term(): ArgNode | null {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Identifier:
        if (!this.hasFunction(token.val)) this.errorf(`function ${quote(token.val)} not defined`);
        return new IdentifierNode(this.info, token.pos, token.val);
      case T.Dot:
        return new DotNode(this.info, token.pos);
      case T.Nil:
        return new NilNode(this.info, token.pos);
      case T.Variable:
        return this.useVar(token.pos, token.val);
      case T.Field:
        return new FieldNode(this.info, token.pos, token.val);
      case T.Bool:
        return new BoolNode(this.info, token.pos, token.val === 'true');
      case T.CharConstant:
      case T.Complex:
      case T.Number:
        return this.newNumber(token.pos, token.val, token.typ);
      case T.LeftParen:
        return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String:
      case T.RawString:
        return new StringNode(this.info, token.pos, token.val, this.unquoteOrFail(token.val));
    }
    this.backup();
    return null;
  }

  private useVar(pos: number, name: string): VariableNode {
    const v = new VariableNode(this.info, pos, name);
    if (this.vars.includes(v.ident[0])) return v;
    this.errorf(`undefined variable ${quote(v.ident[0])}`);
  }

  private unquoteOrFail(s: string): string {
    const r = unquote(s);
    if (r === null) this.errorf('invalid syntax');
    return r;
  }

  private newNumber(pos: number, text: string, typ: T): NumberNode {
    const n = new NumberNode(this.info, pos, text);
    if (typ === T.CharConstant) {
      const r = unquoteChar(text, 1, text[0]);
      if (r === null) this.errorf('invalid syntax');
      if (text.slice(r[1]) !== "'") this.errorf(`malformed character constant: ${text}`);
      // An escaped byte typed into the constant (invalid UTF-8) is U+FFFD to Go's UnquoteChar.
      n.int = n.uint = n.float = r[0] >= 0xd800 && r[0] <= 0xdfff ? 0xfffd : r[0];
      n.isInt = n.isUint = n.isFloat = true;
      return n;
    }
    if (typ === T.Complex || text.endsWith('i')) {
      // Complex constants are not modelled; Go accepts them, we refuse them clearly.
      this.errorf(`complex constants are not supported: ${text}`);
    }
    const u = parseUint(text);
    if (u !== null) {
      n.isUint = true;
      n.uint = goInt(u);
    }
    const i = parseInt64(text);
    if (i !== null) {
      n.isInt = true;
      n.int = goInt(i);
      if (i === 0n) {
        n.isUint = true;
        n.uint = 0;
      }
    }
    if (n.isInt) {
      n.isFloat = true;
      n.float = Number(n.int);
    } else if (n.isUint) {
      n.isFloat = true;
      n.float = Number(n.uint);
    } else {
      const f = parseFloat64(text);
      if (f !== null) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${quote(text)}`);
        n.isFloat = true;
        n.float = f;
        if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
          n.isInt = true;
          n.int = goInt(BigInt(f));
        }
        if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
          n.isUint = true;
          n.uint = goInt(BigInt(f));
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${quote(text)}`);
    return n;
  }
}

/** strconv.ParseUint(s, 0, 64). */
function parseUint(s0: string): bigint | null {
  if (s0 === '') return null;
  let s = s0;
  let base = 10;
  if (s[0] === '0') {
    const p = s.length >= 3 ? s[1].toLowerCase() : '';
    if (p === 'b') {
      base = 2;
      s = s.slice(2);
    } else if (p === 'o') {
      base = 8;
      s = s.slice(2);
    } else if (p === 'x') {
      base = 16;
      s = s.slice(2);
    } else {
      base = 8;
      s = s.slice(1);
    }
  }
  let n = 0n;
  const b = BigInt(base);
  let underscores = false;
  for (const c of s) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) return null;
    n = n * b + BigInt(d);
    if (n > 0xffffffffffffffffn) return null;
  }
  if (underscores && !underscoreOK(s0)) return null;
  return n;
}

/** strconv.ParseInt(s, 0, 64). */
function parseInt64(s: string): bigint | null {
  if (s === '') return null;
  let neg = false;
  let body = s;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    body = s.slice(1);
  }
  const u = parseUint(body);
  if (u === null) return null;
  if (!neg && u >= 1n << 63n) return null;
  if (neg && u > 1n << 63n) return null;
  return neg ? -u : u;
}

/** strconv.ParseFloat(s, 64) for the forms the lexer can produce. */
function parseFloat64(s: string): number | null {
  let i = 0;
  let sign = 1;
  if (s[i] === '+' || s[i] === '-') {
    if (s[i] === '-') sign = -1;
    i++;
  }
  const hex = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X');
  if (hex) i += 2;
  let mant = '';
  let frac = 0;
  let sawDot = false;
  let sawDigits = false;
  let underscores = false;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '_') {
      underscores = true;
      continue;
    }
    if (c === '.') {
      if (sawDot) break;
      sawDot = true;
      continue;
    }
    const isDigit = hex ? /[0-9a-fA-F]/.test(c) : c >= '0' && c <= '9';
    if (!isDigit) break;
    sawDigits = true;
    mant += c;
    if (sawDot) frac++;
  }
  if (!sawDigits) return null;
  let exp = 0;
  const expChar = hex ? 'p' : 'e';
  if (i < s.length && s[i].toLowerCase() === expChar) {
    i++;
    let esign = 1;
    if (s[i] === '+' || s[i] === '-') {
      if (s[i] === '-') esign = -1;
      i++;
    }
    if (i >= s.length || s[i] < '0' || s[i] > '9') return null;
    let e = 0;
    for (; i < s.length && ((s[i] >= '0' && s[i] <= '9') || s[i] === '_'); i++) {
      if (s[i] === '_') {
        underscores = true;
        continue;
      }
      if (e < 100000) e = e * 10 + (s.charCodeAt(i) - 48);
    }
    exp = esign * e;
  } else if (hex) {
    return null;
  }
  if (i !== s.length) return null;
  if (underscores && !underscoreOK(s)) return null;
  let v: number;
  if (hex) v = Number(BigInt('0x' + mant)) * 2 ** (exp - 4 * frac);
  else v = Number(`${mant.slice(0, mant.length - frac) || '0'}.${mant.slice(mant.length - frac) || '0'}e${exp}`);
  if (!Number.isFinite(v)) return null;
  return sign * v;
}

const simpleEscapes: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

/** strconv.UnquoteChar on s at i: [code point, index after it], or null for invalid syntax. */
export function unquoteChar(s: string, i: number, quote: string): [number, number] | null {
  const c = s.codePointAt(i);
  if (c === undefined) return null;
  const ch = String.fromCodePoint(c);
  if (ch === quote && (quote === "'" || quote === '"')) return null;
  if (ch !== '\\') return [c, i + ch.length];
  if (i + 1 >= s.length) return null;
  const e = s[i + 1];
  let j = i + 2;
  if (e in simpleEscapes) return [simpleEscapes[e], j];
  switch (e) {
    case 'x':
    case 'u':
    case 'U': {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const digits = s.slice(j, j + n);
      if (digits.length < n || !/^[0-9a-fA-F]+$/.test(digits)) return null;
      const v = parseInt(digits, 16);
      j += n;
      if (e === 'x') return [v, j];
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
      return [v, j];
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      const digits = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(digits)) return null;
      const v = parseInt(digits, 8);
      if (v > 255) return null;
      return [v, i + 4];
    }
    case "'":
    case '"':
      if (e !== quote) return null;
      return [e.charCodeAt(0), j];
  }
  return null;
}

/** strconv.Unquote for "..." and `...` literals; null for invalid syntax. */
export function unquote(s: string): string | null {
  if (s.length < 2) return null;
  const q = s[0];
  if (q !== s[s.length - 1]) return null;
  const body = s.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) return null;
    return body.includes('\r') ? body.replace(/\r/g, '') : body;
  }
  if (q !== '"' && q !== "'") return null;
  if (body.includes('\n')) return null;
  if (!body.includes('\\') && !body.includes(q)) {
    // Go returns the text as it is only when it is valid UTF-8 (a raw-byte literal reads as U+FFFD).
    if (q === '"' && !hasRawBytes(body)) return body;
  }
  let out = '';
  // "\xff" and "\377" are single bytes in Go (not runes): runs of them are decoded together, so
  // "\xc3\xa9" is "é" and an invalid byte stays a byte (src/bytes.ts).
  let rawBytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const r = unquoteChar(body, i, q);
    if (r === null) return null;
    const isByteEscape = q === '"' && r[0] >= 0x80 && r[0] <= 0xff && body[i] === '\\' && (body[i + 1] === 'x' || (body[i + 1]! >= '0' && body[i + 1]! <= '7'));
    if (isByteEscape) rawBytes.push(r[0]);
    else {
      if (rawBytes.length > 0) {
        out += decodeBytes(Buffer.from(rawBytes));
        rawBytes = [];
      }
      // An escaped byte (invalid UTF-8 typed into the literal) is U+FFFD to Go's UnquoteChar.
      out += r[0] >= 0xd800 && r[0] <= 0xdfff ? '\ufffd' : String.fromCodePoint(r[0]);
    }
    i = r[1];
    if (q === "'" && i !== body.length) return null;
  }
  if (rawBytes.length > 0) out += decodeBytes(Buffer.from(rawBytes));
  return out;
}

/**
 * Parses text as Go's template.New(name).Funcs(...).Parse(text) does. Returns every tree,
 * the top-level one included, keyed by template name.
 */
export function parseTrees(
  name: string,
  text: string,
  leftDelim: string,
  rightDelim: string,
  hasFunction: (name: string) => boolean,
): Map<string, ParsedTree> {
  const items = lex(text, leftDelim, rightDelim, !hasFunction('break'), !hasFunction('continue'));
  const treeSet = new Map<string, ParsedTree>();
  const t = new TreeParser(name, name, text, new Stream(items), hasFunction, treeSet);
  t.parse();
  t.add();
  return treeSet;
}
