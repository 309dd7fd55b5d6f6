/**
 * The staleness advisor's model: the WARS Monte-Carlo of wars.ts, fitted to latency histograms
 * measured on real traffic (core/latency-meter.ts) instead of a profile, answered for every
 * (R, W) with R, W ≤ N at once.
 *
 * The fit is the empirical distribution itself: a draw picks a bucket by its (decayed) weight
 * and a point uniformly inside it, so the model reproduces the measured distribution to the
 * histogram's 2 % bucket width, tails included, with no parametric shape assumed. Every trial
 * draws N replicas' (w, a, r, s) once and evaluates every (R, W) on the same draws (common
 * random numbers, as the PBS simulator does), so the table's rows are comparable and the cost is
 * one set of draws. Deterministic for equal histograms and seed.
 *
 * Topology `local-write` (see wars.ts): a put is coordinated by a replica of its key, whose own
 * copy takes no message (w_0 = a_0 = 0); the read is coordinated by a node outside the key's
 * replica set, so all N read requests and replies take their delays. That is the worst case a
 * ringkv read meets: a read coordinated by the write's coordinator itself always sees the write
 * (its own instant reply is among the first R). Write latency counts from the coordinator's
 * fan-out: its own persist, before the fan-out, is not in the model.
 */
import { assert } from '../core/assert.js';
import {
  bucketBounds,
  type HistogramSnapshot,
  LATENCY_CLASSES,
  type LatencyClass,
  type WarsLatencies,
} from '../core/latency-meter.js';
import { partitionPoint } from '../core/partition-point.js';
import { Prng } from '../util/prng.js';
import {
  type ClassSampler,
  checkSpeculateMs,
  consistencyAt,
  Trial,
  tAtConsistency,
  type WarsRun,
} from './wars.js';

/** The read delays (ms after the write's ack) every answer reports P(consistent) at. */
export const ADVISOR_T_MS: readonly number[] = [0, 1, 10, 100];
/** The P(consistent) whose t every answer reports. */
export const ADVISOR_TARGET_P = 0.999;
/** Largest N the advisor models (N² rows, each keeping its trials). */
export const ADVISOR_N_MAX = 16;
/** Most trial values kept in memory at once, over all rows. */
const ADVISOR_VALUES_MAX = 4_000_000;

export interface FitOptions {
  readonly n: number;
  readonly trials: number;
  readonly seed: number;
  /** The cluster's readSpeculateMs: how its gets fan out (wars.ts). @default 0 */
  readonly readSpeculateMs?: number;
  /** The read delays to answer P(consistent) at. @default ADVISOR_T_MS */
  readonly tMs?: readonly number[];
}

export interface AdvisorRow {
  readonly r: number;
  readonly w: number;
  /** R + W > N: every read quorum meets every write quorum (without sloppy stand-ins). */
  readonly overlapping: boolean;
  /** [t ms after the ack, P(a read then returns the write)] at each t asked (ADVISOR_T_MS). */
  readonly consistency: ReadonlyArray<readonly [number, number]>;
  /** The smallest t (ms) where P(consistent) reaches ADVISOR_TARGET_P. */
  readonly tAtTargetMs: number;
  readonly readP99Ms: number;
  readonly writeP99Ms: number;
}

/** One class's histogram as a sampler: cumulative weights over its non-empty buckets. */
class BucketSampler {
  private readonly cumulative: Float64Array;
  private readonly low: Float64Array;
  private readonly high: Float64Array;

  constructor(histogram: HistogramSnapshot) {
    const { buckets, minMs, growth } = histogram;
    assert(buckets.length > 0, 'a sampled histogram has samples');
    this.cumulative = new Float64Array(buckets.length);
    this.low = new Float64Array(buckets.length);
    this.high = new Float64Array(buckets.length);
    let sum = 0;
    buckets.forEach(([index, count], i) => {
      assert(count > 0, 'snapshot buckets are non-empty');
      sum += count;
      this.cumulative[i] = sum;
      const [low, high] = bucketBounds(minMs, growth, index);
      this.low[i] = low;
      this.high[i] = high;
    });
  }

  sample(prng: Prng): number {
    const total = this.cumulative[this.cumulative.length - 1]!;
    const u = prng.next01() * total;
    // The first bucket whose cumulative count passes u (the last one if rounding says none).
    const last = this.cumulative.length - 1;
    const i = partitionPoint(last, (j) => this.cumulative[j]! <= u);
    return this.low[i]! + prng.next01() * (this.high[i]! - this.low[i]!);
  }
}

