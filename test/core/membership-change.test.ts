/**
 * Membership changes in NodeCore (ring-state.ts, transfer.ts): join, leave and remove move
 * exactly the changed partitions, lose no acknowledged write, survive a sender crash by resuming
 * from its cursor, and leave every key on exactly its new preference list.
 */
import { describe, expect, it } from 'vitest';
import { MerkleIndex } from '../../src/core/anti-entropy.js';
import type { ClientResult, TransferStatus } from '../../src/core/messages.js';
import type { CoreLimits } from '../../src/core/node.js';
import { Ring } from '../../src/core/ring.js';
import { movesOf, type RingState } from '../../src/core/ring-state.js';
import { type KeyRecord, type NodeId, nodeId } from '../../src/core/types.js';
import { TestNet, text } from './harness.js';

type RingStatus = { state: RingState; transfer: TransferStatus };

function ringStatus(net: TestNet, node: NodeId): RingStatus {
  const reply = net.reply(net.request(node, { op: 'ring-status', timeoutMs: 1000 }));
  if (reply?.ok !== true || reply.op !== 'ring-status') throw new Error('no ring status');
  return { state: reply.state, transfer: reply.transfer };
}

/** Asks for a change; an accepted one is answered once its state is durable on the claimant. */
function change(net: TestNet, via: NodeId, kind: 'join' | 'leave' | 'remove', node: string) {
  const reqId = net.request(via, {
    op: 'ring-change',
    change: { kind, node: nodeId(node) },
    timeoutMs: 1000,
  });
  for (let i = 0; i < 100_000 && net.reply(reqId) === undefined; i++) {
    if (!net.persistOne()) break;
  }
  return net.reply(reqId) as ClientResult;
}

/** Runs messages, persists and timers until every live node is on `version` and idle. */
function runUntilCommitted(
  net: TestNet,
  version: number,
  live: readonly NodeId[],
  roundsMax = 200,
) {
  for (let round = 0; round < roundsMax; round++) {
    net.settle(200_000);
    const done = live.every((id) => {
      const { state, transfer } = ringStatus(net, id);
      return (
        state.version >= version &&
        state.next === null &&
        transfer.keysToDrain === 0 &&
        transfer.batchesInFlight === 0 &&
        net.core(id).stats().hintsPending === 0
      );
    });
    if (done) return round;
    net.fireTimers();
  }
  throw new Error(`change did not commit at version ${version}`);
}

function load(net: TestNet, keys: number, prefix = 'k'): void {
  for (let i = 0; i < keys; i++) net.put(net.ids[i % net.ids.length]!, `${prefix}${i}`, `v${i}`);
  net.settle(200_000);
}

/** Every key lives on exactly its preference list in `ring`, with the same versions there. */
function expectPlacement(net: TestNet, ring: Ring, nodes: readonly NodeId[], keys: string[]) {
  for (const key of keys) {
    const prefs = ring.preferenceList(key, net.n);
    const holders = nodes.filter((id) => net.stores.get(id)!.get(key) !== undefined);
    expect([...holders].sort(), key).toEqual([...prefs].sort());
    const first = net.stores.get(prefs[0]!)!.get(key)!;
    for (const id of prefs) sameDotSet(net.stores.get(id)!.get(key)!, first);
  }
}

/**
 * Every node's Merkle trees, which ring changes carry over for the partitions a node keeps,
 * equal trees built afresh from what it stores under the ring it ended on (the core's index is
 * private: read here through a cast, as nothing else needs it).
 */
function expectTreesAsIfRebuilt(net: TestNet, ring: Ring, nodes: readonly NodeId[]) {
  for (const id of nodes) {
    const kept = (net.core(id) as unknown as { antiEntropy: { index: MerkleIndex } }).antiEntropy
      .index;
    const fresh = new MerkleIndex(ring, id, net.n);
    for (const [key, record] of net.stores.get(id)!.entries({ ns: 'data' })) {
      fresh.update(key, undefined, record);
    }
    for (let p = 0; p < ring.partitionCount; p++) {
      expect(kept.tree(p)?.root(), `${id} partition ${p}`).toBe(fresh.tree(p)?.root());
      expect(kept.tree(p)?.size, `${id} partition ${p}`).toBe(fresh.tree(p)?.size);
    }
  }
}

