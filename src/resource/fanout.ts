// Fan-out resources (range = "/sites/*"): the template renders once per key matching the range,
// with that memkv.KVPair as dot, into the file its templated dest names; each file goes through
// the ordinary safe-write path (processResource). Files written for keys that are gone are
// removed, and only those: the resource records what it wrote in a manifest beside the files,
// `.tsconfd-manifest-<resource>.json`, written atomically (staged-file.ts). reload_cmd runs once
// per pass when any file changed or was removed, not once per file (check-and-reload.ts).
import { lstat, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parse } from '../template/go/index.js';
import { confdFuncMap } from '../template/confd/funcs.js';
import type { KeyStore, KVPair } from '../template/confd/store.js';
import { logRemoval, redactSecrets } from './audit.js';
import { reloadAfterCommit } from './check-and-reload.js';
import { requiredKeys, ResourceError, type ProcessOptions, type ResourceStatus, type TemplateResource } from './model.js';
import { templateDelims } from './extensions.js';
import { processResource } from './process.js';
import { replaceFile } from './staged-file.js';

interface Manifest {
  /** The resource file that owns these files. */
  resource: string;
  /** File base name → the key it was rendered for. */
  files: Record<string, string>;
}

export function manifestPath(resource: TemplateResource): string {
  return join(dirname(resource.dest), `.tsconfd-manifest-${basename(resource.file).replace(/\.toml$/, '')}.json`);
}

async function readManifest(path: string): Promise<Manifest> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    if (typeof doc.files !== 'object' || doc.files === null) throw new Error('no "files" object');
    // Only plain names in this directory are ever removed, whatever the file says.
    for (const [name, key] of Object.entries(doc.files)) {
      if (typeof key !== 'string' || name.includes('/') || name === '' || name === '.' || name === '..') {
        throw new Error(`bad entry ${JSON.stringify(name)}`);
      }
    }
    return doc;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { resource: '', files: {} };
    throw new ResourceError(`fan-out manifest ${path} is unreadable (${(e as Error).message}); fix or remove it`, 'write');
  }
}

async function writeManifest(path: string, m: Manifest): Promise<void> {
  const content = Buffer.from(JSON.stringify(m, null, 2) + '\n');
  await replaceFile(path, content, { mode: 0o644, uid: process.geteuid!(), gid: process.getegid!() }, { allowInPlace: false });
}

/**
 * What a fan-out file name may be: ASCII letters, digits and `. _ - @ + = , :`, starting with a
 * letter, digit or `_`, no `..`, at most 240 characters (its stage file `.<name><digits>` must fit
 * NAME_MAX). A key name is written by whoever can write to the backend; such a name is one plain
 * word to any shell (check_cmd's {{.src}}, even re-parsed by sh -c or eval), never an option, a
 * hidden or stage file, a manifest or a path. docs/extensions.md lists it for operators.
 */
const SAFE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@+=,:-]*$/;
const MAX_FILE_NAME = 240;

/** Why a fan-out file name is refused, or undefined when it is safe. */
export function unsafeFileName(name: string): string | undefined {
  if (name.length > MAX_FILE_NAME) return `is longer than ${MAX_FILE_NAME} characters`;
  if (!SAFE_FILE_NAME.test(name) || name.includes('..')) {
    return 'is not a safe file name (ASCII letters, digits and . _ - @ + = , : only, starting with a letter, digit or _, no ..)';
  }
  return undefined;
}

