// Stage files a killed run left behind (kill -9, a power cut between the stage write and the rename):
// at start-up, before anything renders, files of exactly our stage-file pattern (atomic-write.ts:
// `.<dest name><digits>` beside the destination) that are older than this process are removed. Nothing
// else is touched: not a destination, not a name of any other shape, not a directory or a symlink, not
// a file written since this process started (another agent's write in flight).
import { lstatSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.js';
import { manifestPath } from './fanout.js';
import type { TemplateResource } from './model.js';

/** Removes our own stale stage files from the resources' destination directories; returns their paths. */
export function removeStaleStageFiles(resources: readonly TemplateResource[], startedAtMs: number, log: Logger): string[] {
  const namesByDir = new Map<string, Set<string>>();
  const dests = new Set<string>();
  const add = (path: string) => {
    dests.add(path);
    const dir = dirname(path);
    let names = namesByDir.get(dir);
    if (!names) namesByDir.set(dir, (names = new Set()));
    names.add(basename(path));
  };
  for (const r of resources) {
    if (r.dest === '') continue;
    if (r.ext?.range === undefined) {
      add(r.dest);
      continue;
    }
    // A fan-out's files are known by its manifest (a key's first write killed before the manifest knew it is missed).
    const manifest = manifestPath(r);
    add(manifest);
    for (const name of fanoutFiles(manifest)) add(join(dirname(r.dest), name));
  }
  const removed: string[] = [];
  for (const [dir, names] of namesByDir) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue; // a missing or unreadable directory holds nothing to clean; the render reports it
    }
    for (const entry of entries) {
      if (!entry.startsWith('.') || !isStageName(entry, names)) continue;
      const path = join(dir, entry);
      if (dests.has(path)) continue;
      try {
        const st = lstatSync(path);
        if (!st.isFile() || st.mtimeMs >= startedAtMs) continue;
        unlinkSync(path);
        removed.push(path);
        log.warning(`removed ${path}: a stage file left by an earlier run (last written ${new Date(st.mtimeMs).toISOString()})`);
      } catch (e) {
        log.warning(`could not remove the stale stage file ${path}: ${(e as Error).message}`);
      }
    }
  }
  return removed;
}

/** `.<name><digits>` for one of the names (stagePathFor: a random uint32 in decimal). */
function isStageName(entry: string, names: ReadonlySet<string>): boolean {
  if (!/\d$/.test(entry)) return false;
  // The name itself may end in digits (".app.conf2" + "123"): try every split between name and digits.
  const whole = entry.slice(1);
  for (let cut = whole.length - 1; cut >= whole.length - 10 && cut > 0; cut--) {
    if (!/^\d+$/.test(whole.slice(cut))) break;
    if (names.has(whole.slice(0, cut))) return true;
  }
  return false;
}

function fanoutFiles(manifest: string): string[] {
  try {
    const doc = JSON.parse(readFileSync(manifest, 'utf8')) as { files?: unknown };
    if (typeof doc.files !== 'object' || doc.files === null) return [];
    return Object.keys(doc.files).filter((n) => n !== '' && !n.includes('/') && n !== '.' && n !== '..');
  } catch {
    return [];
  }
}
