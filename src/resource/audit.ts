// -log-diff: every real change to a destination is logged (INFO) as a unified diff; -noop prints
// the diff of every change it would make. Values of secret keys reach neither: a key is secret when its name contains "password", "secret"
// or "token" (any case), or when it matches one of the resource's `secret_keys` (path.Match
// patterns as the template sees keys; a pattern without meta characters covers its subtree).
//
// Redaction works on lines: the template is rendered a second time with every secret value
// replaced by <redacted>; the lines that differ between the two renders are the secret lines,
// and the masked lines stand in for them. An old line that fits a masked line's shape (the
// same text around <redacted>) is masked the same way, so a changed password shows as
// `password = <redacted>` on both sides. As a second layer, any remaining occurrence of a
// secret value (3 characters or more) is replaced.
import { readFile } from 'node:fs/promises';
import { covers } from '../backends/keys.js';
import { match } from '../template/confd/gopath.js';
import { KeyStore } from '../template/confd/store.js';
import { unifiedDiff } from './diff.js';
import type { TemplateResource } from './load.js';
import { compileTemplate, readTemplate } from './render.js';
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

/** The secret values of the store, longest first (so a value inside another is replaced last). */
export function secretValues(store: KeyStore, patterns: readonly string[]): string[] {
  const out = new Set<string>();
  for (const [k, v] of store.entries()) if (v !== '' && isSecretKey(k, patterns)) out.add(v);
  return [...out].sort((a, b) => b.length - a.length);
}

function replaceValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (v.length >= 3) out = out.split(v).join(REDACTED);
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Renders the resource with secret values masked; undefined when the template fails on them. */
async function maskedRender(resource: TemplateResource, store: KeyStore, patterns: readonly string[]): Promise<string | undefined> {
  const masked = new KeyStore([...store.entries()].map(([k, v]) => [k, v !== '' && isSecretKey(k, patterns) ? REDACTED : v] as const));
  try {
    const compiled = await compileTemplate(resource, await readTemplate(resource), masked);
    return compiled.execute();
  } catch {
    return undefined;
  }
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
  if (values.length === 0) return unifiedDiff(oldText, newText, resource.dest, newLabel);
  let maskedNew = newText;
  let maskedOld = oldText;
  const masked = await maskedRender(resource, store, patterns);
  if (masked !== undefined) {
    const real = newText.split('\n');
    const mask = masked.split('\n');
    if (real.length === mask.length) {
      const shapes: Array<{ re: RegExp; line: string }> = [];
      for (let i = 0; i < real.length; i++) {
        if (real[i] === mask[i]) continue;
        const re = new RegExp('^' + mask[i]!.split(REDACTED).map(escapeRegExp).join('[\\s\\S]*?') + '$');
        shapes.push({ re, line: mask[i]! });
      }
      maskedNew = mask.join('\n');
      maskedOld = oldText
        .split('\n')
        .map((line) => shapes.find((s) => s.re.test(line))?.line ?? line)
        .join('\n');
    }
  }
  return unifiedDiff(replaceValues(maskedOld, values), replaceValues(maskedNew, values), resource.dest, newLabel);
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
 * Logs the removal of a fan-out file about to be deleted. Its key is gone, so its secrets may
 * be unknown to the store: besides the store's secret values, every line naming a password,
 * secret or token is masked whole.
 */
export async function logRemoval(resource: TemplateResource, store: KeyStore, path: string, opts: AuditOptions): Promise<void> {
  if (!opts.logDiff) return;
  let old: string;
  try {
    old = await readFile(path, 'utf8');
  } catch {
    return;
  }
  const values = secretValues(store, resource.ext?.secretKeys ?? []);
  const masked = replaceValues(old, values)
    .split('\n')
    .map((line) => (SECRET_NAME.test(line) ? REDACTED : line))
    .join('\n');
  const diff = unifiedDiff(masked, '', path, '/dev/null');
  opts.log.info(`-log-diff ${path} (removed):\n${diff.trimEnd()}`);
}
