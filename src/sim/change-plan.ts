/**
 * Whether a swarm run makes a membership change, and which: one join, leave or remove at a random
 * time of the safety phase. Drawn from a stream of its own (`changePrng`), so the draws of the
 * scenario, the workload and the faults stay those of the seed without membership changes: a run
 * whose plan is "none" plays out exactly as before membership changes existed.
 *
 * A removed node's disk is gone for good, like a wipe: with W acks per write, at most W - 1 disks
 * may be lost (scenario.ts `wipesMax`), so a remove needs W >= 2 and takes one wipe off the budget.
 * A leave or remove keeps at least N nodes in the ring.
 */
import type { RingChange } from '../core/ring-state.js';
import { Prng } from '../util/prng.js';
import type { ChangePlan } from './ring-changer.js';
import type { Scenario } from './scenario.js';

/** Whether runs make a membership change: never, on about half the seeds, or on every seed. */
export type MembershipMode = 'off' | 'sometimes' | 'always';

/** Share of seeds with a membership change in mode 'sometimes'. */
const CHANGE_RATE = 0.5;
/** Mixed into the seed for the change stream, so it is independent of the main one. */
const CHANGE_STREAM_SALT = 0x6d2b79f5;

/** The Prng of a seed's membership-change stream. */
export function changePrng(seed: number): Prng {
  return new Prng((seed ^ CHANGE_STREAM_SALT) >>> 0);
}

/** The kinds of change the scenario allows (see the file comment). */
function feasibleKinds(scenario: Scenario): Array<RingChange['kind']> {
  const { nodes, n, w } = scenario.sim;
  const kinds: Array<RingChange['kind']> = ['join'];
  if (nodes - 1 >= n) kinds.push('leave');
  if (nodes - 1 >= n && w >= 2) kinds.push('remove');
  return kinds;
}

/** The scenario with its membership change, if the mode and the draw say so. */
export function withChange(scenario: Scenario, prng: Prng, mode: MembershipMode): Scenario {
  if (mode === 'off') return scenario;
  // Drawn in both modes, so a seed that has a change in 'sometimes' has the same one in 'always'.
  const drawn = prng.chance(CHANGE_RATE);
  if (mode === 'sometimes' && !drawn) return scenario;
  const kind = prng.pick(feasibleKinds(scenario));
  const change: ChangePlan = { kind, atMs: Math.round(prng.float(0.1, 0.9) * scenario.safetyMs) };
  if (kind !== 'remove') return { ...scenario, change };
  const wipesMax = Math.min(scenario.faults.wipesMax ?? 0, scenario.sim.w - 2);
  return { ...scenario, change, faults: { ...scenario.faults, wipesMax } };
}
