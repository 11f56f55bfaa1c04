// Pure parts of the redis backend: confd's key mapping for -separator, glob escaping, node
// parsing, and which notify-keyspace-events settings a watch can work with. The reads themselves
// run against real redis-servers in test/e2e/backends/redis.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeGlob, KeyMapping } from '../../../src/backends/redis/read.js';
import { stripWildcard } from '../../../src/keys/index.js';
import { parseRedisNode } from '../../../src/backends/redis/connection.js';
import { keyspaceEventsMissing } from '../../../src/backends/redis/watch.js';

test("-separator maps keys as confd's transform and clean do", () => {
  const plain = new KeyMapping('');
  assert.equal(plain.separator, '/');
  assert.equal(plain.toRedis('/a/b'), '/a/b');
  assert.equal(plain.fromRedis('/a/b'), '/a/b');
  assert.equal(plain.fromRedis('foo'), '/foo', 'a key without a leading / gets one');
  assert.equal(plain.scanPattern('/a', '/a'), '/a/*');
  assert.equal(plain.scanPattern('/', '/'), '*');

  const colon = new KeyMapping(':');
  assert.equal(colon.toRedis('/a/b/c'), 'a:b:c');
  assert.equal(colon.fromRedis('a:b:c'), '/a/b/c');
  assert.equal(colon.fromRedis('a:b/field'), '/a/b/field', 'a hash field joined with / (confd: clean(k + "/" + field))');
  assert.equal(colon.scanPattern('/a/b', 'a:b'), 'a:b:*');
  assert.equal(colon.scanPattern('/', ''), '*');
  assert.ok(colon.inScan('/a', 'a', 'a:x'));
  assert.ok(!colon.inScan('/a', 'a', 'ab:x'));
  assert.ok(plain.inScan('/', '/', 'anything'));
});

test('glob characters in keys are matched literally; every /* is stripped as confd does', () => {
  assert.equal(escapeGlob('/a[1]/b*?\\'), '/a\\[1\\]/b\\*\\?\\\\');
  assert.equal(new KeyMapping('/').scanPattern('/a[1]', '/a[1]'), '/a\\[1\\]/*');
  assert.equal(stripWildcard('/app/*'), '/app');
  assert.equal(stripWildcard('/a/*/b/*'), '/a/b');
});

test('nodes: host:port, host:port/DB, a unix socket path; bad ones are named', () => {
  assert.deepEqual(parseRedisNode('127.0.0.1:6380').options, { host: '127.0.0.1', port: 6380, db: 0 });
  const db = parseRedisNode('redis.local:6379/4');
  assert.equal(db.db, 4);
  assert.deepEqual(db.options, { host: 'redis.local', port: 6379, db: 4 });
  assert.deepEqual(parseRedisNode('[::1]:6379').options, { host: '::1', port: 6379, db: 0 });
  assert.deepEqual(parseRedisNode('/').options, { path: '/' }, 'an existing path is a socket');
  assert.throws(() => parseRedisNode('host:port'), /invalid -node "host:port"/);
  // A URL with credentials is refused without echoing them (it used to become a "host" named in errors).
  for (const url of ['redis://:s3cretpw@127.0.0.1:6379', 'redis://user:s3cretpw@h:1/2', 'user:s3cretpw@h:6379', 'rediss://h:6379']) {
    assert.throws(
      () => parseRedisNode(url),
      (e: Error) => /invalid -node ".*": expected host:port.*not a URL/.test(e.message) && !e.message.includes('s3cretpw'),
      url,
    );
  }
});

test('notify-keyspace-events: K with the generic, string and hash classes (or A) is needed', () => {
  assert.equal(keyspaceEventsMissing('KA'), undefined);
  assert.equal(keyspaceEventsMissing('AKE'), undefined);
  assert.equal(keyspaceEventsMissing('Kg$h'), undefined);
  assert.equal(keyspaceEventsMissing(''), 'no keyspace events (K)');
  assert.equal(keyspaceEventsMissing('EA'), 'no keyspace events (K)');
  assert.equal(keyspaceEventsMissing('K$'), 'classes gh missing');
});
