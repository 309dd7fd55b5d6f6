/**
 * Membership changes in the deterministic simulator, each with a fixed seed: a join, a graceful
 * leave and the removal of a crashed node during a write workload; a sender crashing in the middle
 * of its transfer; a join under message loss and a partition that heals. Each run ends with the
 * liveness phase, then requires that the change committed on every node, that every node drained,
 * that each key's data lives on exactly its preference list of the final ring, and that the
 * history checker holds (no acknowledged write lost, no silent overwrite, no resurrection,
 * replicas identical).
 */
import { describe, expect, it } from 'vitest';
import { movesOf, type RingChange } from '../../src/core/ring-state.js';
import { type NodeId, nodeId } from '../../src/core/types.js';
import type { Violation } from '../../src/sim/checker.js';
import { SIM_DEFAULTS } from '../../src/sim/defaults.js';
import { runLiveness } from '../../src/sim/liveness.js';
import { type ChangePlan, RingChanger } from '../../src/sim/ring-changer.js';
import { checkRing } from '../../src/sim/ring-check.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { coreFaultViolations } from '../../src/sim/swarm.js';
import { Workload, type WorkloadOptions } from '../../src/sim/workload.js';
import { Prng } from '../../src/util/prng.js';
import { checkAll, type Overrides, sim } from './helpers.js';

const WORKLOAD: WorkloadOptions = {
  keys: Array.from({ length: 40 }, (_, i) => `k${i}`),
  clients: 4,
  mix: { readModifyWrite: 1, blindPut: 0.3, deleteWithContext: 0.2, staleWrite: 0.1, read: 0.2 },
  thinkTime: { exp: { rate: 1 / 10 } },
  hotKeyRate: 0.1,
};

const LIVENESS_MS_MAX = 60_000;

interface Run {
  readonly sim: Simulator;
  readonly changer: RingChanger;
  readonly workload: Workload;
}

/** A simulator with a workload and one planned change, both started. */
function setUp(seed: number, plan: ChangePlan, overrides: Overrides = {}): Run {
  return startedRun(sim(overrides, seed), seed, plan);
}

function startedRun(s: Simulator, seed: number, plan: ChangePlan): Run {
  const workload = new Workload(s, s.prng, WORKLOAD);
  const changer = new RingChanger(s, new Prng(seed + 1), plan);
  workload.start();
  changer.start();
  return { sim: s, changer, workload };
}

/** Liveness phase, then every check: history, ownership on the final ring, membership. */
function settle(run: Run): Violation[] {
  const { sim: s, changer, workload } = run;
  const liveness = runLiveness(
    s,
    () => workload.stop(),
    () => workload.idle,
    LIVENESS_MS_MAX,
    true,
    () => !changer.visible,
  );
  expect(liveness.keysUnread).toEqual([]);
  expect(liveness.opsUnfinished).toBe(0);
  const changes: RingChange[] = changer.change === null ? [] : [changer.change];
  return [...coreFaultViolations(s), ...checkRing(s, changes), ...checkAll(s)];
}

/** Every key's data is on exactly its final preference list (the checker's ownership rule, spelled out). */
function expectDataOnFinalRing(s: Simulator): void {
  const data = s.dataSnapshot();
  for (const key of s.history.writtenKeys()) {
    const holders = s.ids.filter((id) => data.get(id)?.has(key)).sort();
    const prefs = [...s.ring.preferenceList(key, s.options.n)].sort();
    if (holders.length > 0) expect({ key, holders }).toEqual({ key, holders: prefs });
  }
  for (const id of s.ids) expect(s.node(id).nodeCore?.stats().keysToDrain).toBe(0);
}

/** The change committed (and a leaver's departure ended): every node is on the newest state. */
function expectCommittedEverywhere(s: Simulator): void {
  const { version, next, departing } = s.ringState;
  expect(next).toBeNull();
  expect(departing).toEqual([]);
  expect(version).toBeGreaterThanOrEqual(2);
  for (const id of s.ids) {
    expect(s.node(id).nodeCore?.stats().ringVersion).toBe(version);
    expect(s.rings.stateOf(id).version).toBe(version);
  }
}

function acknowledgedWrites(s: Simulator): number {
  return s.history.ops.filter((op) => op.kind !== 'get' && op.outcome === 'ok').length;
}

