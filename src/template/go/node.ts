// The parse tree of Go's text/template (parse/node.go). Every node keeps its position and
// its tree so execution errors can say where they happened, and String() renders a node
// exactly as Go does, because Go quotes that text in its error messages.

import { quote } from './strconv.js';
import { byteLength } from '../../bytes.js';

/** What a node needs to know about the text it came from to locate itself. */
export interface TreeInfo {
  /** Name of the template the node belongs to (the define'd name inside a define). */
  name: string;
  /** Name of the top-level template being parsed: the file name in error locations. */
  parseName: string;
  text: string;
}

export type Node =
  | ListNode
  | TextNode
  | CommentNode
  | ActionNode
  | PipeNode
  | CommandNode
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | EndNode
  | ElseNode
  | BranchNode
  | BreakNode
  | ContinueNode
  | TemplateNode;

abstract class Base {
  // Assigned, not declared as class fields: a field initializer shared by every node class
  // would see all their shapes and fall back to a slow megamorphic define (parse time x3).
  declare readonly tree: TreeInfo;
  declare readonly pos: number;
  constructor(tree: TreeInfo, pos: number) {
    (this as { tree: TreeInfo }).tree = tree;
    (this as { pos: number }).pos = pos;
  }
  abstract toString(): string;
}

export class ListNode extends Base {
  readonly type = 'list';
  readonly nodes: Node[] = [];
  toString(): string {
    return this.nodes.map(String).join('');
  }
}

export class TextNode extends Base {
  readonly type = 'text';
  constructor(tree: TreeInfo, pos: number, readonly text: string) {
    super(tree, pos);
  }
  toString(): string {
    return this.text;
  }
}

export class CommentNode extends Base {
  readonly type = 'comment';
  constructor(tree: TreeInfo, pos: number, readonly text: string) {
    super(tree, pos);
  }
  toString(): string {
    return `{{${this.text}}}`;
  }
}

export class PipeNode extends Base {
  readonly type = 'pipe';
  isAssign = false;
  readonly decl: VariableNode[] = [];
  readonly cmds: CommandNode[] = [];
  constructor(tree: TreeInfo, pos: number, readonly line: number) {
    super(tree, pos);
  }
  toString(): string {
    let s = '';
    if (this.decl.length > 0) s = this.decl.map(String).join(', ') + ' := ';
    return s + this.cmds.map(String).join(' | ');
  }
}

export class ActionNode extends Base {
  readonly type = 'action';
  constructor(tree: TreeInfo, pos: number, readonly line: number, readonly pipe: PipeNode) {
    super(tree, pos);
  }
  toString(): string {
    return `{{${this.pipe}}}`;
  }
}

export type ArgNode = IdentifierNode | VariableNode | DotNode | NilNode | FieldNode | ChainNode | BoolNode | NumberNode | StringNode | PipeNode;

export class CommandNode extends Base {
  readonly type = 'command';
  readonly args: ArgNode[] = [];
  toString(): string {
    return this.args.map((a) => (a.type === 'pipe' ? `(${a})` : String(a))).join(' ');
  }
}

export class IdentifierNode extends Base {
  readonly type = 'identifier';
  constructor(tree: TreeInfo, pos: number, readonly ident: string) {
    super(tree, pos);
  }
  toString(): string {
    return this.ident;
  }
}

export class VariableNode extends Base {
  readonly type = 'variable';
  readonly ident: string[];
  constructor(tree: TreeInfo, pos: number, ident: string) {
    super(tree, pos);
    this.ident = ident.split('.');
  }
  toString(): string {
    return this.ident.join('.');
  }
}

export class DotNode extends Base {
  readonly type = 'dot';
  toString(): string {
    return '.';
  }
}

export class NilNode extends Base {
  readonly type = 'nil';
  toString(): string {
    return 'nil';
  }
}

export class FieldNode extends Base {
  readonly type = 'field';
  readonly ident: string[];
  constructor(tree: TreeInfo, pos: number, ident: string) {
    super(tree, pos);
    this.ident = ident.split('.').slice(1);
  }
  toString(): string {
    return this.ident.map((id) => '.' + id).join('');
  }
}

