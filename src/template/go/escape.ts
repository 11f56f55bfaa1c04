// The escaping builtins of Go's text/template (funcs.go): html, js and urlquery. Each takes any number
// of operands and formats them first as evalArgs does: a single string is used as it is, otherwise
// every nil operand becomes "<no value>" (Go's printableValue of a nil interface) and the operands are
// joined by fmt.Sprint rules.

import { sprint } from './fmt.js';
import { isPrint, runeAt, utf8Bytes } from './strconv.js';

/** Go's evalArgs: the text an escaping function escapes. */
export function evalArgs(args: readonly unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  const printable = args.map((a) => (a === null || a === undefined ? '<no value>' : a));
  return sprint(printable);
}

const HTML_SPECIAL = /['"&<>\0]/;

/** Go's template.HTMLEscapeString. */
export function htmlEscapeString(s: string): string {
  if (!HTML_SPECIAL.test(s)) return s;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let rep: string;
    switch (s.charCodeAt(i)) {
      case 0:
        rep = '\uFFFD';
        break;
      case 0x22:
        rep = '&#34;';
        break;
      case 0x27:
        rep = '&#39;';
        break;
      case 0x26:
        rep = '&amp;';
        break;
      case 0x3c:
        rep = '&lt;';
        break;
      case 0x3e:
        rep = '&gt;';
        break;
      default:
        continue;
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return out + s.slice(last);
}

function isJSSpecial(c: number): boolean {
  switch (c) {
    case 0x5c:
    case 0x27:
    case 0x22:
    case 0x3c:
    case 0x3e:
    case 0x26:
    case 0x3d:
      return true;
  }
  return c < 0x20 || c >= 0x80;
}

const HEX_UPPER = '0123456789ABCDEF';

/** Go's template.JSEscapeString. */
export function jsEscapeString(s: string): string {
  let i = 0;
  while (i < s.length && !isJSSpecial(s.charCodeAt(i))) i++;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  let last = i;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isJSSpecial(c)) continue;
    out += s.slice(last, i);
    if (c < 0x80) {
      switch (c) {
        case 0x5c:
          out += '\\\\';
          break;
        case 0x27:
          out += "\\'";
          break;
        case 0x22:
          out += '\\"';
          break;
        case 0x3c:
          out += '\\u003C';
          break;
        case 0x3e:
          out += '\\u003E';
          break;
        case 0x26:
          out += '\\u0026';
          break;
        case 0x3d:
          out += '\\u003D';
          break;
        default:
          out += '\\u00' + HEX_UPPER[c >> 4] + HEX_UPPER[c & 15];
      }
    } else {
      const [r, units] = runeAt(s, i);
      if (isPrint(r)) out += s.slice(i, i + units);
      else out += '\\u' + r.toString(16).toUpperCase().padStart(4, '0');
      i += units - 1;
    }
    last = i + 1;
  }
  return out + s.slice(last);
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    if (shouldEscape(s.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const c of utf8Bytes(s)) {
    if (c === 0x20) out += '+';
    else if (shouldEscape(c)) out += '%' + HEX_UPPER[c >> 4] + HEX_UPPER[c & 15];
    else out += String.fromCharCode(c);
  }
  return out;
}

/** Go's shouldEscape(c, encodeQueryComponent): all but letters, digits and - _ . ~ */
function shouldEscape(c: number): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) return false;
  return !(c === 0x2d || c === 0x5f || c === 0x2e || c === 0x7e);
}

/** The `html` builtin: Go's template.HTMLEscaper. */
export function htmlEscaper(args: readonly unknown[]): string {
  return htmlEscapeString(evalArgs(args));
}

/** The `js` builtin: Go's template.JSEscaper. */
export function jsEscaper(args: readonly unknown[]): string {
  return jsEscapeString(evalArgs(args));
}

/** The `urlquery` builtin: Go's template.URLQueryEscaper. */
export function urlQueryEscaper(args: readonly unknown[]): string {
  return queryEscape(evalArgs(args));
}
