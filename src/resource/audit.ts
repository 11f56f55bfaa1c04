// -log-diff: every real change to a destination is logged (INFO) as a unified diff; -noop prints
// the diff of every change it would make. Values of secret keys reach neither: a key is secret when its name contains "password", "secret"
// or "token" (any case), or when it matches one of the resource's `secret_keys` (path.Match
// patterns as the template sees keys; a pattern without meta characters covers its subtree).
//
// No line that came from a secret value is shown, on either side, however many lines the value
// has (a PEM key):
//   - the new side is the template rendered a second time with every secret value replaced by
//     <redacted> (a fan-out file's own KVPair too), so a multi-line secret is one masked line;
//   - the old side was rendered from values we may no longer know (a rotated key), so each of
//     its lines is shown only when it is known to be free of secrets: a line of the new render
//     that holds no secret, or a line that fits the shape of a template line fed by non-secret
//     values only (`host={{getv "/db/host"}}` fits `host=h1`). A line that fits a secret line's
//     shape (`ssl_key = <redacted>`) is masked the same way and the lines after it, up to the
//     next known line, are dropped with it (the rest of an old multi-line secret); any other
//     line is <redacted>. Should some secret line of the new render have no counterpart in the
//     old file, only known lines are shown: where the old secret was cannot be told.
//   - as a second layer, any remaining occurrence of a current secret value (3 characters or
//     more) is replaced on both sides.
import { readFile } from 'node:fs/promises';
import { covers } from '../keys/index.js';
import { match } from '../keys/gopath.js';
import { KeyStore, KVPair } from '../template/confd/store.js';
import { unifiedDiff } from './diff.js';
import { goQuote } from './errors.js';
import type { TemplateResource } from './model.js';
import { compileTemplate, readTemplate } from './render.js';
import { readIncluded, templatesDirOf } from './include.js';
import type { Logger } from '../log.js';
import { decodeBytes } from '../bytes.js';

