// The first half of a resource's life, shared by a single resource (process.ts), each member of a
// commit group (group.ts) and so each fan-out file: mode → destination read → template → render in
// memory → compare with the destination. Nothing is written and no command runs: a failure here
// leaves everything as it was. -noop's report of a candidate is here too.
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KeyStore } from '../template/confd/store.js';
import { decodeBytes, encodeString } from '../bytes.js';
import type { FileAttrs } from './atomic-write.js';
import { noopDiff, redactSecrets } from './audit.js';
import { attrsNote, differs, readDest, targetAttrs, type DestState } from './destination.js';
import { errnoText } from './errors.js';
import { ResourceError, type ProcessOptions, type TemplateResource } from './model.js';
import { compileTemplate, readTemplate } from './render.js';

/** A resource rendered in memory against its store, and how that compares with its destination. */
export interface Candidate {
  readonly resource: TemplateResource;
  /** The keys it rendered from (secrets in error texts and diffs are masked with it). */
  readonly store: KeyStore;
  /** The destination as it was read just before the render; undefined when there is none. */
  readonly current: DestState | undefined;
  /** The bytes the destination is to hold. */
  readonly rendered: Buffer;
  /** The mode and owner it is to have. */
  readonly attrs: FileAttrs;
  /** Whether content, mode or owner differ from the destination's. */
  readonly changed: boolean;
}

export interface CandidateOptions extends Pick<ProcessOptions, 'log' | 'maxOutputBytes'> {
  /** Log confd's INFO lines for each difference (a single resource does; a group says which members differ). */
  reportDifferences: boolean;
  /** Long-running modes (the md5 cache of destination.ts). */
  longRunning: boolean;
}

/**
 * Renders `resource` against `store` and compares the result with its destination. Throws
 * ResourceError (stage mode, write, template or render) with confd's text; a render error is
 * redacted, as Go's errors quote the value they choke on.
 */
export async function renderCandidate(resource: TemplateResource, store: KeyStore, opts: CandidateOptions): Promise<Candidate> {
  const { log } = opts;
  const dest = resource.dest;
  if (resource.modeError) throw new ResourceError(resource.modeError, 'mode');
  if (dest === '') throw new ResourceError(`${resource.file}: dest is empty`, 'write');

  let current: DestState | undefined;
  try {
    current = readDest(dest);
  } catch (e) {
    throw new ResourceError(`stat ${dest}: ${errnoText(e)}`, 'write');
  }
  const attrs = targetAttrs(resource, current);

  log.debug(`Using source template ${resource.src}`);
  let compiled;
  try {
    const text = await readTemplate(resource);
    log.debug(`Compiling source template ${resource.src}`);
    compiled = await compileTemplate(resource, text, store);
  } catch (e) {
    throw new ResourceError((e as Error).message, 'template');
  }

  // confd creates its stage file before executing, so a missing directory is reported first.
  // An existing dest proves its directory (the stat just before found it through that directory).
  if (!current) {
    const destDir = dirname(dest);
    try {
      const st = statSync(destDir);
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (e) {
      throw new ResourceError(`open ${join(destDir, '.' + basename(dest))}${fakeDigits()}: ${errnoText(e)}`, 'write');
    }
  }

  let rendered: Buffer;
  try {
    rendered = encodeString(compiled.execute({ maxOutputBytes: opts.maxOutputBytes }));
  } catch (e) {
    // Go's errors quote the value they choke on (`strconv.Atoi: parsing "..."`), a secret's too.
    throw new ResourceError(redactSecrets((e as Error).message, resource, store), 'render');
  }

  log.debug(`Comparing candidate config to ${dest}`);
  const report = opts.reportDifferences ? { dest, log, rememberDigest: opts.longRunning } : undefined;
  const changed = differs(current, rendered, attrs, report);
  return { resource, store, current, rendered, attrs, changed };
}

/** -noop: the diff of what a changed candidate would write (secrets redacted), with its mode and owner when they change. */
export async function writeNoopDiff(c: Candidate, opts: Pick<ProcessOptions, 'writeDiff'>): Promise<void> {
  const dest = c.resource.dest;
  const diff = await noopDiff(c.resource, c.store, c.current ? decodeBytes(c.current.content) : '', decodeBytes(c.rendered));
  opts.writeDiff(attrsNote(dest, c.current, c.attrs) + (diff === '' && !c.current ? `--- /dev/null\n+++ ${dest} (new, empty)\n` : diff));
}

/** The random digits of the stage file confd would have tried to create (only named in the error). */
function fakeDigits(): string {
  return String(Math.floor(Math.random() * 2 ** 32));
}