describe('membership changes in the simulator', () => {
  it('join of a 6th node during a write workload', () => {
    const run = setUp(7101, { kind: 'join', atMs: 1_000 });
    run.sim.runFor(6_000);
    const violations = settle(run);
    expect(violations).toEqual([]);
    const joiner = run.changer.change!.node;
    expect(joiner).toBe('n6');
    expect(run.sim.ring.nodes()).toContain(joiner);
    expectCommittedEverywhere(run.sim);
    expectDataOnFinalRing(run.sim);
    expect(acknowledgedWrites(run.sim)).toBeGreaterThan(100);
    expect(run.sim.dataSnapshot().get(joiner as NodeId)?.size).toBeGreaterThan(0);
    expect(run.sim.node(joiner).nodeCore?.stats().transferKeysReceived).toBeGreaterThan(0);
  });

  it('graceful leave during a write workload', () => {
    const leaver = nodeId('n3');
    const run = setUp(7202, { kind: 'leave', atMs: 1_500, node: leaver, via: nodeId('n1') });
    run.sim.runFor(6_000);
    expect(settle(run)).toEqual([]);
    expect(run.sim.ring.nodes()).toEqual(['n1', 'n2', 'n4', 'n5']);
    expectCommittedEverywhere(run.sim);
    expectDataOnFinalRing(run.sim);
    expect(run.sim.node(leaver).storage.count('data')).toBe(0); // handed everything over
    expect(acknowledgedWrites(run.sim)).toBeGreaterThan(100);
  });

  it('remove of a crashed node during writes: the survivors re-replicate', () => {
    const dead = nodeId('n2');
    const run = setUp(7303, { kind: 'remove', atMs: 2_000, node: dead });
    run.sim.after(500, () => run.sim.crash(dead)); // writes go on with hints meanwhile
    run.sim.runFor(6_000);
    expect(settle(run)).toEqual([]);
    expect(run.sim.isRetired(dead)).toBe(true);
    expect(run.sim.ring.nodes()).toEqual(['n1', 'n3', 'n4', 'n5']);
    expectCommittedEverywhere(run.sim);
    expectDataOnFinalRing(run.sim);
    // Every key has its N replicas again, among the survivors.
    const data = run.sim.dataSnapshot();
    for (const key of run.sim.history.writtenKeys()) {
      const holders = run.sim.ids.filter((id) => data.get(id)?.has(key));
      if (holders.length > 0) expect(holders).toHaveLength(3);
    }
  });

  it('a sender crashing mid-transfer resumes from its saved cursor and the join completes', () => {
    const limits = {
      ...SIM_DEFAULTS.tunables.limits,
      transferBatchKeysMax: 2,
      transferBatchesMax: 1,
    };
    const s = sim({ tunables: { ...SIM_DEFAULTS.tunables, limits } }, 7404);
    preload(s, 800);
    const run = startedRun(s, 7404, { kind: 'join', atMs: 100 });
    expect(s.runUntil(() => s.ringState.next !== null, 2_000)).toBe(true);
    const transition = s.ringState;
    const sender = busiestSender(s);
    const moves = movesOf(transition, s.options.n).filter((m) => m.sender === sender.id);
    const cursors = () =>
      moves.filter((m) => sender.storage.getMeta(`transfer:${transition.version}:${m.partition}`));
    const fullResend = moves.reduce(
      (sum, m) => sum + keysOfPartition(s, sender.id, m.partition) * m.incoming.length,
      0,
    );
    // Crash it once half of what it streams is sent and its acked positions are durable.
    const sent = () => sender.nodeCore?.stats().transferKeysSent ?? 0;
    expect(s.runUntil(() => sent() >= fullResend / 2, 5_000)).toBe(true);
    expect(cursors().length).toBeGreaterThan(0);
    expect(s.ringState.next).not.toBeNull();
    const sentBefore = sent();
    s.crash(sender.id);
    s.runFor(1_000);
    expect(s.ringState.next).not.toBeNull(); // the claimant waits for the crashed sender
    s.restart(sender.id);
    expect(s.runUntil(() => s.ringState.next === null, 10_000)).toBe(true);
    const resent = sender.nodeCore!.stats().transferKeysSent;
    expect(resent).toBeGreaterThan(0);
    // It resumed: what it sends after the restart is about what was left (new writes aside),
    // well short of the whole again.
    expect(resent).toBeLessThan(fullResend - sentBefore / 2);
    s.runFor(2_000);
    expect(settle(run)).toEqual([]);
    expectCommittedEverywhere(s);
    expectDataOnFinalRing(s);
  });

  it('a join under message loss and a partition that heals', () => {
    const network = { lossRate: 0.1, duplicateRate: 0.05 };
    const run = setUp(7505, { kind: 'join', atMs: 1_000, via: nodeId('n2') }, { network });
    const s = run.sim;
    // The joiner and one old member are cut off from the rest (the claimant among them).
    s.after(1_050, () =>
      s.partition([[nodeId('n6'), nodeId('n1')], s.ids.filter((id) => id !== 'n1' && id !== 'n6')]),
    );
    s.after(4_000, () => s.heal());
    s.runUntil(() => s.nowMs() >= 3_900, 4_000);
    expect(s.ringState.next).not.toBeNull(); // stuck while partitioned
    s.runFor(3_000);
    expect(settle(run)).toEqual([]);
    expect(s.ring.nodes()).toContain('n6');
    expectCommittedEverywhere(s);
    expectDataOnFinalRing(s);
    expect(s.network.stats.lost).toBeGreaterThan(100);
    expect(s.network.stats.blocked).toBeGreaterThan(100);
  });
});

/** Writes `count` keys `p<i>` with w = N and waits for them. */
function preload(s: Simulator, count: number): void {
  const client = s.client('preload');
  const puts = Array.from({ length: count }, (_, i) => client.put(`p${i}`, { w: s.options.n }));
  expect(s.runUntil(() => puts.every((p) => p.op.outcome !== 'pending'), 30_000)).toBe(true);
  expect(puts.every((p) => p.op.outcome === 'ok')).toBe(true);
}

/** The node streaming the most partitions in the running change. */
function busiestSender(s: Simulator) {
  const counts = new Map<NodeId, number>();
  for (const move of movesOf(s.ringState, s.options.n)) {
    if (move.sender !== null) counts.set(move.sender, (counts.get(move.sender) ?? 0) + 1);
  }
  const [id] = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!;
  return s.node(id);
}

function keysOfPartition(s: Simulator, node: NodeId, partition: number): number {
  const keys = [...s.node(node).storage.snapshot('data').keys()];
  return keys.filter((key) => s.ring.partitionOf(key) === partition).length;
}
