// Reading one resource key from ZooKeeper as confd's backends/zookeeper/client.go does: every
// "/*" is removed from the key; a key that does not exist fails the read ("node does not exist");
// a znode without children gives its data as the value, a znode with children is descended into
// and its own data ignored. Errors below the key's direct children are ignored, as confd ignores
// what its nested walk returns. Znodes of one level are read in parallel.
import type { KeyValue } from '../types.js';
import { stripWildcard } from '../../keys/index.js';
import type { ZkSession } from './session.js';

export function childPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** Reads one resource key (see the top of this file); results are in no particular order. */
export async function readKey(zk: ZkSession, resourceKey: string): Promise<KeyValue[]> {
  const key = stripWildcard(resourceKey);
  const out: KeyValue[] = [];
  // One getData tells a leaf (its value) from a znode with children: half the requests of
  // confd's Children-then-Get on a tree that is mostly leaves.
  const top = await zk.getNode(key);
  if (top.children === 0) {
    out.push({ key, value: top.data });
    return out;
  }
  const { children } = await zk.getChildren(key);
  await Promise.all(
    children.map(async (c) => {
      const path = childPath(key, c);
      const node = await zk.getNode(path);
      if (node.children === 0) out.push({ key: path, value: node.data });
      else await walkNested(zk, path, out);
    }),
  );
  return out;
}

async function walkNested(zk: ZkSession, path: string, out: KeyValue[]): Promise<void> {
  try {
    const { children } = await zk.getChildren(path);
    await Promise.all(
      children.map(async (c) => {
        const child = childPath(path, c);
        try {
          const node = await zk.getNode(child);
          if (node.children === 0) out.push({ key: child, value: node.data });
          else await walkNested(zk, child, out);
        } catch {
          // confd ignores errors of its nested walk (a znode deleted while it is read).
        }
      }),
    );
  } catch {
    // as above
  }
}
