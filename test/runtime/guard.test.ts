import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NeverBlankGuard } from '../../src/runtime/guard.js';
import type { TemplateResource } from '../../src/resource/model.js';
import { capturingLogger } from '../helpers/log.js';

function resource(dest: string, extra: Partial<TemplateResource> = {}): TemplateResource {
  return { dest, file: `conf.d/${dest}.toml`, keys: [`/${dest}`], prefix: '', minKeys: undefined, allowEmpty: false, ...extra } as TemplateResource;
}

test('a resource that had keys at its first pass is not rendered from none; rendering resumes when keys return', () => {
  const { log, lines } = capturingLogger('info');
  const guard = new NeverBlankGuard(log);
  const up = resource('up');
  const fresh = resource('fresh');
  const counts = new Map([[up, 2], [fresh, 0]]);
  assert.deepEqual(guard.filter([up, fresh], (r) => counts.get(r)!), [up, fresh]);
  counts.set(up, 0);
  assert.deepEqual(guard.filter([up, fresh], (r) => counts.get(r)!), [fresh], 'an empty prefix blanked a resource that had keys');
  assert.deepEqual([...guard.guarded], ['up']);
  guard.filter([up, fresh], (r) => counts.get(r)!);
  assert.equal(lines.filter((l) => l.includes('not rendered')).length, 1, 'warned once per outage');
  counts.set(up, 1);
  assert.deepEqual(guard.filter([up, fresh], (r) => counts.get(r)!), [up, fresh]);
  assert.deepEqual([...guard.guarded], []);
  assert.ok(lines.some((l) => l.includes('up: 1 keys again; rendering resumes')));
});

test('allow_empty and min_keys = 0 let it render empty; an explicit min_keys applies from the first pass', () => {
  const guard = new NeverBlankGuard(capturingLogger().log);
  const empty = resource('empty', { allowEmpty: true });
  const zero = resource('zero', { minKeys: 0 });
  const three = resource('three', { minKeys: 3 });
  guard.filter([empty, zero, three], () => 5);
  assert.deepEqual(guard.filter([empty, zero, three], () => 0), [empty, zero]);
  const strict = resource('strict', { minKeys: 3 });
  assert.deepEqual(guard.filter([strict], () => 2), []);
});

test('a commit group is held back whole when one member is guarded', () => {
  const guard = new NeverBlankGuard(capturingLogger().log);
  const group = { name: 'g', checkCmd: '', members: [] as TemplateResource[] };
  const a = resource('a', { ext: { group } } as Partial<TemplateResource>);
  const b = resource('b', { ext: { group } } as Partial<TemplateResource>);
  group.members.push(a, b);
  const other = resource('other');
  guard.filter([a, b, other], () => 1);
  assert.deepEqual(guard.filter([a, b, other], (r) => (r === a ? 0 : 1)), [other]);
});

test('a start-up count recorded before the first check sets the default min_keys (-watch: the mirrors first read)', () => {
  const guard = new NeverBlankGuard(capturingLogger().log);
  const hadKeys = resource('hadKeys');
  const hadNone = resource('hadNone');
  guard.recordStartup(hadKeys, 3);
  guard.recordStartup(hadNone, 0);
  assert.equal(guard.allows(hadKeys, 0), false, 'keys at start-up: min_keys 1');
  assert.equal(guard.allows(hadNone, 0), true);
  assert.deepEqual([...guard.guarded], ['hadKeys']);
});

test('max_shrink holds a render from a sharply shrunken key set (10 keys, then 1); without it the shrink renders', () => {
  const { log, lines } = capturingLogger('info');
  const guard = new NeverBlankGuard(log);
  const half = resource('half', { maxShrink: 0.5 });
  const plain = resource('plain');
  const counts = new Map([[half, 10], [plain, 10]]);
  const pass = () => guard.filter([half, plain], (r) => counts.get(r)!);
  assert.deepEqual(pass(), [half, plain]);
  counts.set(half, 1).set(plain, 1);
  assert.deepEqual(pass(), [plain], 'a shrink from 10 keys to 1 was rendered');
  assert.deepEqual([...guard.guarded], ['half']);
  assert.ok(lines.some((l) => l.includes('half: not rendered') && l.includes('down from 10') && l.includes('max_shrink 0.5')), lines.join('\n'));
  counts.set(half, 5);
  assert.deepEqual(pass(), [half, plain], 'half of the keys may go at once');
  // The baseline is the last allowed render: 5, then 3 is within half of it.
  counts.set(half, 3);
  assert.deepEqual(pass(), [half, plain]);
  counts.set(half, 1);
  assert.deepEqual(pass(), [plain]);
});

test('max_shrink: allow_empty still lets an empty set render; max_shrink = 0 holds any decrease; 1 holds none but the empty one', () => {
  const guard = new NeverBlankGuard(capturingLogger().log);
  const emptyOk = resource('emptyOk', { maxShrink: 0.5, allowEmpty: true });
  const none = resource('none', { maxShrink: 0 });
  const all = resource('all', { maxShrink: 1 });
  guard.filter([emptyOk, none, all], () => 4);
  assert.deepEqual(guard.filter([emptyOk, none, all], () => 0), [emptyOk]);
  assert.deepEqual(guard.filter([emptyOk, none, all], () => 3), [emptyOk, all]);
});
