// Stage files a killed run left behind (kill -9, a power cut between the stage write and the rename):
// at start-up, before anything renders, files of exactly our stage-file pattern (atomic-write.ts:
// `.<dest name><digits>` beside the destination) that are older than this process are removed. Nothing
// else is touched: not a destination, not a name of any other shape, not a directory or a symlink, not
// a file written since this process started (another agent's write in flight).
import { lstatSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  const removed: string[] = removeStaleGroupStaging(resources, startedAtMs, log);
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

/**
 * The staging tree of a commit group (group.ts) is `$TMPDIR/tsconfd-group-<name>-<pid>-XXXXXX`: the pid
 * says whose it is, so one left by a killed agent can be told from one another agent is checking now.
 */
export function groupStagingPrefix(groupName: string, pid = process.pid): string {
  return `tsconfd-group-${groupName.replace(/[^A-Za-z0-9_.-]/g, '_')}-${pid}-`;
}

/**
 * Staging trees of this confdir's commit groups that a killed run left in $TMPDIR: named for one of
 * these groups, made by a process that is gone, ours (same uid), a real directory, older than this
 * process. Anything else is left alone (a pid reused since is the safe side: the tree stays).
 */
function removeStaleGroupStaging(resources: readonly TemplateResource[], startedAtMs: number, log: Logger): string[] {
  const prefixes = new Set<string>();
  for (const r of resources) {
    const name = r.ext?.group?.name;
    if (name !== undefined) prefixes.add(groupStagingPrefix(name, 0).slice(0, -'0-'.length));
  }
  if (prefixes.size === 0) return [];
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const m = /^(.*-)(\d+)-[A-Za-z0-9]{6}$/.exec(entry);
    if (!m || !prefixes.has(m[1]!) || isAlive(Number(m[2]))) continue;
    const path = join(tmpdir(), entry);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || st.mtimeMs >= startedAtMs || (process.getuid !== undefined && st.uid !== process.getuid())) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
      log.warning(`removed ${path}: a commit group's staging tree left by an earlier run (pid ${m[2]}, gone)`);
    } catch (e) {
      log.warning(`could not remove the stale staging tree ${path}: ${(e as Error).message}`);
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, as another user's.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
