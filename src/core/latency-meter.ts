/**
 * The four WARS latency classes (PBS, Bailis et al., VLDB 2012) measured on a node's real
 * traffic, for the staleness advisor (src/server/monitor/advisor.ts):
 *
 *   w  write request, coordinator → replica      a  its ack, replica → coordinator
 *   r  read request, coordinator → replica       s  read reply, replica → coordinator
 *
 * How, honestly across processes: the coordinator remembers when it sent an operation's
 * requests (its own clock) and measures each round trip on that clock alone, so w + a and
 * r + s are exact whatever the clocks. A replica stamps its ack or reply with the time the
 * request reached it (its own clock, `receivedAtMs`); the coordinator splits the round trip
 * there: w = receivedAt − sentAt, a = the rest (the replica's persist time lands in a, as it
 * should: a replica serves a write from memory as soon as it is received). That split assumes
 * the two clocks agree to well under the delays measured: exact between worker threads and
 * between processes on one host (one system clock), off by the skew between hosts (NTP:
 * usually < 1 ms). A split that skew pushes below 0 is clamped to [0, round trip]; a reply
 * without a stamp (an older peer) is split evenly.
 *
 * Histograms: logarithmic buckets (HdrHistogram's idea: ~2 % relative error, 0.01 ms .. 60 s,
 * under 800 counters per class, whatever the traffic) with fractional counts, so they decay:
 * every half-life the node halves every count (on its tick), and old traffic fades out while
 * the memory stays fixed. The meter never reads a clock itself: the runtime injects one.
 */
import { assert } from './assert.js';

export type LatencyClass = 'w' | 'a' | 'r' | 's';

export const LATENCY_CLASSES: readonly LatencyClass[] = ['w', 'a', 'r', 's'];

/** Smallest latency told apart (ms); anything below counts in bucket 0. */
export const LATENCY_MIN_MS = 0.01;
/** Largest latency told apart (ms); anything above counts in the last bucket. */
export const LATENCY_MAX_MS = 60_000;
/** Each bucket is this much wider than the one before (relative error ≤ 2 %). */
export const LATENCY_GROWTH = 1.02;
/**
 * Send times are remembered for operations among the last this many ids the node issued (timers
 * take ids too, so a few thousand operations); an older one's late replies are not measured.
 */
export const LATENCY_PENDING_IDS = 16_384;

/** A histogram as it crosses threads and HTTP: only its non-empty buckets. */
export interface HistogramSnapshot {
  /** Bucket i > 0 holds (minMs·growth^(i−1), minMs·growth^i]; bucket 0 holds [0, minMs]. */
  readonly minMs: number;
  readonly growth: number;
  /** [bucket index, decayed count], ascending by index. */
  readonly buckets: ReadonlyArray<readonly [number, number]>;
  /** Sum of the decayed counts. */
  readonly weight: number;
  /** Samples recorded since the node started (not decayed). */
  readonly samples: number;
}

/** One node's four histograms. */
export interface WarsLatencies {
  readonly halfLifeMs: number;
  readonly w: HistogramSnapshot;
  readonly a: HistogramSnapshot;
  readonly r: HistogramSnapshot;
  readonly s: HistogramSnapshot;
}

/** The bounds (ms) of bucket `index` of a histogram with these parameters. */
export function bucketBounds(minMs: number, growth: number, index: number): [number, number] {
  assert(Number.isInteger(index) && index >= 0, 'a bucket index is a non-negative integer');
  if (index === 0) return [0, minMs];
  return [minMs * growth ** (index - 1), minMs * growth ** index];
}

export class DecayingHistogram {
  private readonly counts: Float64Array;
  private readonly logGrowth = Math.log(LATENCY_GROWTH);
  private weight = 0;
  private samples = 0;

  constructor() {
    const buckets = Math.ceil(Math.log(LATENCY_MAX_MS / LATENCY_MIN_MS) / this.logGrowth) + 1;
    this.counts = new Float64Array(buckets);
  }

  record(ms: number): void {
    assert(Number.isFinite(ms) && ms >= 0, `latency ${ms} is a finite non-negative number`);
    const index =
      ms <= LATENCY_MIN_MS
        ? 0
        : Math.min(
            this.counts.length - 1,
            Math.ceil(Math.log(ms / LATENCY_MIN_MS) / this.logGrowth - 1e-9),
          );
    this.counts[index]! += 1;
    this.weight += 1;
    this.samples++;
  }

  /** Multiplies every count by `factor` (0 < factor ≤ 1); counts too small to matter become 0. */
  decay(factor: number): void {
    assert(factor > 0 && factor <= 1, 'a decay factor is in (0, 1]');
    let weight = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const next = this.counts[i]! * factor;
      this.counts[i] = next < 1e-6 ? 0 : next;
      weight += this.counts[i]!;
    }
    this.weight = weight;
  }

  snapshot(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i]!;
      if (count > 0) buckets.push([i, count]);
    }
    return {
      minMs: LATENCY_MIN_MS,
      growth: LATENCY_GROWTH,
      buckets,
      weight: this.weight,
      samples: this.samples,
    };
  }
}

