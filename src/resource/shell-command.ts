// Every command tsconfd gives to /bin/sh (check_cmd, group_check_cmd, reload_cmd, and any later
// one) is built here, and runCommand takes nothing else: a value substituted into a command
// ({{.src}}, {{.root}}) never enters the script text the shell parses, so no key name, value or
// path can become shell syntax however the operator quotes it.
//
// The command template executes with a placeholder for each value; each placeholder is then
// replaced by a reference to an environment variable passed to the child (TSCONFD_SRC), written
// for the shell quoting context where it stands:
//   unquoted (also inside $(...), `...`)  →  "${TSCONFD_SRC}"
//   inside "..."                          →  ${TSCONFD_SRC}
//   inside '...'                          →  '"${TSCONFD_SRC}"'   (close, expand, reopen)
//   in a here-document body               →  ${TSCONFD_SRC}
// The shell expands a variable into exactly one word and never parses its content, so for a
// path that needs no quoting the command sees the argv it saw when the path was pasted in (as
// confd does), and for any other it sees the path as one word instead of running part of it.
// A command that hands its text to another shell (sh -c '...', eval, ssh) re-parses the value:
// fan-out file names are restricted to a safe character set for that reason (fanout.ts).
import { randomBytes } from 'node:crypto';
import { parse } from '../template/go/index.js';
import { GO_TYPE } from '../template/go/value.js';

/** Per process, so a template or a value cannot forge a placeholder. */
const NONCE = randomBytes(8).toString('hex');
const PLACEHOLDER = new RegExp(`\u0000${NONCE}:(\\d+)\u0000`, 'y');

export class ShellCommand {
  private constructor(
    /** The text /bin/sh -c parses: operator-written, with variable references only. */
    readonly script: string,
    /** The values, passed to the child as environment variables. */
    readonly env: Readonly<Record<string, string>>,
  ) {}

  /** A command run as written, with no substitution (reload_cmd, as in confd). */
  static literal(text: string): ShellCommand {
    return new ShellCommand(text, {});
  }

  /**
   * A command that is a Go template (no confd functions) with `values` as its data (a
   * map[string]string, so a missing field prints <no value>). Throws on a template error, a value
   * the template cut or changed, or a value placed where the shell cannot expand it.
   */
  static fromTemplate(name: string, text: string, values: Readonly<Record<string, string>>): ShellCommand {
    const names = Object.keys(values);
    const data = new Map<string, string>(names.map((k, i) => [k, `\u0000${NONCE}:${i}\u0000`]));
    Object.defineProperty(data, GO_TYPE, { value: 'map[string]string' });
    const rendered = parse(name, text).execute(data);
    const env: Record<string, string> = {};
    const script = referToEnv(rendered, (i) => {
      const key = names[i];
      if (key === undefined) throw new Error(`${name}: bad placeholder`);
      const variable = envName(key);
      env[variable] = values[key]!;
      return variable;
    }, name);
    if (script.includes('\u0000')) {
      throw new Error(`${name}: a substituted value ({{.${names.join('}}, {{.')}}}) may only be used whole, as {{.name}}`);
    }
    return new ShellCommand(script, env);
  }

  /** The script, and the values it reads, for the debug log. */
  toString(): string {
    const vars = Object.entries(this.env).map(([k, v]) => `${k}=${v}`);
    return vars.length === 0 ? this.script : `${this.script} (${vars.join(' ')})`;
  }
}