/** The file one key renders to; throws, naming the key, when the name is unsafe or leaves the resource's directory. */
function fanoutDest(resource: TemplateResource, destTemplate: { execute(d: unknown): string }, kv: KVPair): string {
  const dir = dirname(resource.dest);
  const rendered = destTemplate.execute(kv);
  const name = basename(rendered);
  if (dirname(rendered) !== dir || name === '' || name === '.' || name === '..') {
    throw new Error(`dest for key ${JSON.stringify(kv.Key)} renders to ${JSON.stringify(rendered)}, not a file in ${dir}; key refused`);
  }
  // ASCII only: also refuses names with bytes that are not UTF-8 (src/bytes.ts), which Node would
  // write as U+FFFD, so that "k\xff" and "k\xfe" would name one file.
  const why = unsafeFileName(name);
  if (why !== undefined) throw new Error(`dest for key ${JSON.stringify(kv.Key)} renders to file name ${JSON.stringify(name)}, which ${why}; key refused`);
  return rendered;
}

/** One key's file: where it goes and the resource that renders it, or why its dest is refused. */
export type FanoutFile = { kv: KVPair; dest: string; resource: TemplateResource } | { kv: KVPair; error: Error };

/**
 * A file per key matching the resource's range, in key order, each rendered with its key's KVPair
 * as dot. Throws when the range or the dest template is bad. The reload belongs to the whole
 * fan-out, not to each file: the files' resources have none.
 */
export function fanoutFiles(resource: TemplateResource, store: KeyStore): FanoutFile[] {
  const ext = resource.ext!;
  const matches = store.getAll(ext.range!);
  const destTemplate = parse(`${resource.name} dest`, resource.dest, { funcs: confdFuncMap(store), delims: templateDelims(resource) });
  return matches.map((kv): FanoutFile => {
    try {
      const dest = fanoutDest(resource, destTemplate, kv);
      return { kv, dest, resource: { ...resource, dest, reloadCmd: '', reloadAction: '', ext: { ...ext, dot: kv } } };
    } catch (e) {
      return { kv, error: e as Error };
    }
  });
}