export class LatencyMeter {
  private readonly histograms: Record<LatencyClass, DecayingHistogram> = {
    w: new DecayingHistogram(),
    a: new DecayingHistogram(),
    r: new DecayingHistogram(),
    s: new DecayingHistogram(),
  };
  /**
   * Send time per operation id, in slot `id mod LATENCY_PENDING_IDS` (a newer id takes the slot
   * over). Kept past the operation's quorum on purpose: the replies after the R-th / acks after
   * the W-th are the slow ones, and dropping them would bias every class fast. Typed arrays, not
   * a Map evicting its oldest key: that walked the holes of earlier deletes (1.2 µs per op).
   */
  private readonly sentIds = new Float64Array(LATENCY_PENDING_IDS).fill(-1);
  private readonly sentAtMs = new Float64Array(LATENCY_PENDING_IDS);
  /** 1 for a put, 2 for a get. */
  private readonly sentKinds = new Uint8Array(LATENCY_PENDING_IDS);
  private lastDecayMs: number;

  constructor(
    private readonly clock: () => number,
    readonly halfLifeMs: number,
  ) {
    assert(halfLifeMs > 0, 'a half-life is positive');
    this.lastDecayMs = clock();
  }

  /** The clock replicas stamp `receivedAtMs` with. */
  now(): number {
    return this.clock();
  }

  /** Operation `opId` sent its requests to the replicas now. */
  sentOp(opId: number, kind: 'put' | 'get'): void {
    assert(Number.isSafeInteger(opId) && opId >= 0, 'an operation id is a non-negative integer');
    const slot = opId % LATENCY_PENDING_IDS;
    this.sentIds[slot] = opId;
    this.sentAtMs[slot] = this.clock();
    this.sentKinds[slot] = kindCode(kind);
  }

  /**
   * A replica answered operation `opId` (an ack or a read reply), stamped with when the request
   * reached it (its clock), or undefined without a stamp. Unknown operations are ignored.
   */
  answered(opId: number, kind: 'put' | 'get', receivedAtMs: number | undefined): void {
    const slot = opId % LATENCY_PENDING_IDS;
    if (this.sentIds[slot] !== opId || this.sentKinds[slot] !== kindCode(kind)) return;
    const sentAtMs = this.sentAtMs[slot]!;
    const roundTripMs = Math.max(0, this.clock() - sentAtMs);
    const stamped = receivedAtMs !== undefined && Number.isFinite(receivedAtMs);
    const outMs = stamped
      ? Math.min(roundTripMs, Math.max(0, receivedAtMs - sentAtMs))
      : roundTripMs / 2;
    const { w, a, r, s } = this.histograms;
    (kind === 'put' ? w : r).record(outMs);
    (kind === 'put' ? a : s).record(roundTripMs - outMs);
  }

  /** Halves every count once per half-life elapsed (called on the node's tick). */
  tick(): void {
    const elapsedMs = this.clock() - this.lastDecayMs;
    if (elapsedMs < this.halfLifeMs) return;
    const halvings = Math.min(64, Math.floor(elapsedMs / this.halfLifeMs));
    for (const name of LATENCY_CLASSES) this.histograms[name].decay(0.5 ** halvings);
    this.lastDecayMs += halvings * this.halfLifeMs;
    if (this.clock() - this.lastDecayMs >= this.halfLifeMs) this.lastDecayMs = this.clock();
  }

  snapshot(): WarsLatencies {
    const { w, a, r, s } = this.histograms;
    return {
      halfLifeMs: this.halfLifeMs,
      w: w.snapshot(),
      a: a.snapshot(),
      r: r.snapshot(),
      s: s.snapshot(),
    };
  }
}

/** The value at quantile q (0..1) of a snapshot: its bucket's upper edge; NaN when empty. */
export function quantileOf(histogram: HistogramSnapshot, q: number): number {
  assert(q >= 0 && q <= 1, `quantile ${q} is in 0..1`);
  if (histogram.weight <= 0 || histogram.buckets.length === 0) return Number.NaN;
  const rank = q * histogram.weight;
  let seen = 0;
  for (const [index, count] of histogram.buckets) {
    seen += count;
    if (seen >= rank) return bucketBounds(histogram.minMs, histogram.growth, index)[1];
  }
  const last = histogram.buckets[histogram.buckets.length - 1]![0];
  return bucketBounds(histogram.minMs, histogram.growth, last)[1];
}

function kindCode(kind: 'put' | 'get'): number {
  return kind === 'put' ? 1 : 2;
}
