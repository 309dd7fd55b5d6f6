/**
 * Ops/s and p99 latency over the last few seconds, from successive readings of the client
 * latency histogram: the difference of two cumulative readings is the histogram of the requests
 * in between, and its quantile is estimated by linear interpolation inside the bucket, as
 * Prometheus' histogram_quantile() does.
 */
import type { Histogram } from 'prom-client';
import { assert } from '../../core/assert.js';

export const TRAFFIC_OPS = ['get', 'put', 'delete', 'all'] as const;
export type TrafficOp = (typeof TRAFFIC_OPS)[number];

/** Cumulative request counts per bucket bound (seconds, ascending), and last the total (+Inf). */
export type Cumulative = readonly number[];
export type Reading = Readonly<Record<TrafficOp, Cumulative>>;

export interface OpTraffic {
  readonly perSec: number;
  /** p99 latency in ms; null when no request finished in the window. */
  readonly p99Ms: number | null;
}

export interface TrafficView {
  /**
   * The span the figures cover, in ms: at most the window's span; 0 (no figures yet) until
   * there are two readings within it, as after an idle gap.
   */
  readonly windowMs: number;
  readonly ops: Readonly<Record<TrafficOp, OpTraffic>>;
}

/** Readings kept; with a 500 ms tick and a 2 s span only a handful are ever needed. */
const READINGS_MAX = 64;

/** The histogram's cumulative bucket counts per op, and summed over ops as `all`. */
export async function readHistogram(
  histogram: Histogram<'op'>,
  bounds: readonly number[],
): Promise<Reading> {
  const empty = (): number[] => new Array<number>(bounds.length + 1).fill(0);
  const reading: Record<TrafficOp, number[]> = {
    get: empty(),
    put: empty(),
    delete: empty(),
    all: empty(),
  };
  const { values } = await histogram.get();
  for (const sample of values) {
    if (!sample.metricName?.endsWith('_bucket')) continue;
    const { le, op } = sample.labels as { le?: string | number; op?: string };
    const index = le === '+Inf' ? bounds.length : bounds.indexOf(Number(le));
    if (index < 0) continue;
    const row = reading[op as TrafficOp];
    if (row !== undefined && op !== 'all') row[index] = (row[index] ?? 0) + sample.value;
    reading.all[index] = (reading.all[index] ?? 0) + sample.value;
  }
  return reading;
}

/**
 * The q-quantile in ms of the requests counted in `delta` (a cumulative histogram over
 * `bounds` seconds, then +Inf); null when it counts none. A quantile in the +Inf bucket is
 * reported as the highest finite bound (the true value is at least that).
 */
export function quantileMs(bounds: readonly number[], delta: Cumulative, q: number): number | null {
  assert(delta.length === bounds.length + 1, 'delta must have one count per bound plus +Inf');
  assert(q > 0 && q <= 1, 'quantile must be in (0, 1]');
  const total = delta[bounds.length] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const count = delta[i] ?? 0;
    if (count < rank) continue;
    const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
    const below = i === 0 ? 0 : (delta[i - 1] ?? 0);
    const fraction = count > below ? (rank - below) / (count - below) : 1;
    return (lower + ((bounds[i] ?? 0) - lower) * fraction) * 1000;
  }
  return (bounds[bounds.length - 1] ?? 0) * 1000;
}

export class TrafficWindow {
  private readonly readings: { readonly atMs: number; readonly reading: Reading }[] = [];

  constructor(
    private readonly bounds: readonly number[],
    /** How far back ops/s and p99 look, in ms. */
    private readonly spanMs: number,
  ) {
    assert(spanMs > 0, 'spanMs must be positive');
  }

  /** Adds a reading taken at `atMs` and returns the figures since the oldest one in the span. */
  push(atMs: number, reading: Reading): TrafficView {
    this.readings.push({ atMs, reading });
    while (this.readings.length > READINGS_MAX) this.readings.shift();
    // Only readings within the span count: after an idle gap (no page open, so no ticks) the
    // previous reading is minutes old, and figures since then are no figures "over 2 s".
    while (this.readings.length > 1 && atMs - (this.readings[0]?.atMs ?? atMs) > this.spanMs) {
      this.readings.shift();
    }
    const oldest = this.readings[0]!;
    const windowMs = atMs - oldest.atMs;
    assert(windowMs <= this.spanMs, 'the figures never cover more than the span');
    const ops = {} as Record<TrafficOp, OpTraffic>;
    for (const op of TRAFFIC_OPS) {
      const delta = reading[op].map((count, i) => count - (oldest.reading[op][i] ?? 0));
      const total = delta[this.bounds.length] ?? 0;
      ops[op] = {
        perSec: windowMs > 0 ? (total * 1000) / windowMs : 0,
        p99Ms: quantileMs(this.bounds, delta, 0.99),
      };
    }
    return { windowMs, ops };
  }
}
