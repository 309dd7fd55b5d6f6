/**
 * The membership checks of a settled run, beside the history checker (checker.ts, whose
 * `ownership` rule checks where the data lives):
 * - every node still hosted runs the newest ring state, and that state is committed (no change
 *   running, no departure of a node that left still open) — on disk and in its core;
 * - no node has keys left to drain;
 * - the change the run asked for is in the final ring (a joiner is a member, a leaver or a
 *   removed node is not).
 */
import type { RingChange } from '../core/ring-state.js';
import type { Violation } from './checker.js';
import type { Simulator } from './simulator.js';

/** Why the ring is not settled on `id`, or null when it is. */
function unsettledOn(sim: Simulator, id: string): string | null {
  const node = sim.node(id);
  const core = node.nodeCore;
  if (core === null || node.state !== 'up') return `node ${id} is ${node.state}`;
  const newest = sim.ringState;
  const stored = sim.rings.stateOf(node.id);
  const stats = core.stats();
  if (stored.version !== newest.version || stored.claimant !== newest.claimant) {
    return `node ${id} stored ring v${stored.version} by ${stored.claimant}, the newest is v${newest.version} by ${newest.claimant}`;
  }
  if (stats.ringVersion !== newest.version) {
    return `node ${id} routes by ring v${stats.ringVersion}, the newest is v${newest.version}`;
  }
  if (stats.keysToDrain > 0) return `node ${id} still has ${stats.keysToDrain} keys to drain`;
  return null;
}

/** Why the cluster's ring is not settled, or null: committed, adopted everywhere, drained. */
export function ringUnsettled(sim: Simulator): string | null {
  const newest = sim.ringState;
  if (newest.next !== null) {
    return `membership change v${newest.version} (claimant ${newest.claimant}) never committed`;
  }
  if (newest.departing.length > 0) {
    return `the departure of ${newest.departing.join(', ')} never ended (ring v${newest.version})`;
  }
  for (const id of sim.ids) {
    const why = unsettledOn(sim, id);
    if (why !== null) return why;
  }
  return null;
}

/** Why the final ring does not reflect `change`, or null when it does. */
export function changeMissing(sim: Simulator, change: RingChange): string | null {
  const member = sim.ring.has(change.node);
  if (change.kind === 'join' && !member) return `joiner ${change.node} is not in the final ring`;
  if (change.kind !== 'join' && member) {
    return `${change.node} is still in the final ring after its ${change.kind}`;
  }
  return null;
}

/** The membership violations of a settled run (`changes`: the ones it asked for). */
export function checkRing(sim: Simulator, changes: readonly RingChange[]): Violation[] {
  const problems = [ringUnsettled(sim), ...changes.map((change) => changeMissing(sim, change))];
  return problems
    .filter((problem): problem is string => problem !== null)
    .map((message) => ({ rule: 'membership' as const, key: '', message, ops: [] }));
}
