import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createZookeeperBackend } from '../../../src/backends/zookeeper/index.js';

test('nodes: host:port or [IPv6]:port; anything else is refused by name, credentials masked, before a connection', () => {
  for (const bad of ['a:b:1', 'h:99999', 'h:0', 'h', 'u:s3cretpw@127.0.0.1:2181', 'zk://u:s3cretpw@127.0.0.1:2181', 'h:2181/chroot']) {
    assert.throws(
      () => createZookeeperBackend({ nodes: [bad] }),
      (e: Error) => /^zookeeper: invalid -node ".*": expected host:port$/.test(e.message) && !e.message.includes('s3cretpw'),
      bad,
    );
  }
});