/** Processes a fan-out resource against its store. Throws ResourceError naming every failed key. */
export async function processFanout(resource: TemplateResource, store: KeyStore, opts: ProcessOptions): Promise<ResourceStatus> {
  const { log } = opts;
  const ext = resource.ext!;
  const mPath = manifestPath(resource);
  let files: FanoutFile[];
  try {
    files = fanoutFiles(resource, store);
  } catch (e) {
    throw new ResourceError(`${resource.file}: ${(e as Error).message}`, 'template');
  }
  const old = await readManifest(mPath);
  // Nothing is lost: a range that suddenly matches no key at all (a mistyped -prefix, an emptied
  // prefix) would remove every file this resource wrote; its manifest shows the range had keys,
  // so, as -watch's default min_keys of 1, that takes allow_empty = true (or min_keys = 0).
  const owned = Object.keys(old.files);
  // (`!== 0`: a negative min_keys, which every other guard reads as no minimum, has kept this one.)
  if (files.length === 0 && owned.length > 0 && requiredKeys(resource, 1) !== 0) {
    throw new ResourceError(
      `${resource.file}: range ${ext.range} matches no key; keeping the ${owned.length} file(s) it wrote in ${dirname(resource.dest)} ` +
        `(set allow_empty = true or min_keys = 0 to let it remove them all)`,
      'min_keys',
    );
  }
  const next: Record<string, string> = {};
  /** File name → key, for every key this pass renders (written or not). */
  const claimed = new Map<string, string>();
  const errors: ResourceError[] = [];
  let changed = false;

  // Which keys get their file this pass; a file this resource did not write (not in its
  // manifest) is never taken over: overwriting it would also remove it once the key goes.
  const toRender: Array<{ kv: KVPair; dest: string; name: string; resource: TemplateResource }> = [];
  for (const file of files) {
    if ('error' in file) {
      errors.push(new ResourceError(`${resource.file}: ${redactSecrets(file.error.message, resource, store)}`, 'render'));
      continue;
    }
    const { kv, dest } = file;
    const name = basename(dest);
    if (claimed.has(name)) {
      errors.push(new ResourceError(`${resource.file}: keys ${printable(claimed.get(name)!)} and ${printable(kv.Key)} both render to ${dest}`, 'render'));
      continue;
    }
    claimed.set(name, kv.Key);
    if (old.files[name] === undefined && (await exists(dest))) {
      errors.push(
        new ResourceError(
          `${resource.file}: key ${JSON.stringify(kv.Key)} refused: ${dest} exists and was not written by this fan-out (not in ${mPath}); ` +
            `it is left untouched (remove or rename it to let the key have it)`,
          'write',
        ),
      );
      continue;
    }
    toRender.push({ kv, dest, name, resource: file.resource });
  }

  // A new file is claimed in the manifest before it is written, so a file this resource wrote is
  // always in its manifest, even when the manifest write after the pass fails.
  let recorded = old.files;
  const fresh = toRender.filter((f) => old.files[f.name] === undefined);
  if (!opts.noop && fresh.length > 0) {
    const claim = { ...old.files };
    for (const f of fresh) claim[f.name] = f.kv.Key;
    try {
      await writeManifest(mPath, { resource: resource.file, files: sortedRecord(claim) });
      recorded = claim;
    } catch (e) {
      errors.push(new ResourceError(`fan-out manifest ${mPath}: ${(e as Error).message}; new keys not written`, 'write'));
      for (const f of fresh) toRender.splice(toRender.indexOf(f), 1);
    }
  }

  for (const { kv, dest, name, resource: fileResource } of toRender) {
    try {
      const status = await processResource(fileResource, store, opts);
      if (status === 'updated') changed = true;
      // Only files this resource has written (or found in sync) are recorded as its own.
      if (status !== 'noop') next[name] = kv.Key;
    } catch (e) {
      const err = e instanceof ResourceError ? e : new ResourceError((e as Error).message, 'render');
      errors.push(new ResourceError(`${dest} (key ${printable(kv.Key)}): ${err.message}`, err.stage));
    }
  }

  // Files of keys that are gone; a key that is still there but failed keeps its old file.
  for (const [name, key] of Object.entries(old.files)) {
    if (next[name] !== undefined) continue;
    if (claimed.has(name)) {
      next[name] = key;
      continue;
    }
    const path = join(dirname(resource.dest), name);
    if (opts.noop) {
      log.warning(`Noop mode enabled. ${path} (key ${printable(key)} is gone) would be removed`);
      opts.writeDiff(`--- ${path}\n+++ /dev/null (key ${printable(key)} is gone)\n`);
      continue;
    }
    await logRemoval(resource, store, path, key, opts);
    try {
      await unlink(path);
      log.info(`Removed ${path}: key ${printable(key)} is gone`);
      changed = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        errors.push(new ResourceError(`cannot remove ${path}: ${(e as Error).message}`, 'write'));
        next[name] = key;
      }
    }
  }

  if (!opts.noop && !sameFiles(recorded, next)) {
    if (Object.keys(next).length > 0 || Object.keys(recorded).length > 0) {
      try {
        await writeManifest(mPath, { resource: resource.file, files: sortedRecord(next) });
      } catch (e) {
        errors.push(new ResourceError(`fan-out manifest ${mPath}: ${(e as Error).message}`, 'write'));
      }
    }
  }

  // One reload for the whole fan-out, not one per file: the files' resources have none.
  if (changed && !opts.noop) {
    await reloadAfterCommit([resource], opts).catch((e: ResourceError) => errors.push(e));
  }
  if (errors.length > 0) {
    throw new ResourceError(errors.map((e) => e.message).join('; '), errors[0]!.stage);
  }
  if (opts.noop) return 'noop';
  return changed ? 'updated' : 'unchanged';
}

/** A key name as a log shows it: as it is when plain, else quoted, so a newline in it cannot forge a log line. */
function printable(key: string): string {
  return /^[\x21-\x7e]*$/.test(key) ? key : JSON.stringify(key);
}

/** Whether anything (a file, a link, a directory) is at path. */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

function sameFiles(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}