export class ChainNode extends Base {
  readonly type = 'chain';
  readonly field: string[] = [];
  constructor(tree: TreeInfo, pos: number, readonly node: ArgNode) {
    super(tree, pos);
  }
  add(field: string): void {
    if (field.length === 0 || field[0] !== '.') throw new Error('no dot in field');
    for (const f of field.slice(1).split('.')) {
      if (f === '') throw new Error('empty field');
      this.field.push(f);
    }
  }
  toString(): string {
    const head = this.node.type === 'pipe' ? `(${this.node})` : String(this.node);
    return head + this.field.map((f) => '.' + f).join('');
  }
}

export class BoolNode extends Base {
  readonly type = 'bool';
  constructor(tree: TreeInfo, pos: number, readonly value: boolean) {
    super(tree, pos);
  }
  toString(): string {
    return this.value ? 'true' : 'false';
  }
}

export class NumberNode extends Base {
  readonly type = 'number';
  isInt = false;
  isUint = false;
  isFloat = false;
  isComplex = false;
  /** Go ints of the value model: a bigint only beyond 2^53 (see value.ts). */
  int: number | bigint = 0;
  uint: number | bigint = 0;
  float = 0;
  constructor(tree: TreeInfo, pos: number, readonly text: string) {
    super(tree, pos);
  }
  toString(): string {
    return this.text;
  }
}

export class StringNode extends Base {
  readonly type = 'string';
  constructor(tree: TreeInfo, pos: number, readonly quoted: string, readonly text: string) {
    super(tree, pos);
  }
  toString(): string {
    return this.quoted;
  }
}

export class EndNode extends Base {
  readonly type = 'end';
  toString(): string {
    return '{{end}}';
  }
}

export class ElseNode extends Base {
  readonly type = 'else';
  constructor(tree: TreeInfo, pos: number, readonly line: number) {
    super(tree, pos);
  }
  toString(): string {
    return '{{else}}';
  }
}

export class BranchNode extends Base {
  constructor(
    tree: TreeInfo,
    pos: number,
    readonly type: 'if' | 'range' | 'with',
    readonly line: number,
    readonly pipe: PipeNode,
    readonly list: ListNode,
    readonly elseList: ListNode | null,
  ) {
    super(tree, pos);
  }
  toString(): string {
    let s = `{{${this.type} ${this.pipe}}}${this.list}`;
    if (this.elseList) s += `{{else}}${this.elseList}`;
    return s + '{{end}}';
  }
}

export class BreakNode extends Base {
  readonly type = 'break';
  constructor(tree: TreeInfo, pos: number, readonly line: number) {
    super(tree, pos);
  }
  toString(): string {
    return '{{break}}';
  }
}

export class ContinueNode extends Base {
  readonly type = 'continue';
  constructor(tree: TreeInfo, pos: number, readonly line: number) {
    super(tree, pos);
  }
  toString(): string {
    return '{{continue}}';
  }
}

export class TemplateNode extends Base {
  readonly type = 'template';
  constructor(tree: TreeInfo, pos: number, readonly line: number, readonly name: string, readonly pipe: PipeNode | null) {
    super(tree, pos);
  }
  toString(): string {
    return `{{template ${quote(this.name)}${this.pipe ? ' ' + this.pipe : ''}}}`;
  }
}

/** Go's IsEmptyTree: only space text and comments. */
export function isEmptyTree(n: Node | null): boolean {
  if (n === null) return true;
  switch (n.type) {
    case 'comment':
      return true;
    case 'list':
      return n.nodes.every(isEmptyTree);
    case 'text':
      return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/.test(n.text);
    default:
      return false;
  }
}

/** Go's ErrorContext: "parseName:line:col" (col in bytes, 0-based) and the node's text. */
export function errorContext(n: Node): { location: string; context: string } {
  const text = n.tree.text.slice(0, n.pos);
  const nl = text.lastIndexOf('\n');
  const col = nl === -1 ? byteLength(text) : byteLength(text.slice(nl + 1));
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) line++;
  return { location: `${n.tree.parseName}:${line}:${col}`, context: String(n) };
}
