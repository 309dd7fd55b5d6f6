/**
 * The WARS model's read path (src/bench/wars.ts): readSpeculateMs 0 is the old fan-out to all N
 * replicas, bit for bit; S > 0 is a targeted read that asks the spares only after S ms.
 */
import { describe, expect, it } from 'vitest';
import type { LatencyProfile } from '../../src/bench/profile.js';
import {
  type ClassSampler,
  consistencyAt,
  runWars,
  type Topology,
  Trial,
} from '../../src/bench/wars.js';
import { sampleDist } from '../../src/util/distributions.js';
import { Prng } from '../../src/util/prng.js';

const PROFILE: LatencyProfile = {
  w: { exp: { rate: 0.2 } },
  a: { exp: { rate: 1 } },
  r: { exp: { rate: 0.5 } },
  s: { lognormal: { mu: 0, sigma: 0.5 } },
};

const sum = (xs: Float64Array) => xs.reduce((x, y) => x + y, 0);

describe('WARS model with readSpeculateMs 0 (every replica asked at once)', () => {
  // Sums of the sorted per-trial figures printed by the model before targeted reads existed.
  const BEFORE: ReadonlyArray<[Topology, number, number, [number, number, number]]> = [
    ['local-write', 1, 1, [2684.611396091391, 1727.7537680040273, 0]],
    ['pbs', 2, 1, [-1311.7401219901633, 2879.6316613273207, 2431.424591732924]],
    ['local-write', 2, 2, [-3874.1811341633547, 2846.9411113923675, 3332.7668574798563]],
  ];
  it.each(BEFORE)('gives the same figures as before: %s R=%d W=%d', (topology, r, w, sums) => {
    for (const readSpeculateMs of [undefined, 0]) {
      const options = { n: 3, r, w, profile: PROFILE, topology, trials: 1000, seed: 11 };
      const run = runWars(
        readSpeculateMs === undefined ? options : { ...options, readSpeculateMs },
      );
      expect([sum(run.tConsistentMs), sum(run.readLatencyMs), sum(run.writeLatencyMs)]).toEqual(
        sums,
      );
    }
  });

  it('equals the old loop (R fastest of N, t* over them) trial by trial', () => {
    const n = 5;
    const r = 2;
    const w = 2;
    const run = runWars({ n, r, w, profile: PROFILE, topology: 'pbs', trials: 500, seed: 5 });
    // The old runWars loop, on the same draws: the same PRNG stream through Trial.draw.
    const prng = new Prng(5);
    const trial = new Trial(n);
    const sample: ClassSampler = (c) => Math.max(0, sampleDist(PROFILE[c], prng));
    const tStars: number[] = [];
    const reads: number[] = [];
    for (let k = 0; k < 500; k++) {
      trial.draw(sample, prng, false);
      const commitMs = trial.commit[w - 1]!;
      let tStar = Number.POSITIVE_INFINITY;
      for (let j = 0; j < r; j++) {
        const i = trial.order[j]!;
        tStar = Math.min(tStar, trial.write[i]! - commitMs - trial.readReq[i]!);
      }
      tStars.push(tStar);
      reads.push(trial.replyAt(r - 1));
    }
    expect([...run.tConsistentMs]).toEqual(tStars.sort((x, y) => x - y));
    expect([...run.readLatencyMs]).toEqual(reads.sort((x, y) => x - y));
  });
});

/** A sampler that hands out scripted delays in draw order (per replica: w, a, r, s). */
function scripted(values: readonly number[]): ClassSampler {
  let next = 0;
  return () => {
    expect(next).toBeLessThan(values.length);
    return values[next++]!;
  };
}

