// The destination as it is, and whether a render differs from it: confd's IsConfigChanged (uid,
// gid, mode or content), with its INFO lines when asked for. Reads, never writes.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '../log.js';
import type { FileAttrs } from './atomic-write.js';
import type { TemplateResource } from './model.js';
import { modeString } from './mode.js';

export interface DestState {
  readonly content: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The destination's content and attributes, or undefined when it does not exist.
 * Synchronous: a stat and a read of a local file cost microseconds, a thread-pool round trip of
 * each awaited call far more (-onetime, 100 resources: ~25 ms CPU; bench/onetime-profile.md).
 */
export function readDest(dest: string): DestState | undefined {
  try {
    const st = statSync(dest);
    const content = readFileSync(dest);
    return { content, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** confd: without `mode`, a new file gets 0644 whatever the umask, an existing one keeps its mode. */
export function targetAttrs(resource: TemplateResource, current: DestState | undefined): FileAttrs {
  return { mode: resource.mode ?? current?.mode ?? 0o644, uid: resource.uid, gid: resource.gid };
}

/** Where differs() writes confd's lines about what differs. */
export interface DiffReport {
  readonly dest: string;
  readonly log: Logger;
  /** Long-running modes: remember the render's md5 for the next one (see lastDigest). */
  readonly rememberDigest: boolean;
}

/** Whether the destination must be replaced by `rendered` with `attrs`; with a report, confd's INFO line for each difference. */
export function differs(current: DestState | undefined, rendered: Buffer, attrs: FileAttrs, report?: DiffReport): boolean {
  if (!current) return true;
  if (!report) return current.uid !== attrs.uid || current.gid !== attrs.gid || current.mode !== attrs.mode || !current.content.equals(rendered);
  const { dest, log } = report;
  let changed = false;
  if (current.uid !== attrs.uid) {
    log.info(`${dest} has UID ${current.uid} should be ${attrs.uid}`);
    changed = true;
  }
  if (current.gid !== attrs.gid) {
    log.info(`${dest} has GID ${current.gid} should be ${attrs.gid}`);
    changed = true;
  }
  if (current.mode !== attrs.mode) {
    log.info(`${dest} has mode ${modeString(current.mode)} should be ${modeString(attrs.mode)}`);
    changed = true;
  }
  if (!current.content.equals(rendered)) {
    // Two md5s of the whole file: only when the line is written.
    if (log.enabled('info')) {
      log.info(`${dest} has md5sum ${md5Of(dest, current.content, false)} should be ${md5Of(dest, rendered, report.rememberDigest)}`);
    }
    changed = true;
  }
  return changed;
}

/** -noop's line about attributes that would change, "" when only the content would. */
export function attrsNote(dest: string, current: DestState | undefined, attrs: FileAttrs): string {
  if (!current || (current.mode === attrs.mode && current.uid === attrs.uid && current.gid === attrs.gid)) return '';
  return `${dest}: mode ${octal(current.mode)} → ${octal(attrs.mode)}, owner ${current.uid}:${current.gid} → ${attrs.uid}:${attrs.gid}\n`;
}

function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

/**
 * The last content whose md5 was logged per destination: in watch mode the file on disk is
 * usually what we wrote last time, so its md5 (logged on every change) is not computed twice.
 */
const lastDigest = new Map<string, { content: Buffer; digest: string }>();

function md5Of(dest: string, content: Buffer, remember: boolean): string {
  const last = lastDigest.get(dest);
  if (last && last.content.equals(content)) return last.digest;
  const digest = createHash('md5').update(content).digest('hex');
  if (remember) lastDigest.set(dest, { content, digest });
  return digest;
}
