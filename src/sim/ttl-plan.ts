/**
 * Expiry in a swarm run: which share of puts carry a TTL, how long it is, and how far each
 * node's wall clock is off. Drawn from a stream of its own (`ttlPrng`), so a run whose plan is
 * "none" plays out exactly as before TTLs existed, and a run with a plan keeps the seed's
 * scenario, workload and fault draws (only the TTL choices come from this stream).
 *
 * Clock skew here is an offset per node between its wall clock (what expiry is judged by) and
 * true time, within ±clockSkewMaxMs; timer rates (scenario.ts timerRates) are separate.
 */
import { Prng } from '../util/prng.js';
import type { Scenario } from './scenario.js';
import type { TtlPlan } from './workload.js';

export type { TtlPlan } from './workload.js';

/** Whether runs write with TTLs: never, on about half the seeds, or on every seed. */
export type TtlMode = 'off' | 'sometimes' | 'always';

/** Share of seeds with TTL writes in mode 'sometimes'. */
const TTL_RATE = 0.5;
/** Mixed into the seed for the TTL stream, so it is independent of the others. */
const TTL_STREAM_SALT = 0x2545f491;
/** Largest clock offsets a plan picks from (0: clocks agree). */
const CLOCK_SKEWS_MS = [0, 5, 50, 250, 1000] as const;

/** The Prng of a seed's TTL stream. */
export function ttlPrng(seed: number): Prng {
  return new Prng((seed ^ TTL_STREAM_SALT) >>> 0);
}

/** The scenario with its TTL plan, if the mode and the draw say so. */
export function withTtl(scenario: Scenario, prng: Prng, mode: TtlMode): Scenario {
  if (mode === 'off') return scenario;
  if (mode === 'sometimes' && !prng.chance(TTL_RATE)) return scenario;
  const skewMaxMs = prng.pick(CLOCK_SKEWS_MS);
  const ttlMsMin = prng.int(20, 500);
  const plan: TtlPlan = {
    putRate: prng.float(0.2, 0.9),
    ttlMsMin,
    ttlMsMax: ttlMsMin + prng.int(0, 3000),
    clockOffsetsMs: Array.from({ length: scenario.sim.nodes }, () =>
      Math.round(prng.float(-skewMaxMs, skewMaxMs)),
    ),
  };
  return { ...scenario, ttl: plan };
}

/** The largest |offset| of a plan's clocks: what the expiry checks tolerate. */
export function clockSkewMs(plan: TtlPlan | undefined): number {
  if (plan === undefined) return 0;
  return Math.max(0, ...plan.clockOffsetsMs.map((offset) => Math.abs(offset)));
}