describe('Trial.read: a targeted read (S > 0, R < N), hand-checked', () => {
  // local-write, N=3, W=1: replica 0 (the writer) has the write at 0 and commits it at 0. Draw
  // order: replica 0 r, s; replicas 1 and 2 w, a, r, s.
  const S = 20;
  function trialOf(r0: number, spare1: [number, number], spare2: [number, number]): Trial {
    const trial = new Trial(3);
    const values = [r0, 0, 30, 1, spare1[0], spare1[1], 30, 1, spare2[0], spare2[1]];
    trial.draw(scripted(values), new Prng(1), true);
    expect(trial.commit[0]).toBe(0);
    return trial;
  }

  it('answers from the writer when it replies within S: always consistent', () => {
    const trial = trialOf(15, [1, 1], [1, 1]); // the spares would have been faster
    expect(trial.read(1, S)).toBe(15);
    expect(trial.tConsistent(0)).toBe(-15); // w_0 − commit − r_0 = 0 − 0 − 15
    expect(trial.read(1, 0)).toBe(2); // asking all: a spare answers first
    expect(trial.tConsistent(0)).toBe(30 - 0 - 1); // …and is fresh from t = 29 on
  });

  it('speculates at S when the writer is slower; a faster spare answers, fresh iff it saw the write', () => {
    // Writer replies at 50. Spare 1 is asked at 20, reached at 22, replies at 25: it has the
    // write (at 30) iff 30 ≤ t + 20 + 2, i.e. from t = 8 on. Spare 2 replies at 20 + 40.
    const trial = trialOf(50, [2, 3], [40, 0]);
    expect(trial.read(1, S)).toBe(25);
    expect(trial.tConsistent(0)).toBe(8);
    // R = 2: asks replicas 0 and 1 (1 replies at 5, 0 at 50 > S): at 20 spare 2 too, whose
    // reply (60) comes after the writer's: replicas 1 and 0 answer, and 0 is fresh.
    expect(trial.read(2, S)).toBe(50);
    expect(trial.tConsistent(0)).toBe(-50);
  });

  it('keeps the writer when the spares, asked late, are slower still', () => {
    const trial = trialOf(50, [20, 15], [40, 0]); // spares reply at 55 and 60
    expect(trial.read(1, S)).toBe(50);
    expect(trial.tConsistent(0)).toBe(-50);
  });
});

describe('runWars with readSpeculateMs, a profile checkable by hand', () => {
  // local-write, N=3, R=W=1, w = 20 ms, a = s = 0, r = 1 or 30 ms (even odds), S = 10. The
  // writer commits at 0 and is asked first. r_0 = 1: it answers at 1, fresh. r_0 = 30: at 10
  // the spares are asked; one with r = 1 answers at 11 (before the writer's 30), fresh iff
  // 20 ≤ t + 10 + 1, i.e. from t = 9; with both spares at 30 (replies at 40) the writer
  // answers. P(stale at t < 9) = P(r_0 = 30) · P(some spare has r = 1) = 1/2 · 3/4 = 3/8.
  const profile: LatencyProfile = {
    w: { constant: 20 },
    a: { constant: 0 },
    r: {
      mix: [
        { weight: 1, dist: { constant: 1 } },
        { weight: 1, dist: { constant: 30 } },
      ],
    },
    s: { constant: 0 },
  };
  const trials = 100_000;
  const run = runWars({
    n: 3,
    r: 1,
    w: 1,
    profile,
    topology: 'local-write',
    trials,
    seed: 3,
    readSpeculateMs: 10,
  });
  const margin = 4 * Math.sqrt((0.375 * 0.625) / trials);

  it('is stale 3/8 of the time before t = 9, never from t = 9 on', () => {
    for (const t of [0, 5, 8.99])
      expect(Math.abs(consistencyAt(run, t) - 0.625)).toBeLessThan(margin);
    for (const t of [9, 20]) expect(consistencyAt(run, t)).toBe(1);
  });

  it('answers at 1 ms (1/2), 11 ms (3/8) or 30 ms (1/8)', () => {
    const share = (ms: number) => run.readLatencyMs.filter((x) => x === ms).length / trials;
    expect(Math.abs(share(1) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(share(11) - 0.375)).toBeLessThan(0.01);
    expect(Math.abs(share(30) - 0.125)).toBeLessThan(0.01);
    expect(share(1) + share(11) + share(30)).toBe(1);
  });

  it('with S = 0 asks everyone: the first reply is a random fastest replica', () => {
    // Fresh before t = 19 only if the writer is among the fastest and wins the tie.
    const fanOut = runWars({ n: 3, r: 1, w: 1, profile, topology: 'local-write', trials, seed: 3 });
    expect(consistencyAt(fanOut, 0)).toBeLessThan(0.5);
  });
});
