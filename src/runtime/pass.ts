// One pass over the template resources: the keys every resource needs are fetched together,
// once, at one revision (fetchSnapshot), and each resource then renders from its own view of
// that snapshot (processResources). The onetime run is one pass; interval and watch loops run
// a pass whenever they decide to, reusing both functions.
import { basename } from 'node:path';
import type { Backend, Snapshot } from '../backends/types.js';
import { SnapshotStores, type StoreSource } from './views.js';
import type { TemplateResource } from '../resource/model.js';
import { checkKeyCount, ResourceError, type ProcessOptions, type ResourceStatus } from '../resource/model.js';
import { processResource } from '../resource/process.js';
import { processFanout } from '../resource/fanout.js';
import { processGroup } from '../resource/group.js';
import type { GroupInfo } from '../resource/model.js';
import { Logger, type LogFields, type LogLevel } from '../log.js';
import { covers, minimalCover } from '../keys/index.js';

export interface PassOptions extends ProcessOptions {
  /** Told every result (the long-running runtime's metrics and readiness, runtime/daemon.ts). */
  onPass?: (result: PassResult) => void;
}

export interface ResourceOutcome {
  readonly resource: TemplateResource;
  readonly status: ResourceStatus | 'failed';
  /** confd's message for a failure. */
  readonly error?: string;
  readonly stage?: ResourceError['stage'] | 'fetch';
}

export interface PassResult {
  readonly outcomes: ResourceOutcome[];
  readonly failed: ResourceOutcome[];
  /** The backend revision the pass rendered from (0 when the backend has none). */
  readonly revision: number;
}

/**
 * Every distinct key prefix the resources need, in byte order, without the ones another prefix
 * already covers ("/app/x" is read with "/app").
 */
export function prefixesOf(resources: readonly TemplateResource[]): string[] {
  return minimalCover(resources.flatMap((r) => r.keys));
}

/** Reads all the resources' keys in one request (one revision). */
export async function fetchSnapshot(backend: Backend, resources: readonly TemplateResource[]): Promise<Snapshot> {
  const prefixes = prefixesOf(resources);
  if (prefixes.length === 0) return { kvs: [], revision: 0 };
  return backend.getValues(prefixes);
}

/**
 * Processes each resource in order against the snapshot. A failing resource is logged (ERROR,
 * confd's text) and does not stop the others.
 *
 * A plain resource (no check or reload, not a fan-out or group member) touches nothing but its
 * own dest, so up to CONCURRENT consecutive plain ones are processed at once: one's file system
 * waits (stage file, fsync, rename, directory fsync) overlap another's rendering (-onetime with
 * 100 resources: ~20% less wall time). Their log lines are held back and written in resource
 * order, so the log reads as confd's sequential one; any other resource (and a second one for the
 * same dest) waits for all before it and holds up all after it, so commands see the files confd
 * would have written by then.
 */
export async function processResources(
  resources: readonly TemplateResource[],
  snapshot: PassSnapshot,
  opts: PassOptions,
  /** Watch mode passes the views the render took from the mirrors (runtime/watch.ts, views.ts). */
  stores: StoreSource = snapshotStores(snapshot, resources),
): Promise<PassResult> {
  const outcomes: ResourceOutcome[] = [];
  const groupsDone = new Set<GroupInfo>();
  // base: basename(dest), once per resource (mayShareDest compares base names).
  const inFlight: Array<{ base: string; log: HeldLog; done: Promise<ResourceOutcome> }> = [];
  const finishOldest = async () => {
    const oldest = inFlight.shift()!;
    const outcome = await oldest.done;
    oldest.log.release();
    outcomes.push(outcome);
  };
  for (const resource of resources) {
    // -onetime told to stop: the resources not reached yet are left as they are (onetime.ts reports it).
    if (opts.stopping?.aborted) break;
    if (isPlain(resource, opts)) {
      const base = basename(resource.dest);
      if (inFlight.some((f) => f.base === base)) while (inFlight.length > 0) await finishOldest();
      if (inFlight.length >= CONCURRENT) await finishOldest();
      const log = new HeldLog(opts.log);
      inFlight.push({ base, log, done: processOne(resource, stores, { ...opts, log }, snapshot) });
      continue;
    }
    while (inFlight.length > 0) await finishOldest();
    // tsconfd extension: a commit group is processed whole, once per pass (group.ts).
    const group = resource.ext?.group;
    if (group) {
      if (!groupsDone.has(group)) {
        const log = opts.log.with(revisionField(snapshot.revision, { group: group.name }));
        outcomes.push(...(await processGroup(group, (r) => stores.storeFor(r.prefix, r.keys), { ...opts, log })));
      }
      groupsDone.add(group);
      continue;
    }
    outcomes.push(await processOne(resource, stores, opts, snapshot));
  }
  while (inFlight.length > 0) await finishOldest();
  const result = { outcomes, failed: outcomes.filter((o) => o.status === 'failed'), revision: snapshot.revision };
  opts.onPass?.(result);
  return result;
}