function dotsOf(record: KeyRecord): string[] {
  return record.siblings.map((s) => `${s.dot[0]}:${s.dot[1]}`).sort();
}

function sameDotSet(a: KeyRecord, b: KeyRecord): void {
  expect(dotsOf(a)).toEqual(dotsOf(b));
}

/**
 * n4 is dead (isolated, reported down); 200 writes coordinated by the live nodes leave hints
 * for n4's copies on stand-ins.
 */
function hintsForDeadN4(limits: Partial<CoreLimits> = {}): { net: TestNet; live: NodeId[] } {
  const net = new TestNet(5, 3, 64);
  for (const id of net.ids) net.restart(id, limits);
  const dead = nodeId('n4');
  const live = net.ids.filter((id) => id !== dead);
  net.isolated.add(dead);
  for (const id of live) net.input(id, { kind: 'peer-status', peer: dead, up: false });
  for (let i = 0; i < 200; i++) net.put(live[i % live.length]!, `k${i}`, `v${i}`);
  net.settle(200_000);
  return { net, live };
}

function keysOf(count: number, prefix = 'k'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

describe('membership changes', () => {
  it('join streams exactly the changed partitions to the new node and commits', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 400);
    const before = ringStatus(net, nodeId('n1')).state;
    net.addNode(nodeId('n6'), before);
    const begun = change(net, nodeId('n1'), 'join', 'n6');
    expect(begun).toMatchObject({ ok: true, op: 'ring-change' });
    const moves = movesOf((begun as { state: RingState }).state, 3);
    runUntilCommitted(net, before.version + 2, net.ids);
    const after = ringStatus(net, nodeId('n3')).state;
    expect(after.owners).toEqual((begun as { state: RingState }).state.next);
    const ring = Ring.fromOwners(after.owners);
    expectPlacement(net, ring, net.ids, keysOf(400));
    // Only keys of moved partitions were sent, each to one incoming node (n = 3, one joiner).
    const moved = new Set(moves.map((m) => m.partition));
    const movedKeys = keysOf(400).filter((k) => moved.has(ring.partitionOf(k))).length;
    const sent = net.ids.reduce((sum, id) => sum + ringStatus(net, id).transfer.keysSent, 0);
    expect(sent).toBe(movedKeys);
    expect(net.stores.get(nodeId('n6'))!.count()).toBe(movedKeys);
  });

  it('a committed change leaves no transfer cursor behind', () => {
    const net = new TestNet(5, 3, 64);
    // Every cursor name persisted, and whether it is there at the end (undefined: removed).
    const cursors = new Map<string, unknown>();
    const watch = (id: NodeId) =>
      net.stores.get(id)!.onMeta((name, value) => {
        if (name.startsWith('transfer:')) cursors.set(`${id} ${name}`, value);
      });
    net.ids.forEach(watch);
    load(net, 400);
    const before = ringStatus(net, nodeId('n1')).state;
    net.addNode(nodeId('n6'), before);
    watch(nodeId('n6'));
    change(net, nodeId('n1'), 'join', 'n6');
    runUntilCommitted(net, before.version + 2, net.ids);
    net.settle(1_000_000);
    expect(cursors.size).toBeGreaterThan(0); // the senders did save cursors while moving
    expect([...cursors].filter(([, value]) => value !== undefined)).toEqual([]);
  });

  it('writes during a join are neither lost nor misplaced', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 200);
    const before = ringStatus(net, nodeId('n1')).state;
    net.addNode(nodeId('n6'), before);
    change(net, nodeId('n2'), 'join', 'n6');
    // Interleave writes with the transfer: a few messages, then more writes, and so on.
    const acked: number[] = [];
    for (let i = 0; i < 200; i++) {
      const reqId = net.put(net.ids[i % 5]!, `w${i}`, `x${i}`);
      acked.push(reqId);
      for (let s = 0; s < 7; s++) net.deliverOne() || net.persistOne();
    }
    runUntilCommitted(net, before.version + 2, net.ids);
    for (const reqId of acked) expect(net.reply(reqId)).toMatchObject({ ok: true });
    const ring = Ring.fromOwners(ringStatus(net, nodeId('n1')).state.owners);
    expectPlacement(net, ring, net.ids, [...keysOf(200), ...keysOf(200, 'w')]);
    expectTreesAsIfRebuilt(net, ring, net.ids);
    const reqId = net.get(nodeId('n6'), 'w7', 3);
    net.settle();
    const read = net.reply(reqId);
    expect(read?.ok && read.op === 'get' && text(read.record!.siblings[0]!.value!)).toBe('x7');
  });

  it('leave hands every key over before the node goes, and leaves it empty', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 300);
    const before = ringStatus(net, nodeId('n1')).state;
    expect(change(net, nodeId('n1'), 'leave', 'n3')).toMatchObject({ ok: true });
    runUntilCommitted(net, before.version + 2, net.ids);
    const ring = Ring.fromOwners(ringStatus(net, nodeId('n1')).state.owners);
    expect(ring.has(nodeId('n3'))).toBe(false);
    expect(net.stores.get(nodeId('n3'))!.count()).toBe(0);
    expectPlacement(net, ring, net.ids, keysOf(300));
    expectTreesAsIfRebuilt(net, ring, net.ids);
  });

  it('remove of a dead node re-replicates from the survivors', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 300);
    const dead = nodeId('n4');
    net.isolated.add(dead);
    const live = net.ids.filter((id) => id !== dead);
    for (const id of live) net.input(id, { kind: 'peer-status', peer: dead, up: false });
    const before = ringStatus(net, nodeId('n1')).state;
    expect(change(net, nodeId('n1'), 'leave', 'n4')).toMatchObject({ ok: false, error: 'invalid' });
    expect(change(net, nodeId('n1'), 'remove', 'n4')).toMatchObject({ ok: true });
    runUntilCommitted(net, before.version + 2, live);
    const ring = Ring.fromOwners(ringStatus(net, nodeId('n1')).state.owners);
    expectPlacement(net, ring, live, keysOf(300));
  });

  it('hints held for a removed node go to the new replicas of their keys', () => {
    const { net, live } = hintsForDeadN4();
    const hinted = live.reduce((sum, id) => sum + net.core(id).stats().hintsPending, 0);
    expect(hinted).toBeGreaterThan(0);
    const before = ringStatus(net, nodeId('n1')).state;
    expect(change(net, nodeId('n1'), 'remove', 'n4')).toMatchObject({ ok: true });
    runUntilCommitted(net, before.version + 2, live);
    for (const id of live) expect(net.core(id).stats().hintsPending).toBe(0);
    const ring = Ring.fromOwners(ringStatus(net, nodeId('n1')).state.owners);
    expectPlacement(net, ring, live, keysOf(200));
  });

  it('rehomes at most handoffBatchKeysMax hints of a removed node per tick', () => {
    const { net, live } = hintsForDeadN4({ handoffBatchKeysMax: 4 });
    const holder = live.reduce((a, b) =>
      net.core(a).stats().hintsPending >= net.core(b).stats().hintsPending ? a : b,
    );
    expect(net.core(holder).stats().hintsPending).toBeGreaterThan(8);
    expect(change(net, nodeId('n1'), 'remove', 'n4')).toMatchObject({ ok: true });
    net.settle(200_000);
    const before = net.core(holder).stats().hintsPending;
    net.fireTimers();
    net.settle(200_000);
    const rehomed = before - net.core(holder).stats().hintsPending;
    expect(rehomed).toBeGreaterThan(0);
    expect(rehomed).toBeLessThanOrEqual(4);
  });

  it('a sender that crashes mid-transfer resumes from its cursor', () => {
    const net = new TestNet(5, 3, 64);
    const small = { transferBatchKeysMax: 8, transferBatchesMax: 1 };
    for (const id of net.ids) net.restart(id, small);
    load(net, 2000);
    const before = ringStatus(net, nodeId('n1')).state;
    net.addNode(nodeId('n6'), before, small);
    const begun = change(net, nodeId('n1'), 'join', 'n6') as { state: RingState };
    const sender = movesOf(begun.state, 3)[0]!.sender!;
    // Let batches through until the sender saved a cursor, then crash and restart it.
    // Every transfer cursor name the sender ever persisted (a later removal does not count).
    const cursorNames = new Set<string>();
    net.stores.get(sender)!.onMeta((name) => {
      if (name.startsWith('transfer:')) cursorNames.add(name);
    });
    const cursors = () => [...cursorNames];
    for (let i = 0; i < 100_000 && cursors().length < 3; i++) net.deliverOne() || net.persistOne();
    expect(cursors().length).toBeGreaterThanOrEqual(3);
    const sentBefore = ringStatus(net, sender).transfer.keysSent;
    net.restart(sender, small);
    runUntilCommitted(net, before.version + 2, net.ids);
    const ring = Ring.fromOwners(ringStatus(net, nodeId('n1')).state.owners);
    expectPlacement(net, ring, net.ids, keysOf(2000));
    // After the restart the sender sent only what its saved cursor had not covered.
    const movedBySender = movesOf(begun.state, 3)
      .filter((m) => m.sender === sender)
      .map((m) => m.partition);
    const total = keysOf(2000).filter((k) => movedBySender.includes(ring.partitionOf(k))).length;
    const sentAfter = ringStatus(net, sender).transfer.keysSent;
    expect(sentAfter).toBeLessThan(total);
    expect(sentAfter + sentBefore).toBeGreaterThanOrEqual(total);
  });

  it('a claimant that crashes mid-change still commits it after restarting', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 300);
    const before = ringStatus(net, nodeId('n1')).state;
    net.addNode(nodeId('n6'), before);
    expect(change(net, nodeId('n1'), 'join', 'n6')).toMatchObject({ ok: true });
    for (let i = 0; i < 50; i++) net.deliverOne() || net.persistOne();
    net.restart(nodeId('n1')); // loses the transfer-done reports it had collected
    // It restarts from the transition state it stored, still the claimant.
    const afterRestart = ringStatus(net, nodeId('n1')).state;
    expect(afterRestart).toMatchObject({ version: before.version + 1, claimant: 'n1' });
    expect(afterRestart.next).not.toBeNull();
    runUntilCommitted(net, before.version + 2, net.ids);
    const ring = Ring.fromOwners(ringStatus(net, nodeId('n1')).state.owners);
    expect(ring.has(nodeId('n6'))).toBe(true);
    expectPlacement(net, ring, net.ids, keysOf(300));
  });

  it('a claimant that dies mid-change is taken over by the first live node', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 200);
    const before = ringStatus(net, nodeId('n1')).state;
    net.addNode(nodeId('n6'), before);
    const claimant = nodeId('n3');
    expect(change(net, claimant, 'join', 'n6')).toMatchObject({ ok: true });
    for (let i = 0; i < 20; i++) net.deliverOne() || net.persistOne();
    net.isolated.add(claimant);
    const live = net.ids.filter((id) => id !== claimant);
    for (const id of live) net.input(id, { kind: 'peer-status', peer: claimant, up: false });
    runUntilCommitted(net, before.version + 3, live); // takeover, then the commit
    const after = ringStatus(net, nodeId('n2')).state;
    expect(after.claimant).toBe('n1');
    const ring = Ring.fromOwners(after.owners);
    expect(ring.has(nodeId('n6'))).toBe(true);
  });

  it('a joiner that dies mid-change can be removed: the join is called off', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 200);
    const before = ringStatus(net, nodeId('n1')).state;
    const joiner = nodeId('n6');
    net.addNode(joiner, before);
    expect(change(net, nodeId('n1'), 'join', 'n6')).toMatchObject({ ok: true });
    for (let i = 0; i < 30; i++) net.deliverOne() || net.persistOne();
    net.isolated.add(joiner); // it dies: the moves to it can never finish
    for (const id of net.ids)
      if (id !== joiner) net.input(id, { kind: 'peer-status', peer: joiner, up: false });
    net.settle();
    net.fireTimers();
    net.settle();
    expect(ringStatus(net, nodeId('n2')).state.next).not.toBeNull(); // still held up
    const live = net.ids.filter((id) => id !== joiner);
    expect(change(net, nodeId('n2'), 'remove', 'n6')).toMatchObject({ ok: true });
    runUntilCommitted(net, before.version + 2, live);
    const after = ringStatus(net, nodeId('n4')).state;
    expect(after.owners).toEqual(before.owners);
    expectPlacement(net, Ring.fromOwners(after.owners), live, keysOf(200));
  });

  it('acknowledges a change only once the claimant stored it', () => {
    const net = new TestNet(5, 3, 64);
    const before = ringStatus(net, nodeId('n1')).state;
    net.addNode(nodeId('n6'), before);
    const reqId = net.request(nodeId('n1'), {
      op: 'ring-change',
      change: { kind: 'join', node: nodeId('n6') },
      timeoutMs: 1000,
    });
    expect(net.reply(reqId)).toBeUndefined();
    while (net.reply(reqId) === undefined && net.persistOne()) {}
    expect(net.stores.get(nodeId('n1'))!.getMeta('ringState')).toMatchObject({
      version: before.version + 1,
    });
    expect(net.reply(reqId)).toMatchObject({ ok: true, op: 'ring-change' });
  });

  it('refuses a second change while one runs, and bad changes', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 50);
    const before = ringStatus(net, nodeId('n1')).state;
    net.addNode(nodeId('n6'), before);
    expect(change(net, nodeId('n1'), 'join', 'n2')).toMatchObject({ ok: false, error: 'invalid' });
    expect(change(net, nodeId('n1'), 'leave', 'n9')).toMatchObject({ ok: false, error: 'invalid' });
    expect(change(net, nodeId('n1'), 'join', 'n6')).toMatchObject({ ok: true });
    expect(change(net, nodeId('n1'), 'leave', 'n2')).toMatchObject({ ok: false, error: 'busy' });
    while (ringStatus(net, nodeId('n3')).state.next === null) net.deliverOne();
    expect(change(net, nodeId('n3'), 'leave', 'n2')).toMatchObject({ ok: false, error: 'busy' });
    runUntilCommitted(net, before.version + 2, net.ids);
    expect(change(net, nodeId('n3'), 'leave', 'n2')).toMatchObject({ ok: true });
  });

  it('a write that reaches a node under an older ring is kept for the new owner', () => {
    const net = new TestNet(5, 3, 64);
    load(net, 100);
    const before = ringStatus(net, nodeId('n1')).state;
    change(net, nodeId('n1'), 'leave', 'n5');
    runUntilCommitted(net, before.version + 2, net.ids);
    const ring = Ring.fromOwners(ringStatus(net, nodeId('n1')).state.owners);
    // n5 left; a stale coordinator still sends it a replica-put for a key it no longer holds.
    const key = 'stale-key';
    const record = {
      siblings: [{ dot: ['zz.a', 1] as const, past: [], value: new Uint8Array([1]) }],
    };
    net.inflight.push({
      from: nodeId('n1'),
      to: nodeId('n5'),
      message: { type: 'replica-put', v: 1, opId: 99, key, record },
    });
    net.settle();
    expect(net.stores.get(nodeId('n5'))!.get(key)).toBeUndefined();
    net.fireTimers(); // hint handoff to the owner
    net.settle();
    const owner = ring.preferenceList(key, 3)[0]!;
    expect(net.stores.get(owner)!.get(key)).toBeDefined();
  });
});
