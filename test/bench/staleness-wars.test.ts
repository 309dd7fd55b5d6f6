/**
 * The WARS Monte-Carlo model (src/bench/wars.ts) against answers known in closed form.
 */
import { describe, expect, it } from 'vitest';
import type { LatencyProfile } from '../../src/bench/profile.js';
import { loadProfile } from '../../src/bench/profile.js';
import {
  consistencyAt,
  runWars,
  type Topology,
  tAtConsistency,
  type WarsRun,
} from '../../src/bench/wars.js';

const TRIALS = 100_000;

function wars(
  profile: LatencyProfile,
  n: number,
  r: number,
  w: number,
  topology: Topology = 'pbs',
  trials = TRIALS,
  seed = 7,
): WarsRun {
  return runWars({ n, r, w, profile, topology, trials, seed });
}

/** Four standard deviations of a proportion estimated from `trials` draws, at least 0.004. */
function margin(p: number, trials = TRIALS): number {
  return Math.max(0.004, 4 * Math.sqrt((p * (1 - p)) / trials));
}

const CONSTANT: LatencyProfile = {
  w: { constant: 10 },
  a: { constant: 1 },
  r: { constant: 1 },
  s: { constant: 1 },
};

describe('WARS model, constant profile (w = 10 ms, a = r = s = 1 ms, N=3, R=W=1)', () => {
  it('pbs: every replica has the write (at 10) before the first ack commits it (at 11)', () => {
    const run = wars(CONSTANT, 3, 1, 1);
    for (const t of [0, 1, 5, 9, 10, 100]) expect(consistencyAt(run, t)).toBe(1);
    expect(tAtConsistency(run, 0.999)).toBe(0);
    expect(run.writeLatencyMs[0]).toBe(11);
    expect(run.writeLatencyMs.at(-1)).toBe(11);
    expect(run.readLatencyMs.every((ms) => ms === 2)).toBe(true);
  });

  it('local-write: the coordinator commits its own copy at 0, the others see it at 10', () => {
    // A read issued t after the commit reaches every replica at t + 1: replica 0 is fresh, the
    // other two are fresh iff 10 <= t + 1. All three replies arrive together at t + 2, so the
    // first one is any replica with probability 1/3: P = 1/3 for t < 9, exactly 1 from t = 9.
    const run = wars(CONSTANT, 3, 1, 1, 'local-write');
    for (const t of [0, 1, 5, 8.99]) {
      expect(Math.abs(consistencyAt(run, t) - 1 / 3)).toBeLessThan(margin(1 / 3));
    }
    for (const t of [9, 10, 50]) expect(consistencyAt(run, t)).toBe(1);
    expect(tAtConsistency(run, 0.999)).toBe(9);
    expect(run.writeLatencyMs.at(-1)).toBe(0);
  });

  it('local-write with R = 3: the coordinator’s own replica always answers', () => {
    const run = wars(CONSTANT, 3, 3, 1, 'local-write', 10_000);
    expect(consistencyAt(run, 0)).toBe(1);
  });
});

describe('WARS model, exponential writes (analytic)', () => {
  // w ~ exp(rate λ), a = r = 0, s ~ exp: a read reaches every replica at commit + t and its
  // first reply comes from a uniformly random replica. With W=1 the write commits at min w_i
  // (pbs) or at 0 on the coordinator's own replica (local-write); either way the other two
  // replicas get it an exp(λ) time later (memorylessness), so P(t) = 1 − (2/3)·e^(−λt).
  // With W=2 (pbs) only the last replica lags: P(t) = 1 − (1/3)·e^(−λt).
  const rate = 0.1;
  const profile: LatencyProfile = {
    w: { exp: { rate } },
    a: { constant: 0 },
    r: { constant: 0 },
    s: { exp: { rate: 1 } },
  };
  const cases = [
    { w: 1, topology: 'pbs', lag: 2 / 3 },
    { w: 1, topology: 'local-write', lag: 2 / 3 },
    { w: 2, topology: 'pbs', lag: 1 / 3 },
  ] as const;

  for (const { w, topology, lag } of cases) {
    it(`N=3 R=1 W=${w} ${topology}: P(t) = 1 − ${lag.toFixed(3)}·e^(−λt)`, () => {
      const run = wars(profile, 3, 1, w, topology);
      for (const t of [0, 1, 5, 10, 20, 40]) {
        const exact = 1 - lag * Math.exp(-rate * t);
        expect(Math.abs(consistencyAt(run, t) - exact)).toBeLessThan(margin(exact));
      }
      // P(t) = 0.999 at t = ln(lag / 0.001) / λ; 100 trials lie beyond it, so allow ±4 ms.
      const t999 = Math.log(lag / 0.001) / rate;
      expect(Math.abs(tAtConsistency(run, 0.999) - t999)).toBeLessThan(4);
    });
  }
});

