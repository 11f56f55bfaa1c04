// A resource's `mode`, read exactly as confd reads it: strconv.ParseUint(s, 0, 32), so the base
// prefix decides ("0644" octal, "0o640", "0x1a4", and "644" DECIMAL), and only the permission
// bits reach the file.
import { quote, underscoreOK } from '../template/go/strconv.js';

export interface ParsedMode {
  /** The 9 permission bits given to the file. */
  perm: number;
  /** Set when the text looks like octal but was read as decimal ("644" → 0204). */
  decimalWarning?: string;
}

/** Go's strconv.ParseUint(s, 0, 32). Throws with Go's error text. */
export function parseUint0(s: string, bitSize = 32): number {
  const syntax = () => new Error(`strconv.ParseUint: parsing ${quote(s)}: invalid syntax`);
  if (s === '') throw syntax();
  let base = 10;
  let body = s;
  if (s[0] === '0') {
    if (s.length >= 3 && (s[1] === 'x' || s[1] === 'X')) {
      base = 16;
      body = s.slice(2);
    } else if (s.length >= 3 && (s[1] === 'o' || s[1] === 'O')) {
      base = 8;
      body = s.slice(2);
    } else if (s.length >= 3 && (s[1] === 'b' || s[1] === 'B')) {
      base = 2;
      body = s.slice(2);
    } else {
      base = 8;
      body = s.slice(1);
    }
  }
  if (!underscoreOK(s)) throw syntax();
  body = body.replace(/_/g, '');
  if (body === '' && !(base === 8 && s.length >= 1 && !/^0[oO]/.test(s))) throw syntax();
  let n = 0n;
  for (const ch of body) {
    const d = parseInt(ch, 36);
    if (Number.isNaN(d) || d >= base) throw syntax();
    n = n * BigInt(base) + BigInt(d);
  }
  if (n >= 1n << BigInt(bitSize)) throw new Error(`strconv.ParseUint: parsing ${quote(s)}: value out of range`);
  return Number(n);
}

export function parseMode(text: string): ParsedMode {
  const value = parseUint0(text);
  const perm = value & 0o777;
  const out: ParsedMode = { perm };
  if (/^[1-9][0-7]{2,3}$/.test(text)) {
    out.decimalWarning =
      `mode "${text}" is read as the decimal number ${text} (permissions 0${perm.toString(8).padStart(3, '0')}), as confd reads it; ` +
      `write "0${text}" for octal`;
  }
  return out;
}

/** "0644" → "-rw-r--r--", as Go prints an os.FileMode of a regular file. */
export function modeString(mode: number): string {
  const rwx = 'rwxrwxrwx';
  let out = '-';
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? rwx[i] : '-';
  return out;
}
