// ZooKeeper in the registry; node-zookeeper-client is a bundle of its own (dist/zookeeper.cjs), loaded with index.ts.
import { defineBackend } from '../definition.js';
import { NODE_OPTION } from '../options.js';

export const zookeeperBackend = defineBackend({
  names: ['zookeeper'],
  options: [NODE_OPTION],
  defaultNode: '127.0.0.1:2181',
  stripsKeyWildcards: true,
  changeFeed: 'prefix-changed',
  async create(opts, { nodes, log }) {
    return (await import('./index.js')).createZookeeperBackend({ nodes, log });
  },
});