describe('WARS model, R + W > N', () => {
  const shipped = ['lan-ssd', 'spinning-disk', 'wan'].map((name) =>
    loadProfile(new URL(`../../bench/profiles/${name}.json`, import.meta.url).pathname),
  );
  const heavy: LatencyProfile = {
    w: { pareto: { xm: 1, alpha: 0.8 } },
    a: { exp: { rate: 5 } },
    r: { lognormal: { mu: 0, sigma: 2 } },
    s: { pareto: { xm: 0.1, alpha: 1.1 } },
  };
  const configs = [
    [3, 2, 2],
    [3, 1, 3],
    [3, 3, 1],
    [5, 3, 3],
    [5, 2, 4],
    [1, 1, 1],
  ] as const;

  it('always reads the committed value at t = 0, in both topologies', () => {
    for (const profile of [...shipped, heavy, CONSTANT]) {
      for (const [n, r, w] of configs) {
        for (const topology of ['pbs', 'local-write'] as const) {
          const run = wars(profile, n, r, w, topology, 5_000);
          expect(consistencyAt(run, 0), `${n}/${r}/${w} ${topology}`).toBe(1);
          expect(tAtConsistency(run, 0.999)).toBe(0);
        }
      }
    }
  });

  it('does not when R + W <= N and writes are slow to spread', () => {
    expect(consistencyAt(wars(heavy, 3, 1, 2, 'pbs', 5_000), 0)).toBeLessThan(1);
    expect(consistencyAt(wars(heavy, 3, 2, 1, 'pbs', 5_000), 0)).toBeLessThan(1);
  });
});

describe('WARS model, mechanics', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const profile = loadProfile(new URL('../../bench/profiles/wan.json', import.meta.url).pathname);
    const a = wars(profile, 3, 1, 1, 'pbs', 2_000, 1);
    const b = wars(profile, 3, 1, 1, 'pbs', 2_000, 1);
    const c = wars(profile, 3, 1, 1, 'pbs', 2_000, 2);
    expect(a.tConsistentMs).toEqual(b.tConsistentMs);
    expect(a.tConsistentMs).not.toEqual(c.tConsistentMs);
  });

  it('answers P(t) and its inverse from the sorted per-trial thresholds', () => {
    const run: WarsRun = {
      tConsistentMs: Float64Array.from([-3, -1, 0, 2, 2, 5, 7, 8, 9, 20]),
      readLatencyMs: new Float64Array(10),
      writeLatencyMs: new Float64Array(10),
    };
    expect(consistencyAt(run, 0)).toBe(0.3);
    expect(consistencyAt(run, 2)).toBe(0.5);
    expect(consistencyAt(run, 19.9)).toBe(0.9);
    expect(consistencyAt(run, 20)).toBe(1);
    expect(tAtConsistency(run, 0.2)).toBe(0);
    expect(tAtConsistency(run, 0.5)).toBe(2);
    expect(tAtConsistency(run, 0.9)).toBe(9);
    expect(tAtConsistency(run, 0.999)).toBe(20);
  });

  it('runs 100 000 trials of N=3 quickly', () => {
    const profile = loadProfile(
      new URL('../../bench/profiles/lan-ssd.json', import.meta.url).pathname,
    );
    const run = wars(profile, 3, 2, 1);
    expect(run.tConsistentMs).toHaveLength(TRIALS);
  });
});
