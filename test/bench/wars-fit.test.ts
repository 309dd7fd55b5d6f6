import { describe, expect, it } from 'vitest';
import type { LatencyProfile } from '../../src/bench/profile.js';
import { consistencyAt, runWars } from '../../src/bench/wars.js';
import { ADVISOR_T_MS, fitWars, mergeLatencies } from '../../src/bench/wars-fit.js';
import { DecayingHistogram, type WarsLatencies } from '../../src/core/latency-meter.js';
import { sampleDist } from '../../src/util/distributions.js';
import { Prng } from '../../src/util/prng.js';

/** Histograms filled with `count` draws per class from `profile`, as a node would measure them. */
function measured(profile: LatencyProfile, count: number, seed: number): WarsLatencies {
  const prng = new Prng(seed);
  const fill = (dist: LatencyProfile['w']) => {
    const h = new DecayingHistogram();
    for (let i = 0; i < count; i++) h.record(Math.max(0, sampleDist(dist, prng)));
    return h.snapshot();
  };
  return {
    halfLifeMs: 30_000,
    w: fill(profile.w),
    a: fill(profile.a),
    r: fill(profile.r),
    s: fill(profile.s),
  };
}

const PROFILES: ReadonlyArray<[string, LatencyProfile]> = [
  [
    'exponential, mean 5 ms',
    {
      w: { exp: { rate: 0.2 } },
      a: { exp: { rate: 0.2 } },
      r: { exp: { rate: 0.2 } },
      s: { exp: { rate: 0.2 } },
    },
  ],
  [
    'slow disk before the ack',
    {
      w: { lognormal: { mu: 1.5, sigma: 0.3 } },
      a: { lognormal: { mu: 2.5, sigma: 0.6 } },
      r: { lognormal: { mu: 1.5, sigma: 0.3 } },
      s: { lognormal: { mu: 1.5, sigma: 0.3 } },
    },
  ],
  [
    'heavy-tailed writes',
    {
      w: { pareto: { xm: 1, alpha: 1.5 } },
      a: { constant: 1 },
      r: { exp: { rate: 1 } },
      s: { exp: { rate: 1 } },
    },
  ],
];

const CASES = [
  ...PROFILES.map(([name, profile]) => [name, 0, profile] as const),
  // r + s has mean 10 ms: a targeted read speculates past 10 ms about 40 % of the time.
  [PROFILES[0]![0], 10, PROFILES[0]![1]] as const,
];

describe('fitWars', () => {
  it.each(CASES)(
    'reproduces the WARS model of the profile the histograms came from: %s, readSpeculateMs %d',
    (_name, readSpeculateMs, profile) => {
      const n = 3;
      const rows = fitWars(mergeLatencies([measured(profile, 40_000, 7)]), {
        n,
        trials: 40_000,
        seed: 3,
        readSpeculateMs,
      });
      expect(rows).toHaveLength(n * n);
      for (const row of rows) {
        const run = runWars({
          n,
          r: row.r,
          w: row.w,
          profile,
          topology: 'local-write',
          trials: 40_000,
          seed: 11,
          readSpeculateMs,
        });
        for (const [t, p] of row.consistency) {
          expect(Math.abs(p - consistencyAt(run, t)), `R=${row.r} W=${row.w} t=${t}`).toBeLessThan(
            0.025,
          );
        }
      }
    },
  );

  it('is deterministic for equal histograms and seed, and answers every t asked', () => {
    const h = mergeLatencies([measured(PROFILES[0]![1], 2_000, 1)]);
    const a = fitWars(h, { n: 3, trials: 5_000, seed: 9 });
    expect(fitWars(h, { n: 3, trials: 5_000, seed: 9 })).toEqual(a);
    expect(a[0]!.consistency.map(([t]) => t)).toEqual(ADVISOR_T_MS);
    expect(
      fitWars(h, { n: 3, trials: 100, seed: 9, tMs: [2, 3] })[0]!.consistency.map(([t]) => t),
    ).toEqual([2, 3]);
  });

  it('orders the answers as quorums must: more R or W is never less consistent, R+W>N always is', () => {
    const h = mergeLatencies([measured(PROFILES[1]![1], 5_000, 2)]);
    const rows = fitWars(h, { n: 3, trials: 10_000, seed: 5 });
    const at = (r: number, w: number) => rows.find((x) => x.r === r && x.w === w)!;
    for (const row of rows) {
      if (row.overlapping) expect(row.consistency[0]![1]).toBe(1);
      if (row.r < 3)
        expect(at(row.r + 1, row.w).consistency[0]![1]).toBeGreaterThanOrEqual(
          row.consistency[0]![1],
        );
      if (row.w < 3) expect(at(row.r, row.w + 1).writeP99Ms).toBeGreaterThanOrEqual(row.writeP99Ms);
    }
    expect(at(1, 1).consistency[0]![1]).toBeLessThan(1);
    expect(at(1, 1).writeP99Ms).toBe(0); // W=1: the coordinator's own copy (its persist is not modelled)
  });

  it('merges nodes bucket by bucket', () => {
    const one = measured(PROFILES[0]![1], 100, 1);
    const merged = mergeLatencies([one, one]);
    expect(merged.w.samples).toBe(200);
    expect(merged.w.weight).toBe(200);
    expect(merged.w.buckets.map(([i]) => i)).toEqual(one.w.buckets.map(([i]) => i));
  });
});
