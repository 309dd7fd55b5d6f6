/**
 * Summary statistics for the staleness benchmark: nearest-rank quantiles of sorted samples and
 * the latency summary of the result JSON. Pure functions over sorted Float64Arrays.
 */
import { assert } from '../core/assert.js';

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly mean: number;
}

/** The nearest-rank q-quantile (0 < q ≤ 1) of ascending samples: the smallest x with F(x) ≥ q. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  assert(sorted.length > 0, 'a quantile of no samples');
  assert(q > 0 && q <= 1, `quantile ${q} is in (0, 1]`);
  const index = Math.ceil(q * sorted.length - 1e-6) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, index))]!;
}

export function isSorted(samples: ArrayLike<number>): boolean {
  for (let i = 1; i < samples.length; i++) if (samples[i - 1]! > samples[i]!) return false;
  return true;
}

/** p50, p99, p99.9 and the mean of ascending samples, rounded to microseconds. */
export function latencySummary(sorted: ArrayLike<number>): LatencySummary {
  assert(isSorted(sorted), 'latency samples are sorted');
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    p50: roundMs(quantileSorted(sorted, 0.5)),
    p99: roundMs(quantileSorted(sorted, 0.99)),
    p999: roundMs(quantileSorted(sorted, 0.999)),
    mean: roundMs(sum / sorted.length),
  };
}

/** A duration in ms rounded to the microsecond: JSON without float noise. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Ascending copy of plain numbers as a Float64Array. */
export function sortedSamples(samples: readonly number[]): Float64Array {
  return Float64Array.from(samples).sort();
}
