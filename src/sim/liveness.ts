/**
 * The liveness phase of a swarm run (TigerBeetle's VOPR shape): stop the faults, heal the
 * network, restart crashed nodes and resume paused ones, let in-flight operations finish, then
 * read every key ever written once with r = pr = N — every primary answers, and read repair in
 * the core brings the stale ones up to date — and let the cluster settle (hint handoff, tombstone
 * reaping) within a virtual time budget. A membership change the run started must be made
 * (`changesPending` turns false), commit, reach every node and finish draining before the probes
 * (they read through the final ring); the replicas are compared on the final ring too. Returns
 * what did not happen in time. With `probes` off no key is read: replicas must converge through
 * hinted handoff and Merkle anti-entropy alone (tombstones then stay unreaped, since only a read
 * arms a reap).
 */
import type { OpHandle } from './client.js';
import { ringUnsettled } from './ring-check.js';
import type { Simulator } from './simulator.js';

export interface LivenessReport {
  /** Keys whose r = N read never succeeded within the budget. */
  readonly keysUnread: readonly string[];
  /** Client operations of the safety phase still unfinished when the budget ran out. */
  readonly opsUnfinished: number;
  /** Why the ring had not settled (committed, adopted everywhere, drained) at the end; or null. */
  readonly ringUnsettled: string | null;
  readonly virtualMs: number;
}

/** Quiet time after healing, before the probes, for failure detection and hint handoff. */
const SETTLE_BEFORE_PROBES_MS = 5_000;
/** Quiet time after the probes on top of the tombstone grace period (reaps must finish). */
const SETTLE_AFTER_PROBES_MS = 5_000;
/** Pause before re-reading a key whose probe failed. */
const PROBE_RETRY_MS = 200;

/** How often the liveness phase checks, without probes, whether the replicas agree yet. */
const CONVERGENCE_CHECK_MS = 1_000;

/** Runs (within the budget) until every written key's replicas hold the same versions. */
function awaitConvergence(sim: Simulator, left: () => number): void {
  const settled = () => ringUnsettled(sim) === null && replicasAgree(sim);
  while (left() > 0 && !settled()) sim.runFor(Math.min(CONVERGENCE_CHECK_MS, left()));
}

/** Runs (within the budget) until no change is pending and the ring settled everywhere. */
function awaitRing(sim: Simulator, changesPending: () => boolean, left: () => number): void {
  const settled = () => !changesPending() && ringUnsettled(sim) === null;
  while (left() > 0 && !settled()) sim.runFor(Math.min(CONVERGENCE_CHECK_MS, left()));
}

function replicasAgree(sim: Simulator): boolean {
  const data = sim.dataSnapshot();
  for (const key of sim.history.writtenKeys()) {
    const sets = sim.ring
      .preferenceList(key, sim.options.n)
      .map((node) =>
        (data.get(node)?.get(key)?.siblings ?? []).map((s) => `${s.dot[0]}:${s.dot[1]}`).join(','),
      );
    if (sets.some((set) => set !== sets[0])) return false;
  }
  return true;
}

export function runLiveness(
  sim: Simulator,
  stopLoad: () => void,
  isIdle: () => boolean,
  budgetMs: number,
  probes = true,
  changesPending: () => boolean = () => false,
): LivenessReport {
  const startMs = sim.nowMs();
  const deadlineMs = startMs + budgetMs;
  const left = () => Math.max(0, deadlineMs - sim.nowMs());
  stopLoad();
  sim.quiesce();
  sim.runUntil(isIdle, left());
  const opsUnfinished = sim.history.ops.filter((op) => op.outcome === 'pending').length;
  sim.runFor(Math.min(SETTLE_BEFORE_PROBES_MS, left()));
  awaitRing(sim, changesPending, left);
  // Without probes the replicas must converge by Merkle anti-entropy (and handoff) alone.
  const pending = new Set(probes ? sim.history.writtenKeys() : []);
  const client = sim.client('liveness');
  const probe = (key: string): void => {
    // pr = N: every primary must answer (a stand-in's answer would leave its primary stale).
    const handle: OpHandle = client.get(key, { r: sim.options.n, pr: sim.options.n });
    handle.onDone.push((done) => {
      if (done.op.outcome === 'ok') pending.delete(key);
      else if (sim.nowMs() < deadlineMs) sim.after(PROBE_RETRY_MS, () => probe(key));
    });
  };
  for (const key of pending) probe(key);
  sim.runUntil(() => pending.size === 0, left());
  const graceMs = sim.options.tunables.limits.tombstoneGraceMs;
  sim.runFor(Math.min(graceMs + SETTLE_AFTER_PROBES_MS, left()));
  // Reaps, repairs and anti-entropy may still be settling a race (a tombstone carried back onto
  // a replica that had reaped it re-arms a reap): wait, within the budget, for agreement.
  awaitConvergence(sim, left);
  return {
    keysUnread: [...pending].sort(),
    opsUnfinished,
    ringUnsettled: ringUnsettled(sim),
    virtualMs: sim.nowMs() - startMs,
  };
}
