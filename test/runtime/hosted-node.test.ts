/**
 * Nodes sharing a thread (runtime/hosted-node.ts over one LocalHub): a node whose storage fails
 * stops and reports it, alone; the node beside it keeps serving.
 */
import { afterEach, expect, it } from 'vitest';
import type { ClientResult } from '../../src/core/messages.js';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';
import { HostedNode } from '../../src/runtime/hosted-node.js';
import type { StorageEngine } from '../../src/storage/engine.js';
import { LocalHub } from '../../src/transport/local-hub.js';
import { testNodeInit } from './node-init.js';

const ring = Ring.create([nodeId('n1'), nodeId('n2')], 64);
const opened: HostedNode[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((node) => node.stop()));
});

const initOf = (id: string) => testNodeInit(id, ring.owners);

/** A node on `hub` whose replies and failure the test reads. */
async function open(id: string, hub: LocalHub) {
  const replies = new Map<number, ClientResult>();
  const failures: string[] = [];
  const node = await HostedNode.open(initOf(id), hub, {
    reply: (reqId, result) => replies.set(reqId, result),
    fatal: (message) => failures.push(message),
  });
  opened.push(node);
  return { node, replies, failures };
}

const put = (key: string) => ({
  op: 'put' as const,
  key,
  value: new Uint8Array([1]),
  context: [],
  w: 1,
  timeoutMs: 1000,
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

it('a node whose storage fails stops alone; the node on the same thread goes on', async () => {
  const hub = new LocalHub();
  const one = await open('n1', hub);
  const two = await open('n2', hub);
  const keyOf = (id: string) =>
    Array.from({ length: 500 }, (_, i) => `k${i}`).find(
      (k) => ring.preferenceList(k, 2)[0] === nodeId(id),
    )!;

  const storage = Reflect.get(one.node, 'storage') as StorageEngine;
  await storage.close(); // n1's disk goes away under it
  one.node.request(1, put(keyOf('n1')));
  await until(() => one.failures.length === 1, 'n1 to report its failure');
  expect(one.failures[0]).toMatch(/closed/i);
  expect(one.replies.has(1)).toBe(false); // nothing acked that was not stored

  two.node.request(2, put(keyOf('n2')));
  await until(() => two.replies.has(2), "n2's answer");
  expect(two.replies.get(2)).toMatchObject({ ok: true, op: 'put', acked: 1 });
  expect(two.failures).toEqual([]);
  expect(hub.has(nodeId('n1'))).toBe(false);
  expect(hub.has(nodeId('n2'))).toBe(true);
});
