// Never blank a config (issue 4), for -interval and -watch: a render from fewer keys than a
// resource's min_keys does not happen, and the good destination stays. min_keys defaults to 1 for
// a resource that had keys at start-up (-watch: its mirrors' first read; -interval: the first pass
// that saw it, at start-up or when a reload loaded it), so a prefix that suddenly answers empty (an
// outage, a mistaken delete, a keys file emptied by a non-atomic save) keeps the last good file;
// allow_empty = true (or min_keys = 0) lets it render. A sharply shrunken key set is held too when the
// resource says how sharp is too sharp: max_shrink = 0.5 holds a render from fewer than half the keys of
// the last render it allowed (10 keys, then 1). It is opt-in: a scale-down from 10 backends to 1 is often
// meant, and a guard on by default would keep a stale config after it.
import type { Logger } from '../log.js';
import { requiredKeys, type TemplateResource } from '../resource/model.js';

export class NeverBlankGuard {
  /** Keys each resource had when first seen: the start-up count its default min_keys comes from. */
  private readonly startupCounts = new WeakMap<TemplateResource, number>();
  /** Keys of the last render each resource was allowed: max_shrink's baseline. */
  private readonly lastCounts = new WeakMap<TemplateResource, number>();
  /** Destinations currently kept because their keys fell below min_keys or shrank more than max_shrink (for health). */
  readonly guarded = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** The keys `r` has at start-up, where its default min_keys comes from (else: the first count allows() sees). */
  recordStartup(r: TemplateResource, count: number): void {
    this.startupCounts.set(r, count);
  }

  /**
   * The resources that may render now, given how many keys each sees. A commit group renders
   * whole or not at all (tsconfd extension): one guarded member holds back all of them.
   */
  filter(resources: readonly TemplateResource[], keyCount: (r: TemplateResource) => number): TemplateResource[] {
    const held = new Set<TemplateResource>();
    for (const r of resources) {
      if (this.allows(r, keyCount(r))) continue;
      held.add(r);
      for (const m of r.ext?.group?.members ?? []) held.add(m);
    }
    return held.size === 0 ? [...resources] : resources.filter((r) => !held.has(r));
  }

  /** Whether `r` may render from `count` keys; warns once when it may not, and once when it may again. */
  allows(r: TemplateResource, count: number): boolean {
    if (!this.startupCounts.has(r)) this.startupCounts.set(r, count);
    const minKeys = requiredKeys(r, this.startupCounts.get(r)! > 0 ? 1 : 0);
    const baseline = this.lastCounts.get(r) ?? this.startupCounts.get(r)!;
    const shrunk = r.maxShrink !== undefined && count < baseline * (1 - r.maxShrink) && !(count === 0 && r.allowEmpty);
    if (count >= minKeys && !shrunk) {
      this.lastCounts.set(r, count);
      if (this.guarded.delete(r.dest)) this.log.info(`${r.dest}: ${count} keys again; rendering resumes`);
      return true;
    }
    if (!this.guarded.has(r.dest)) {
      this.guarded.add(r.dest);
      this.log.warning(
        count < minKeys
          ? `${r.dest}: not rendered: its keys (${r.keys.join(', ')}) now give ${count} key(s), fewer than min_keys ${minKeys}; keeping the current file (set allow_empty = true in ${r.file} to allow it)`
          : `${r.dest}: not rendered: its keys (${r.keys.join(', ')}) now give ${count} key(s), down from ${baseline}: more than max_shrink ${r.maxShrink} of them gone at once; keeping the current file (raise max_shrink in ${r.file}, or restart tsconfd, to accept it)`,
      );
    }
    return false;
  }
}
