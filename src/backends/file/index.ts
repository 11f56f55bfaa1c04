// The file backend: YAML or JSON files (or directories of them, filtered by -filter), flattened
// as confd flattens them: nested maps become /a/b, list items /a/0, /a/1; numbers and booleans
// become their text; nulls are skipped. Files are re-read on every getValues, so a later pass
// sees edits; -watch re-reads them on every file system event (watch.ts).
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, type ParseOptions, type DocumentOptions, type SchemaOptions } from 'yaml';
import type { ChangeFeedBackend } from '../types.js';
import type { Logger } from '../../log.js';
import { watchableFiles } from './watch.js';
import type { TimerSource } from '../../time/timers.js';

export interface FileBackendOptions {
  files: readonly string[];
  /** Glob on base names for files found inside directories (confd's -filter, default "*"). */
  filter?: string;
  /** -watch: read errors and changes are reported here. */
  log?: Logger;
  /** The runtime's scheduler: the watch's debounce. */
  timers?: TimerSource;
}

export function createFileBackend(opts: FileBackendOptions): ChangeFeedBackend {
  if (opts.files.length === 0) throw new Error('the file backend needs at least one -file');
  const filter = globToRegExp(opts.filter ?? '*');
  const read = async (): Promise<Map<string, string>> => {
    const all = new Map<string, string>();
    for (const root of opts.files) {
      for (const file of await findFiles(root, filter)) {
        const text = await readFile(file, 'utf8');
        let doc: unknown;
        try {
          doc = parseYaml(text, YAML_OPTIONS);
        } catch (e) {
          throw new Error(`${file}: ${(e as Error).message.split('\n')[0]}`);
        }
        flatten(doc, '/', all);
      }
    }
    return all;
  };
  return watchableFiles({ files: opts.files, read, log: opts.log, timers: opts.timers });
}

/**
 * YAML as confd's gopkg.in/yaml.v2 decodes it into interface{}: YAML 1.1 scalars, except that a
 * timestamp-looking one stays its text ("for backward compatibility", decode.go) and there are no
 * base-60 numbers (1:20 is a string); integers are int64, so they are read as BigInt (no digit lost).
 */
const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  intAsBigInt: true,
  customTags: (tags) => tags.filter((t) => typeof t !== 'object' || (t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME')),
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** confd's nodeWalk: keys are path.Join'ed, so they are clean and start with "/". */
export function flatten(node: unknown, key: string, out: Map<string, string>): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => flatten(item, joinKey(key, String(i)), out));
  } else if (node instanceof Map) {
    for (const [k, v] of node) flatten(v, joinKey(key, String(k)), out);
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) flatten(v, joinKey(key, k), out);
  } else if (typeof node === 'string') {
    out.set(key, node);
  } else if (typeof node === 'boolean') {
    out.set(key, node ? 'true' : 'false');
  } else if (typeof node === 'number') {
    out.set(key, formatNumber(node));
  } else if (typeof node === 'bigint') {
    // yaml.v2: an int64 is an int; above it a uint64, which nodeWalk has no case for (the key is
    // dropped); beyond both a float64.
    if (node >= INT64_MIN && node <= INT64_MAX) out.set(key, node.toString());
    else if (node < INT64_MIN || node > UINT64_MAX) out.set(key, formatNumber(Number(node)));
  }
}

function joinKey(base: string, name: string): string {
  const parts: string[] = [];
  for (const p of `${base}/${name}`.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return '/' + parts.join('/');
}

/** Go's strconv.FormatFloat(x, 'f', -1, 64): shortest digits, never an exponent. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (Object.is(n, -0)) return '-0';
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', expText] = m;
  const digits = lead! + frac;
  const exp = Number(expText);
  if (exp >= 0) {
    const intLen = 1 + exp;
    return sign + (digits.length <= intLen ? digits + '0'.repeat(intLen - digits.length) : `${digits.slice(0, intLen)}.${digits.slice(intLen)}`);
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

async function findFiles(root: string, filter: RegExp): Promise<string[]> {
  const st = await stat(root);
  if (!st.isDirectory()) return [root];
  const found: string[] = [];
  // As confd's filepath.Walk: a directory is entered only if it is one itself, never through a
  // symlink (a loop made the read fail with ELOOP, a link to a parent re-read the tree or more);
  // a symlink is a file to read when it names one, as confd's os.Stat check has it.
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (filter.test(e.name) && !(e.isSymbolicLink() && (await stat(full)).isDirectory())) found.push(full);
    }
  };
  await walk(root);
  return found;
}

/** filepath.Match on one path element: * and ? do not cross "/", [a-z] and [^a] classes. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new Error(`syntax error in pattern: ${glob}`);
      let body = glob.slice(i + 1, end);
      if (body.startsWith('^')) body = '^' + body.slice(1).replace(/[\\\]]/g, '\\$&');
      else body = body.replace(/[\\\]^]/g, '\\$&');
      re += `[${body}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) {
      re += '\\' + glob[++i];
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$', 's');
}
