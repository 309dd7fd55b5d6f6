/**
 * A latency histogram with bounded memory and bounded relative error: buckets grow
 * geometrically by `1 + precision` from `minMs` to `maxMs` (HdrHistogram's idea, in its
 * simplest form). With the defaults (1 µs .. 10 min, 1 %) it is about 2 000 counters, whatever
 * the number of samples, and every percentile is within 1 % of the true sample value (clamped to
 * the exact minimum and maximum seen).
 */
import { TIMEOUT_MS_MAX } from '../config.js';
import { assert } from '../core/assert.js';

export interface HistogramOptions {
  /** Smallest value told apart; anything smaller counts in the first bucket. @default 0.001 */
  readonly minMs: number;
  /**
   * Largest value told apart; anything larger counts in the last bucket. @default 600000 (the
   * longest request timeout, TIMEOUT_MS_MAX: no request takes longer)
   */
  readonly maxMs: number;
  /** Relative width of a bucket. @default 0.01 */
  readonly precision: number;
}

const DEFAULTS: HistogramOptions = { minMs: 0.001, maxMs: TIMEOUT_MS_MAX, precision: 0.01 };

/** A latency summary as reports and JSON carry it (ms). */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  /** The empirical CDF at a fixed set of probabilities: [ms, P(latency <= ms)] pairs. */
  readonly cdf: ReadonlyArray<readonly [number, number]>;
}

/** Probabilities the exported CDF is sampled at: every percent, then the tail. */
const CDF_PROBABILITIES: readonly number[] = [
  ...Array.from({ length: 100 }, (_, i) => i / 100),
  0.995,
  0.999,
  0.9999,
  1,
];

export class LatencyHistogram {
  private readonly options: HistogramOptions;
  private readonly counts: Float64Array;
  private readonly logBase: number;
  count = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  constructor(options: Partial<HistogramOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    const { minMs, maxMs, precision } = this.options;
    assert(minMs > 0 && maxMs > minMs, 'histogram range is positive and ordered');
    assert(precision > 0 && precision < 1, 'histogram precision in (0, 1)');
    this.logBase = Math.log1p(precision);
    this.counts = new Float64Array(Math.ceil(Math.log(maxMs / minMs) / this.logBase) + 1);
  }

  record(ms: number): void {
    assert(Number.isFinite(ms) && ms >= 0, `latency ${ms} is a non-negative number`);
    this.counts[this.bucketOf(ms)]!++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** Adds every sample of `other` (same options) to this one. */
  merge(other: LatencyHistogram): void {
    assert(other.counts.length === this.counts.length, 'merged histograms share their options');
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /** The value at quantile q (0..1): the upper edge of the bucket holding the ceil(q·count)-th sample. */
  quantile(q: number): number {
    assert(q >= 0 && q <= 1, `quantile ${q} in 0..1`);
    if (this.count === 0) return Number.NaN;
    if (q === 0) return this.min;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank >= this.count) return this.max;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Math.max(this.upperEdge(i), this.min), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    const empty = this.count === 0;
    const round = (x: number) => (Number.isNaN(x) ? x : Number(x.toPrecision(4)));
    return {
      count: this.count,
      meanMs: empty ? Number.NaN : round(this.sum / this.count),
      minMs: empty ? Number.NaN : round(this.min),
      maxMs: empty ? Number.NaN : round(this.max),
      p50: round(this.quantile(0.5)),
      p95: round(this.quantile(0.95)),
      p99: round(this.quantile(0.99)),
      p999: round(this.quantile(0.999)),
      cdf: empty ? [] : CDF_PROBABILITIES.map((p) => [round(this.quantile(p)), p] as const),
    };
  }

  private bucketOf(ms: number): number {
    if (ms <= this.options.minMs) return 0;
    const i = Math.ceil(Math.log(ms / this.options.minMs) / this.logBase);
    return Math.min(i, this.counts.length - 1);
  }

  private upperEdge(bucket: number): number {
    return this.options.minMs * Math.exp(bucket * this.logBase);
  }
}