const CONCURRENT = 8;

/**
 * What a pass renders from. Watch mode renders from the mirrors' views (runtime/views.ts) and passes
 * only the revision: copying and merging the keys of a resource's prefixes cost more than its render
 * (0.4 ms of a 3.5 ms update at 12k keys, 10 resources of 100 prefixes each).
 */
export type PassSnapshot = Omit<Snapshot, 'kvs'> & { readonly kvs?: Snapshot['kvs'] };

function snapshotStores(snapshot: PassSnapshot, resources: readonly TemplateResource[]): StoreSource {
  if (!snapshot.kvs) throw new Error('processResources: a snapshot without its keys needs the stores to render from');
  // The pass asks one store per resource (a group's members are resources of the list): each is
  // dropped after its last use, so it dies young.
  return new SnapshotStores(snapshot.kvs, { uses: resources });
}

/**
 * Whether two dests may be one file. One file has many spellings (`/out/./a.conf`, a symlinked
 * directory), not many base names (a hard link aside): dests with the same base name are kept in
 * resource order, so the last resource wins as in confd, at no file system cost.
 */
export function mayShareDest(a: string, b: string): boolean {
  return basename(a) === basename(b);
}

function isPlain(resource: TemplateResource, opts: PassOptions): boolean {
  // -noop prints diffs to stdout, which must not interleave.
  if (opts.noop) return false;
  if (resource.checkCmd !== '' || resource.reloadCmd !== '' || resource.reloadAction !== '') return false;
  return resource.ext?.range === undefined && resource.ext?.group === undefined;
}

/** -log-format json: every line about a resource names it, its dest and the revision it renders. */
function revisionField(revision: number, fields: LogFields): LogFields {
  return revision > 0 ? { ...fields, revision } : fields;
}

async function processOne(resource: TemplateResource, stores: StoreSource, passOpts: PassOptions, snapshot: PassSnapshot): Promise<ResourceOutcome> {
  const opts = { ...passOpts, log: passOpts.log.with(revisionField(snapshot.revision, { resource: resource.file, dest: resource.dest })) };
  const unreadable = unreadableKey(resource, snapshot);
  if (unreadable !== undefined) {
    opts.log.error(unreadable);
    return { resource, status: 'failed', error: unreadable, stage: 'fetch' };
  }
  try {
    const store = stores.storeFor(resource.prefix, resource.keys);
    checkKeyCount(resource, store);
    // tsconfd extension: a fan-out resource (range = ...) writes one file per key.
    const status = resource.ext?.range !== undefined ? await processFanout(resource, store, opts) : await processResource(resource, store, opts);
    return { resource, status };
  } catch (e) {
    const error = (e as Error).message;
    opts.log.error(error);
    return { resource, status: 'failed', error, stage: e instanceof ResourceError ? e.stage : 'render' };
  }
}

/** Why one of the resource's keys could not be read (it, or a prefix covering it, is unreadable). */
function unreadableKey(resource: TemplateResource, snapshot: PassSnapshot): string | undefined {
  if (!snapshot.unreadable) return undefined;
  for (const [prefix, error] of snapshot.unreadable) {
    if (resource.keys.some((k) => covers(prefix, k))) return error;
  }
  return undefined;
}

/** A resource's log lines, held until the resources before it have written theirs. */
class HeldLog extends Logger {
  private readonly lines: Array<[LogLevel, string, LogFields | undefined]> = [];
  constructor(private readonly target: Logger) {
    super({ level: target.level, format: target.format });
  }
  override enabled(level: LogLevel): boolean {
    return this.target.enabled(level);
  }
  override log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (this.target.enabled(level)) this.lines.push([level, msg, fields]);
  }
  release(): void {
    for (const [level, msg, fields] of this.lines) this.target.log(level, msg, fields);
    this.lines.length = 0;
  }
}

/** Marks every resource failed because the keys could not be read. */
export function fetchFailed(resources: readonly TemplateResource[], error: string): PassResult {
  const outcomes: ResourceOutcome[] = resources.map((resource) => ({ resource, status: 'failed', error, stage: 'fetch' }));
  return { outcomes, failed: outcomes, revision: 0 };
}

/** One line naming each failed resource and why. */
export function describeFailures(result: PassResult): string {
  const n = result.failed.length;
  const parts = result.failed.map((o) => `${o.resource.file} (dest ${o.resource.dest}): ${o.error}`);
  return `${n} of ${result.outcomes.length} template resource${result.outcomes.length === 1 ? '' : 's'} failed: ${parts.join('; ')}`;
}