/** The variable a value named `key` is passed in: src → TSCONFD_SRC. */
export function envName(key: string): string {
  return `TSCONFD_${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

type Frame = { kind: 'plain' | 'dq' | 'sq' | 'bq' | 'sub' | 'arith' | 'param'; parens: number };
interface HereDoc {
  delimiter: string;
  stripTabs: boolean;
  quoted: boolean;
}

const WORD_START = /[\s;&|()<>]/;
const DELIMITER_END = /[\s;&|()<>]/;

/**
 * Replaces each placeholder in `text` by a reference to the variable `variableOf(index)` names,
 * quoted for the shell context at its position (a small POSIX sh lexer: quotes, escapes, $(...),
 * ${...}, backquotes, comments, here-documents).
 */
function referToEnv(text: string, variableOf: (index: number) => string, name: string): string {
  const stack: Frame[] = [{ kind: 'plain', parens: 0 }];
  const pending: HereDoc[] = [];
  let out = '';
  let i = 0;
  const top = () => stack[stack.length - 1]!;
  const placeholderAt = (at: number): { index: number; end: number } | undefined => {
    PLACEHOLDER.lastIndex = at;
    const m = PLACEHOLDER.exec(text);
    return m ? { index: Number(m[1]), end: PLACEHOLDER.lastIndex } : undefined;
  };
  const reference = (variable: string): string => {
    const kind = enclosing(stack);
    if (kind === 'sq') return `'"\${${variable}}"'`;
    if (kind === 'dq') return `\${${variable}}`;
    return `"\${${variable}}"`;
  };
  const readHereDocs = () => {
    for (const doc of pending.splice(0)) {
      while (i < text.length) {
        let end = text.indexOf('\n', i);
        if (end < 0) end = text.length;
        const line = text.slice(i, end);
        const bare = doc.stripTabs ? line.replace(/^\t+/, '') : line;
        if (bare === doc.delimiter) {
          out += line + (end < text.length ? '\n' : '');
          i = end + 1;
          break;
        }
        let j = 0;
        while (j < line.length) {
          const p = line.charCodeAt(j) === 0 ? placeholderAt(i + j) : undefined;
          if (p) {
            if (doc.quoted) throw new Error(`${name}: a substituted value inside a here-document with a quoted delimiter is never expanded`);
            out += `\${${variableOf(p.index)}}`;
            j = p.end - i;
          } else {
            out += line[j];
            j++;
          }
        }
        out += end < text.length ? '\n' : '';
        i = end + 1;
      }
    }
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === '\u0000') {
      const p = placeholderAt(i);
      if (p) {
        out += reference(variableOf(p.index));
        i = p.end;
        continue;
      }
    }
    const frame = top();
    if (frame.kind === 'sq') {
      if (c === "'") stack.pop();
      out += c;
      i++;
      continue;
    }
    if (c === '\\') {
      out += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '$' && text[i + 1] === '(' && text[i + 2] === '(') {
      // $((...)): its << is a shift, its # a base, never a here-document or a comment.
      stack.push({ kind: 'arith', parens: 1 });
      out += '$((';
      i += 3;
      continue;
    }
    if (c === '$' && text[i + 1] === '(') {
      stack.push({ kind: 'sub', parens: 0 });
      out += '$(';
      i += 2;
      continue;
    }
    if (c === '$' && text[i + 1] === '{') {
      stack.push({ kind: 'param', parens: 0 });
      out += '${';
      i += 2;
      continue;
    }
    if (c === '`') {
      if (frame.kind === 'bq') stack.pop();
      else stack.push({ kind: 'bq', parens: 0 });
      out += c;
      i++;
      continue;
    }
    if (frame.kind === 'dq') {
      if (c === '"') stack.pop();
      out += c;
      i++;
      continue;
    }
    // Unquoted: plain, inside $(...), `...` or ${...}.
    if (c === '"') stack.push({ kind: 'dq', parens: 0 });
    else if (c === "'" && !(frame.kind === 'param' && enclosing(stack) === 'dq')) stack.push({ kind: 'sq', parens: 0 });
    else if (c === '}' && frame.kind === 'param') stack.pop();
    else if (c === '(' && (frame.kind === 'sub' || frame.kind === 'arith')) frame.parens++;
    else if (c === ')' && (frame.kind === 'sub' || frame.kind === 'arith')) {
      if (frame.parens > 0) frame.parens--;
      else stack.pop();
    } else if (frame.kind === 'arith') {
      // Arithmetic: copied as it is.
    } else if (c === '<' && text.startsWith('<<<', i)) {
      out += '<<';
      i += 2;
    } else if (c === '#' && frame.kind !== 'param' && (i === 0 || WORD_START.test(text[i - 1]!))) {
      // A comment runs to the end of the line; a placeholder in it is replaced all the same.
      let end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
      while (i < end) {
        const p = text.charCodeAt(i) === 0 ? placeholderAt(i) : undefined;
        if (p) {
          out += reference(variableOf(p.index));
          i = p.end;
        } else out += text[i++];
      }
      continue;
    } else if (c === '<' && text[i + 1] === '<' && text[i + 2] !== '<' && frame.kind !== 'param') {
      i = readHereDocOperator(text, i, pending, (s) => (out += s));
      continue;
    } else if (c === '\n' && pending.length > 0) {
      out += c;
      i++;
      readHereDocs();
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** The quoting at the top of the stack: ${...} takes its enclosing frame's. */
function enclosing(stack: readonly Frame[]): Frame['kind'] {
  for (let k = stack.length - 1; k >= 0; k--) if (stack[k]!.kind !== 'param') return stack[k]!.kind;
  return 'plain';
}

/** Reads `<<[-] WORD` at i (copied to out), records the here-document, returns the index after it. */
function readHereDocOperator(text: string, i: number, pending: HereDoc[], emit: (s: string) => void): number {
  let j = i + 2;
  const stripTabs = text[j] === '-';
  if (stripTabs) j++;
  while (text[j] === ' ' || text[j] === '\t') j++;
  let word = '';
  let quoted = false;
  while (j < text.length && !DELIMITER_END.test(text[j]!)) {
    const c = text[j]!;
    if (c === "'" || c === '"') {
      quoted = true;
      const close = text.indexOf(c, j + 1);
      const stop = close < 0 ? text.length : close;
      word += text.slice(j + 1, stop);
      j = stop + 1;
    } else if (c === '\\') {
      quoted = true;
      word += text[j + 1] ?? '';
      j += 2;
    } else {
      word += c;
      j++;
    }
  }
  emit(text.slice(i, j));
  if (word !== '') pending.push({ delimiter: word, stripTabs, quoted });
  return j;
}
