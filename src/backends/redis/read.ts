// Reading one resource key from redis exactly as confd's backends/redis/client.go does:
//   TYPE k; a string is GET as the key itself; a hash is HSCANned, each field becoming key/field;
//   anything else (none, list, set...) is a SCAN MATCH k/* whose matches are each read with GET,
//   those that are not strings (a hash, a list) skipped. So a hash *under* a scanned key is not
//   read; only a hash named exactly by a key is.
// With -separator S (not "/"), key /a/b is stored as a<S>b and keys read back are mapped to /a/b.
import type { KeyValue } from '../types.js';
import { stripWildcard } from '../../keys/index.js';

/** The redis commands the read needs (ioredis' signatures). */
export interface RedisCommands {
  type(key: string): Promise<string>;
  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<Array<string | null>>;
  hscan(key: string, cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', n: number): Promise<[string, string[]]>;
  scan(cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', n: number): Promise<[string, string[]]>;
}

/** How a key was read (its TYPE): a watch uses it to tell which notifications matter. */
export type ReadMode = 'string' | 'hash' | 'scan';

export interface KeyRead {
  readonly kvs: KeyValue[];
  readonly mode: ReadMode;
  /** The redis key the resource key names (separator applied). */
  readonly redisKey: string;
  /** Keys a SCAN matched that hold no string (a hash, a list...; or were deleted meanwhile): skipped, as confd does. */
  readonly skipped: number;
}

/** Maps between tsconfd's /a/b keys and redis keys for one -separator. */
export class KeyMapping {
  readonly separator: string;

  constructor(separator: string) {
    // confd: no -separator means "/": keys are used as they are.
    this.separator = separator === '' ? '/' : separator;
  }

  /** confd's transform: /a/b -> a<S>b (one leading "/" dropped) unless S is "/". */
  toRedis(key: string): string {
    if (this.separator === '/') return key;
    return (key.startsWith('/') ? key.slice(1) : key).replaceAll('/', this.separator);
  }

  /** confd's clean: a leading "/" added, every S made "/". */
  fromRedis(redisKey: string): string {
    const k = redisKey.startsWith('/') ? redisKey : '/' + redisKey;
    return k.replaceAll(this.separator, '/');
  }

  /** The SCAN pattern for a key read as a prefix; "*" for "/". Glob characters in the key are escaped. */
  scanPattern(key: string, redisKey: string): string {
    if (key === '/') return '*';
    return escapeGlob(redisKey + (this.separator === '/' ? '/' : this.separator)) + '*';
  }

  /** Whether `redisKey` is one of the keys scanPattern(key) matches. */
  inScan(key: string, redisKeyOfKey: string, redisKey: string): boolean {
    if (key === '/') return true;
    return redisKey.startsWith(redisKeyOfKey + (this.separator === '/' ? '/' : this.separator));
  }
}

/** Escapes redis glob characters so a key is matched literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

const BATCH = 1000;

/** Reads one resource key as confd does (see the top of this file). */
export async function readKey(redis: RedisCommands, mapping: KeyMapping, resourceKey: string): Promise<KeyRead> {
  const key = stripWildcard(resourceKey);
  const redisKey = mapping.toRedis(key);
  const type = await redis.type(redisKey);
  if (type === 'string') {
    const value = await redis.get(redisKey);
    // Deleted between TYPE and GET: nothing to read.
    return { kvs: value === null ? [] : [{ key, value }], mode: 'string', redisKey, skipped: 0 };
  }
  if (type === 'hash') {
    const kvs: KeyValue[] = [];
    let cursor = '0';
    do {
      const [next, items] = await redis.hscan(redisKey, cursor, 'MATCH', '*', 'COUNT', BATCH);
      for (let i = 0; i + 1 < items.length; i += 2) kvs.push({ key: mapping.fromRedis(`${redisKey}/${items[i]}`), value: items[i + 1]! });
      cursor = next;
    } while (cursor !== '0');
    return { kvs, mode: 'hash', redisKey, skipped: 0 };
  }
  const pattern = mapping.scanPattern(key, redisKey);
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH);
    for (const k of keys) found.add(k);
    cursor = next;
  } while (cursor !== '0');
  const strings = await readStrings(redis, mapping, [...found]);
  return { kvs: strings, mode: 'scan', redisKey, skipped: found.size - strings.length };
}

/**
 * GET for each redis key, in batches (MGET answers nil where GET fails: a key that is gone or
 * holds a hash, a list...; confd skips those). Keys mapped back through the separator.
 */
export async function readStrings(redis: RedisCommands, mapping: KeyMapping, redisKeys: readonly string[]): Promise<KeyValue[]> {
  const kvs: KeyValue[] = [];
  for (let i = 0; i < redisKeys.length; i += BATCH) {
    const batch = redisKeys.slice(i, i + BATCH);
    const values = await redis.mget(batch);
    batch.forEach((k, j) => {
      const value = values[j];
      if (value !== null && value !== undefined) kvs.push({ key: mapping.fromRedis(k), value });
    });
  }
  return kvs;
}