export const REDACTED = '<redacted>';
const SECRET_NAME = /password|secret|token/i;
const META = /[*?[\\]/;

export interface AuditOptions {
  logDiff?: boolean;
  log: Logger;
}

export function isSecretKey(key: string, patterns: readonly string[]): boolean {
  if (SECRET_NAME.test(key)) return true;
  for (const p of patterns) {
    if (META.test(p)) {
      try {
        if (match(p, key)) return true;
      } catch {
        // A bad pattern matches nothing; load does not validate patterns.
      }
    } else if (covers(p, key)) return true;
  }
  return false;
}

/**
 * The secret values of the store, longest first (so a value inside another is replaced last), with the
 * ones its changes replaced or deleted (-watch): an old file may still hold those.
 */
export function secretValues(store: KeyStore, patterns: readonly string[]): string[] {
  const out = new Set<string>();
  for (const [k, v] of store.entries()) if (v !== '' && isSecretKey(k, patterns)) out.add(v);
  for (const [k, v] of store.replacedValues) if (v !== '' && isSecretKey(k, patterns)) out.add(v);
  return [...out].sort((a, b) => b.length - a.length);
}

/** What stands for a secret value: <redacted>, and the value's last newline, so the lines after it stay as they are. */
function standIn(v: string): string {
  return v.endsWith('\n') ? REDACTED + '\n' : REDACTED;
}

function replaceValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (v.length >= 3) out = out.split(v).join(standIn(v));
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Stand-ins for values in the shape render: which line came from which kind of value. */
const SECRET_HOLE = '\u0000s\u0000';
const VALUE_HOLE = '\u0000v\u0000';

/**
 * The resource rendered with its store's values replaced by value(key, v), its fan-out KVPair too;
 * undefined when the template fails on them.
 */
async function renderWith(resource: TemplateResource, store: KeyStore, value: (key: string, v: string) => string): Promise<string | undefined> {
  const masked = new KeyStore([...store.entries()].map(([k, v]) => [k, value(k, v)] as const));
  const dot = resource.ext?.dot;
  const r = dot instanceof KVPair ? { ...resource, ext: { ...resource.ext!, dot: new KVPair(dot.Key, value(dot.Key, dot.Value)) } } : resource;
  try {
    const compiled = await compileTemplate(r, await readTemplate(r), masked);
    return compiled.execute();
  } catch {
    return undefined;
  }
}

/** The two renders the redaction compares a file with (see the header). */
interface Reference {
  /** Secret values as <redacted>, the others as they are; undefined when the template fails on it. */
  masked: string | undefined;
  /** Every value as a hole (SECRET_HOLE or VALUE_HOLE). */
  shapes: string | undefined;
}

async function reference(resource: TemplateResource, store: KeyStore, patterns: readonly string[]): Promise<Reference> {
  const secret = (k: string, v: string) => v !== '' && isSecretKey(k, patterns);
  return {
    masked: await renderWith(resource, store, (k, v) => (secret(k, v) ? standIn(v) : v)),
    shapes: await renderWith(resource, store, (k, v) => (secret(k, v) ? SECRET_HOLE : v === '' ? '' : VALUE_HOLE)),
  };
}

/** A line pattern: literal text, each hole any run of characters. */
function lineShape(line: string, hole: RegExp): RegExp {
  return new RegExp('^' + line.split(hole).map(escapeRegExp).join('[\\s\\S]*?') + '$');
}

interface SecretShape {
  /** The masked line shown for it: `ssl_key = <redacted>`. */
  line: string;
  /** Matches the old line a secret starts on; undefined when the line has no literal text to match. */
  re: RegExp | undefined;
  /** The reference lines around it: a line-filling secret starts after `prev`; the secret's lines run to `next`. */
  prev: string | undefined;
  next: string | undefined;
}

/**
 * The old side of a diff with every line that may hold a secret masked (see the header). `ref`
 * describes the file as the template renders it now.
 */
function maskOld(oldText: string, values: readonly string[], ref: Reference): string {
  const refLines = (ref.masked ?? '').split('\n');
  const isKnown = (l: string) => !l.includes(REDACTED) && !l.includes('\u0000');
  const known = new Set(refLines.filter(isKnown));
  const HOLE = /<redacted>|\u0000v\u0000/;
  const shapes: SecretShape[] = [];
  refLines.forEach((line, i) => {
    if (!line.includes(REDACTED)) return;
    const literal = line.split(HOLE).join('').trim() !== '';
    shapes.push({
      line: line.replace(/\u0000v\u0000/g, REDACTED),
      re: literal ? lineShape(line, HOLE) : undefined,
      prev: i === 0 ? undefined : refLines[i - 1],
      next: refLines[i + 1],
    });
  });
  // Shapes of lines fed by non-secret values only, with some literal text to recognise them by.
  const valueShapes = (ref.shapes ?? '')
    .split('\n')
    .filter((l) => l.includes(VALUE_HOLE) && !l.includes(SECRET_HOLE) && l.split(VALUE_HOLE).join('').replace(/\s/g, '').length >= 2)
    .map((l) => lineShape(l, /\u0000v\u0000/));
  const lines = replaceValues(oldText, values).split('\n');
  const anchored = (s: SecretShape) => s.re === undefined;
  const located =
    ref.masked !== undefined &&
    shapes.every((s) => (anchored(s) ? s.prev === undefined || (known.has(s.prev) && lines.includes(s.prev)) : lines.some((l) => s.re!.test(l))));
  const out: string[] = [];
  /** The secret whose remaining lines are being dropped. */
  let inside: SecretShape | undefined;
  const enter = (s: SecretShape | undefined) => {
    if (!s) return;
    out.push(s.line);
    inside = s;
  };
  enter(shapes.find((s) => anchored(s) && s.prev === undefined));
  for (const line of lines) {
    if (line.includes(REDACTED)) {
      out.push(line);
      inside = undefined;
      continue;
    }
    if (inside) {
      // The rest of an old multi-line secret is dropped with the line that masks it, up to
      // the line that follows it in the template, or any other known line that is not blank.
      if (line !== inside.next && !(known.has(line) && line.trim() !== '')) continue;
      inside = undefined;
    }
    const shape = known.has(line) ? undefined : shapes.find((s) => s.re?.test(line));
    if (known.has(line)) {
      out.push(line);
      enter(shapes.find((s) => anchored(s) && s.prev === line));
    } else if (shape) {
      enter(shape);
    } else if (located && valueShapes.some((re) => re.test(line)) && !SECRET_NAME.test(line)) {
      // (A line naming a password, secret or token may be a deleted secret key's, `password: "..."`
      // from a range over keys, which fits a value line's shape: it is masked, as in logRemoval.)
      out.push(line);
    } else {
      out.push(REDACTED);
    }
  }
  return out.join('\n');
}

/**
 * Whether the old file may hold a secret though the store has none now (a secret key deleted, a
 * template reading it with a default): secret_keys are set, or a key, the template or a template it
 * includes names a password, secret or token. (redactedDiff also asks whether the old file names one.)
 */
async function mayHoldSecrets(resource: TemplateResource, patterns: readonly string[]): Promise<boolean> {
  if (patterns.length > 0 || resource.keys.some((k) => SECRET_NAME.test(k))) return true;
  const dot = resource.ext?.dot;
  if (dot instanceof KVPair && SECRET_NAME.test(dot.Key)) return true;
  try {
    // The template and the templates it includes (names are string literals, include.ts), transitively.
    const dir = templatesDirOf(resource);
    const seen = new Set<string>();
    const texts = [await readTemplate(resource)];
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!;
      if (SECRET_NAME.test(text)) return true;
      for (const m of text.matchAll(INCLUDED_NAME)) {
        const name = m[1] !== undefined ? JSON.parse(m[1]) as string : (m[2] ?? m[3])!;
        if (seen.has(name)) continue;
        seen.add(name);
        texts.push(readIncluded(dir, name));
      }
    }
    return false;
  } catch {
    return true;
  }
}

