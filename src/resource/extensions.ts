// tsconfd's own resource keys, beyond confd's (all opt-in; a confd resource has none of them):
//   range = "/sites/*"         fan-out: one file per matching key (see fanout.ts); dest is a template
//   discover_keys = true       fetch the keys the template names (see discover-keys.ts)
//   commit_group = "nginx"     stage, check and commit with the other members (see group.ts);
//                              not `group`, which already names the file's owning group
//   group_check_cmd = "..."    the group's check, {{.root}} = the staging root
//   secret_keys = ["/db/*"]    values redacted in -log-diff and -noop output (see audit.ts)
//   left_delimiter = "[["      the Go template's action delimiters (and a fan-out dest's), for
//   right_delimiter = "]]"     files that themselves contain {{ (Helm charts, alert templates)
// load.ts hands each resource and its [template] table here once confd's own fields are read.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { join as goJoin } from '../keys/gopath.js';
import { discoverKeys, literalDir } from './discover-keys.js';
import { templatesDirOf } from './include.js';
import type { GroupInfo, TemplateResource } from './model.js';

/** The action delimiters of a resource's Go template (and of a fan-out's dest), as parse() takes them. */
export function templateDelims(resource: TemplateResource): [string, string] | undefined {
  const d = resource.ext?.delims;
  return d === undefined ? undefined : [d[0], d[1]];
}

type Table = Record<string, unknown>;
type Fail = (detail: string) => never;

function lookup(t: Table, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(t, name)) return t[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(t)) if (k.toLowerCase() === lower) return t[k];
  return undefined;
}

/** The [template] keys extendResource reads (the loader warns about keys that are neither confd's nor these). */
/** The [template] keys extendResource reads (load.ts warns about any other key it does not read itself). */
export const EXTENSION_KEYS = ['range', 'discover_keys', 'commit_group', 'group_check_cmd', 'secret_keys', 'left_delimiter', 'right_delimiter'] as const;

/**
 * Reads the extension keys of one [template] table and returns the resource with `ext` set and
 * its keys completed (fan-out range directory, discovered keys). fail() raises a load error.
 */
export function extendResource(resource: TemplateResource, table: Table, fail: Fail): TemplateResource {
  const get = <T>(name: (typeof EXTENSION_KEYS)[number], want: string, ok: (v: unknown) => v is T): T | undefined => {
    const v = lookup(table, name);
    if (v === undefined) return undefined;
    if (!ok(v)) return fail(`template.${name} must be ${want}`);
    return v;
  };
  const isString = (v: unknown): v is string => typeof v === 'string';
  const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
  const range = get('range', 'a string (a key pattern such as "/sites/*")', isString);
  const discover = get('discover_keys', 'a boolean', isBool) ?? false;
  const groupName = get('commit_group', 'a string', isString);
  const groupCheckCmd = get('group_check_cmd', 'a string', isString);
  const secretKeys = get('secret_keys', 'an array of strings', isStrings) ?? [];
  const leftDelim = get('left_delimiter', 'a string', isString) ?? '';
  const rightDelim = get('right_delimiter', 'a string', isString) ?? '';
  const delims: [string, string] | undefined = leftDelim === '' && rightDelim === '' ? undefined : [leftDelim, rightDelim];

  const none =
    range === undefined && !discover && groupName === undefined && groupCheckCmd === undefined && secretKeys.length === 0 && delims === undefined;
  if (none) return resource;

  if (delims !== undefined && resource.engine !== 'go') fail('template.left_delimiter/right_delimiter work with Go templates only');

  if (groupCheckCmd !== undefined && groupName === undefined) fail('template.group_check_cmd needs template.commit_group');

  let keys = [...resource.keys];
  if (range !== undefined) {
    if (!range.startsWith('/')) fail(`template.range must start with "/": ${JSON.stringify(range)}`);
    if (resource.engine !== 'go') fail('template.range (fan-out) works with Go templates only');
    // The dest is a template with the resource's own delimiters: one pair for everything the resource renders.
    const left = delims?.[0] || '{{';
    const right = delims?.[1] || '}}';
    if (dirname(resource.dest).includes(left)) {
      fail(`template.dest: with range, only the file name may be templated (all files live in one directory): ${resource.dest}`);
    }
    if (!resource.dest.includes(left)) {
      fail(`template.dest must be a template (e.g. "/etc/app/${left}base .Key${right}.conf") when template.range is set`);
    }
    keys.push(goJoin(resource.prefix, literalDir(range)));
  }
  if (discover) {
    let text: string;
    try {
      text = readFileSync(resource.src, 'utf8');
    } catch (e) {
      return fail(`discover_keys: cannot read the template: ${(e as Error).message}`);
    }
    try {
      for (const k of discoverKeys(resource.name, text, resource.engine, { delims, templatesDir: templatesDirOf(resource), file: resource.src })) {
        keys.push(goJoin(resource.prefix, k));
      }
    } catch (e) {
      return fail(`discover_keys: ${(e as Error).message}`);
    }
  }
  keys = [...new Set(keys)];
  const group: GroupInfo | undefined = groupName === undefined ? undefined : { name: groupName, checkCmd: groupCheckCmd ?? '', members: [] };
  return {
    ...resource,
    keys,
    ext: { range, discoverKeys: discover, group, secretKeys, ...(delims && { delims }) },
  };
}

/**
 * Joins the resources naming the same commit group into one GroupInfo. Throws (as a load
 * error, through fail) when members disagree on group_check_cmd or a member fans out.
 */
export function linkGroups(resources: readonly TemplateResource[], fail: (file: string, detail: string) => never): void {
  const groups = new Map<string, GroupInfo>();
  // Which member's group_check_cmd the group uses: a mismatch names that file, not the command (it may hold a token).
  const checkCmdFrom = new Map<string, string>();
  for (const r of resources) {
    const g = r.ext?.group;
    if (!g) continue;
    if (r.ext?.range !== undefined) fail(r.file, 'template.range cannot be combined with template.commit_group yet');
    const shared = groups.get(g.name);
    if (!shared) {
      groups.set(g.name, g);
      if (g.checkCmd !== '') checkCmdFrom.set(g.name, r.file);
      g.members.push(r);
      continue;
    }
    if (g.checkCmd !== '' && shared.checkCmd !== '' && g.checkCmd !== shared.checkCmd) {
      fail(r.file, `commit group "${g.name}": group_check_cmd differs from the one in ${checkCmdFrom.get(g.name)}`);
    }
    if (shared.checkCmd === '' && g.checkCmd !== '') {
      shared.checkCmd = g.checkCmd;
      checkCmdFrom.set(g.name, r.file);
    }
    shared.members.push(r);
    // Every member refers to the one shared object from now on.
    (r.ext as { group: GroupInfo }).group = shared;
  }
}