/** Sums the nodes' histograms class by class (they share bucket parameters). */
export function mergeLatencies(
  nodes: readonly WarsLatencies[],
): Record<LatencyClass, HistogramSnapshot> {
  const merged = {} as Record<LatencyClass, HistogramSnapshot>;
  for (const name of LATENCY_CLASSES) {
    const counts = new Map<number, number>();
    let weight = 0;
    let samples = 0;
    let params: { minMs: number; growth: number } | null = null;
    for (const node of nodes) {
      const h = node[name];
      if (params === null) params = { minMs: h.minMs, growth: h.growth };
      assert(h.minMs === params.minMs && h.growth === params.growth, 'histograms share buckets');
      for (const [index, count] of h.buckets) counts.set(index, (counts.get(index) ?? 0) + count);
      weight += h.weight;
      samples += h.samples;
    }
    const buckets = [...counts.entries()].sort((x, y) => x[0] - y[0]);
    const { minMs, growth } = params ?? { minMs: 0.01, growth: 1.02 };
    merged[name] = { minMs, growth, buckets, weight, samples };
  }
  return merged;
}

/** The trials one answer runs: `trials`, fewer when N² rows would hold too many values. */
export function trialsFor(n: number, trials: number): number {
  return Math.max(1, Math.min(trials, Math.floor(ADVISOR_VALUES_MAX / (n * n + 2 * n))));
}

/** Every (R, W) row for these histograms. Deterministic for equal input. */
export function fitWars(
  histograms: Record<LatencyClass, HistogramSnapshot>,
  options: FitOptions,
): AdvisorRow[] {
  const { n, seed } = options;
  const speculateMs = options.readSpeculateMs ?? 0;
  checkSpeculateMs(speculateMs);
  assert(Number.isInteger(n) && n >= 1 && n <= ADVISOR_N_MAX, `n ${n} is in 1..${ADVISOR_N_MAX}`);
  assert(Number.isInteger(options.trials) && options.trials >= 1, 'at least one trial');
  const trials = trialsFor(n, options.trials);
  const samplers = {
    w: new BucketSampler(histograms.w),
    a: new BucketSampler(histograms.a),
    r: new BucketSampler(histograms.r),
    s: new BucketSampler(histograms.s),
  };
  const prng = new Prng(seed);
  // tStar[(r-1)*n + (w-1)][k]: from which t trial k's read with R=r after a W=w write is fresh.
  const tStar = Array.from({ length: n * n }, () => new Float64Array(trials));
  const readMs = Array.from({ length: n }, () => new Float64Array(trials));
  const writeMs = Array.from({ length: n }, () => new Float64Array(trials));
  const trial = new Trial(n);
  const sample: ClassSampler = (c) => samplers[c].sample(prng);
  for (let k = 0; k < trials; k++) {
    trial.draw(sample, prng, true);
    for (let w = 1; w <= n; w++) writeMs[w - 1]![k] = trial.commit[w - 1]!;
    for (let r = 1; r <= n; r++) {
      readMs[r - 1]![k] = trial.read(r, speculateMs);
      for (let w = 1; w <= n; w++) {
        tStar[(r - 1) * n + (w - 1)]![k] = trial.tConsistent(trial.commit[w - 1]!);
      }
    }
  }
  for (const values of [...tStar, ...readMs, ...writeMs]) values.sort();
  return rows(n, options.tMs ?? ADVISOR_T_MS, tStar, readMs, writeMs);
}

function rows(
  n: number,
  tMs: readonly number[],
  tStar: readonly Float64Array[],
  readMs: readonly Float64Array[],
  writeMs: readonly Float64Array[],
): AdvisorRow[] {
  const out: AdvisorRow[] = [];
  const round = (x: number) => Number(x.toPrecision(4));
  for (let r = 1; r <= n; r++) {
    for (let w = 1; w <= n; w++) {
      const run: WarsRun = {
        tConsistentMs: tStar[(r - 1) * n + (w - 1)]!,
        readLatencyMs: readMs[r - 1]!,
        writeLatencyMs: writeMs[w - 1]!,
      };
      out.push({
        r,
        w,
        overlapping: r + w > n,
        consistency: tMs.map((t) => [t, consistencyAt(run, t)] as const),
        tAtTargetMs: round(tAtConsistency(run, ADVISOR_TARGET_P)),
        readP99Ms: round(quantile(run.readLatencyMs, 0.99)),
        writeP99Ms: round(quantile(run.writeLatencyMs, 0.99)),
      });
    }
  }
  return out;
}

function quantile(sorted: Float64Array, q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}