/** `include "x.tmpl"`, include with a raw string, and a Handlebars partial `{{> x.hbs}}`. */
const INCLUDED_NAME = /\binclude\s+(?:("(?:[^"\\\n]|\\.)*")|`([^`]*)`)|\{\{~?#?>\s*([^\s}~]+)/g;

/**
 * An error text or a command's output with the store's secret values replaced by <redacted>: whole, and
 * each line of a multi-line one, as they are and as Go's %q writes them (`parsing "hunter2": invalid
 * syntax`, a check_cmd's quoted output). A template error quoting a secret keeps its location and cause.
 */
export function redactSecrets(text: string, resource: TemplateResource, store: KeyStore): string {
  const values = secretValues(store, resource.ext?.secretKeys ?? []);
  if (values.length === 0) return text;
  const pieces = new Set<string>();
  for (const v of values) {
    for (const p of [v, ...v.split('\n')]) {
      if (p.trim().length < 3) continue;
      pieces.add(p);
      pieces.add(goQuote(p).slice(1, -1));
    }
  }
  let out = text;
  for (const p of [...pieces].sort((a, b) => b.length - a.length)) out = out.split(p).join(REDACTED);
  return out;
}

/**
 * The diff to log for oldText → newText (rendered from store), secrets redacted. "" when
 * nothing but redacted values changed.
 */
export async function redactedDiff(
  resource: TemplateResource,
  store: KeyStore,
  oldText: string,
  newText: string,
  newLabel: string = resource.dest,
): Promise<string> {
  const patterns = resource.ext?.secretKeys ?? [];
  const values = secretValues(store, patterns);
  if (values.length === 0 && !SECRET_NAME.test(oldText) && !(await mayHoldSecrets(resource, patterns))) return unifiedDiff(oldText, newText, resource.dest, newLabel);
  const ref = await reference(resource, store, patterns);
  const maskedNew = ref.masked ?? newText;
  const maskedOld = oldText === '' ? '' : maskOld(oldText, values, ref);
  return unifiedDiff(maskedOld, replaceValues(maskedNew, values), resource.dest, newLabel);
}

/**
 * -noop's diff for oldText → newText (rendered from store), its secrets redacted as -log-diff's;
 * when only redacted values changed, the file names and a note. "" when the text is the same.
 */
export async function noopDiff(resource: TemplateResource, store: KeyStore, oldText: string, newText: string): Promise<string> {
  const diff = await redactedDiff(resource, store, oldText, newText, `${resource.dest} (new)`);
  if (diff !== '' || oldText === newText) return diff;
  return `--- ${resource.dest}
+++ ${resource.dest} (new): redacted values only changed
`;
}

/** Logs the change just committed to resource.dest (with -log-diff). */
export async function logChange(
  resource: TemplateResource,
  store: KeyStore,
  oldContent: Buffer | undefined,
  newContent: Buffer,
  opts: AuditOptions,
): Promise<void> {
  if (!opts.logDiff) return;
  try {
    const diff = await redactedDiff(resource, store, oldContent ? decodeBytes(oldContent) : '', decodeBytes(newContent));
    if (diff === '') {
      const what = oldContent && oldContent.equals(newContent) ? 'mode or owner' : 'redacted values only';
      opts.log.info(`-log-diff ${resource.dest}: ${what} changed`);
    } else {
      opts.log.info(`-log-diff ${resource.dest}${oldContent ? '' : ' (new file)'}:\n${diff.trimEnd()}`);
    }
  } catch (e) {
    opts.log.warning(`-log-diff ${resource.dest}: cannot compute the diff: ${(e as Error).message}`);
  }
}

/**
 * Logs the removal of a fan-out file about to be deleted, rendered for `key`, which is gone: its
 * lines are masked as the old side of a change (maskOld) against the template rendered for that
 * key with its value unknown; besides, every line naming a password, secret or token is masked.
 */
export async function logRemoval(resource: TemplateResource, store: KeyStore, path: string, key: string, opts: AuditOptions): Promise<void> {
  if (!opts.logDiff) return;
  let old: string;
  try {
    old = await readFile(path, 'utf8');
  } catch {
    return;
  }
  const patterns = resource.ext?.secretKeys ?? [];
  const gone: TemplateResource = { ...resource, ext: { ...resource.ext!, dot: new KVPair(key, isSecretKey(key, patterns) ? REDACTED : VALUE_HOLE) } };
  const secret = (k: string, v: string) => v !== '' && isSecretKey(k, patterns);
  const ref: Reference = {
    masked: await renderWith(gone, store, (k, v) => (secret(k, v) ? standIn(v) : v)),
    shapes: await renderWith(gone, store, (k, v) => (secret(k, v) ? SECRET_HOLE : v === '' ? '' : VALUE_HOLE)),
  };
  const masked = maskOld(old, secretValues(store, patterns), ref)
    .split('\n')
    .map((line) => (SECRET_NAME.test(line) ? REDACTED : line))
    .join('\n');
  const diff = unifiedDiff(masked, '', path, '/dev/null');
  opts.log.info(`-log-diff ${path} (removed):\n${diff.trimEnd()}`);
}
