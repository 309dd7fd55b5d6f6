/**
 * Nodes sharing one real worker thread (runtime/node-thread.ts, worker-node.ts, worker-main.ts):
 * each stops alone; the thread's end stops them all; one id runs once per thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { NodeThread } from '../../../src/runtime/node-thread.js';
import { WorkerNode } from '../../../src/runtime/worker-node.js';
import { testNodeInit } from '../../runtime/node-init.js';

const threads: NodeThread[] = [];

afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.terminate()));
});

const owners = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? 'a' : 'b'));
const initOf = (id: string) => testNodeInit(id, owners);

async function twoNodes() {
  const thread = new NodeThread(() => {}, 2);
  threads.push(thread);
  const exits: Array<[string, string]> = [];
  const events = { exit: (id: string, reason: string) => exits.push([id, reason]) };
  const a = await WorkerNode.start(initOf('a'), thread, events);
  const b = await WorkerNode.start(initOf('b'), thread, events);
  return { thread, a, b, exits };
}

it('a node killed on a shared thread stops alone; the other still answers', async () => {
  const { thread, a, b, exits } = await twoNodes();
  expect(thread.hosted).toBe(2);
  await a.kill();
  expect(exits).toEqual([['a', 'killed']]);
  expect(a.isRunning).toBe(false);
  expect(await a.stats()).toBeNull();
  expect(b.isRunning).toBe(true);
  expect(await b.stats()).toMatchObject({ keys: 0 });
  expect(thread.hosted).toBe(1);
});

it("the thread's end stops every node on it, each reported once", async () => {
  const { thread, a, b, exits } = await twoNodes();
  await thread.terminate();
  expect(exits.map(([id]) => id).sort()).toEqual(['a', 'b']);
  expect(exits[0]?.[1]).toMatch(/exited with code/);
  expect(a.isRunning || b.isRunning).toBe(false);
  await a.close(); // nothing left to stop: settles at once
  expect(exits).toHaveLength(2);
});

it('refuses to start an id the thread runs already, and the running one goes on', async () => {
  const { thread, a } = await twoNodes();
  await expect(WorkerNode.start(initOf('a'), thread, { exit: () => {} })).rejects.toThrow(
    /runs on this thread already/,
  );
  expect(await a.stats()).not.toBeNull();
});

it('a stop asked while a node is still opening stops that node once open, and nothing else', async () => {
  const { thread, b } = await twoNodes();
  const heard: string[] = [];
  thread.attach('c', {
    receive: (message) =>
      heard.push(message.type === 'closed' ? `closed:${message.how}` : message.type),
    threadGone: () => heard.push('gone'),
  });
  // On disk, so its storage opens on the thread pool and the kill arrives while it opens.
  const init = { ...initOf('c'), dataDir: mkdtempSync(join(tmpdir(), 'ringkv-opening-')) };
  thread.post({ type: 'start', node: 'c', init });
  thread.post({ type: 'kill', node: 'c' }); // as a start that timed out asks
  const deadline = Date.now() + 5000;
  while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(heard).toEqual(['closed:kill']); // never reported ready
  expect(thread.isAlive).toBe(true);
  expect(await b.stats()).not.toBeNull();
  // The id is free again: the node can be started anew on the same thread.
  thread.post({ type: 'start', node: 'c', init });
  while (heard.length === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(heard).toEqual(['closed:kill', 'ready']);
  thread.post({ type: 'close', node: 'c' });
  while (heard.length === 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  rmSync(init.dataDir, { recursive: true, force: true });
});
