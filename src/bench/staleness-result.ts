/**
 * The result of one `ringkv bench staleness` run: the JSON written by `--json OUT` (and read by
 * the HTML report). The fields come first and keep their meaning in every mode:
 *
 *   { "n": 3, "r": 1, "w": 1, "mode": "sim", "trials": 100000,
 *     "consistency": [{ "t": 0, "p": 0.97 }, …], "t999": 1.9,
 *     "latency": { "read": { "p50", "p99", "p999" }, "write": { … } },
 *     "kStaleness": [{ "k": 1, "p": 0.33 }, …] }
 *
 * - `t` and every latency are in milliseconds; `p` is P(the read returns the latest committed
 *   value) for a read issued t ms after the write was acknowledged.
 * - `t999` is the smallest t ≥ 0 with p ≥ 0.999. In `sim` mode it is searched over the whole
 *   simulated distribution; in `core` and `real` mode only over the measured `t` list, and null
 *   when no measured t reaches 0.999.
 * - `trials`: in `sim` mode every trial answers for every t (common random numbers); in `core`
 *   and `real` mode each t has `trials` trials of its own (`consistency[].trials` says how many
 *   finished, which can be fewer when `real` hits its time limit).
 *
 * Extra fields: `schema`, `topology`, `readSpeculateMs` (how a get fans out, see wars.ts),
 * `nodes`, `seed`, `profile` (name and distributions),
 * `latency.*.mean`, `failures` (trials whose put or get failed; not counted in p), `elapsedMs`,
 * and for `real` mode `consistency[].tActualMs` (the mean measured gap between ack and get).
 */
import type { Dist } from '../util/distributions.js';
import { kStaleness } from './kstaleness.js';
import type { LatencyProfile } from './profile.js';
import type { LatencySummary } from './staleness-stats.js';
import type { Topology } from './wars.js';

export const STALENESS_SCHEMA = 'ringkv.bench.staleness/1';

export type StalenessMode = 'sim' | 'core' | 'real';

export const STALENESS_MODES: readonly StalenessMode[] = ['sim', 'core', 'real'];

export interface ConsistencyPoint {
  readonly t: number;
  readonly p: number;
  /** Trials behind this p (core and real mode). */
  readonly trials?: number;
  /** Real mode: the mean measured time from the put's ack to sending the get, in ms. */
  readonly tActualMs?: number;
}

export interface StalenessResult {
  readonly schema: typeof STALENESS_SCHEMA;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly mode: StalenessMode;
  readonly topology: Topology;
  /** The read path: 0 asks every replica at once, S > 0 asks R and the rest after S ms. */
  readonly readSpeculateMs: number;
  readonly trials: number;
  readonly consistency: readonly ConsistencyPoint[];
  readonly t999: number | null;
  readonly latency: { readonly read: LatencySummary; readonly write: LatencySummary };
  readonly kStaleness: readonly { readonly k: number; readonly p: number }[];
  /** Nodes of the cluster (core and real mode; the model has none beyond the replicas). */
  readonly nodes: number | null;
  readonly seed: number;
  readonly profile: {
    readonly name: string;
    readonly w: Dist;
    readonly a: Dist;
    readonly r: Dist;
    readonly s: Dist;
  };
  readonly failures: number;
  readonly elapsedMs: number;
}

/** Everything but the measured parts: the fields that describe the run. */
export interface StalenessRunInfo {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly mode: StalenessMode;
  readonly topology: Topology;
  readonly readSpeculateMs: number;
  readonly trials: number;
  readonly nodes: number | null;
  readonly seed: number;
  readonly profileName: string;
  readonly profile: LatencyProfile;
}

export interface StalenessMeasured {
  readonly consistency: readonly ConsistencyPoint[];
  readonly t999: number | null;
  readonly read: LatencySummary;
  readonly write: LatencySummary;
  readonly failures: number;
  readonly elapsedMs: number;
}

export function stalenessResult(info: StalenessRunInfo, measured: StalenessMeasured) {
  const { n, r, w, profile } = info;
  const result: StalenessResult = {
    schema: STALENESS_SCHEMA,
    n,
    r,
    w,
    mode: info.mode,
    topology: info.topology,
    readSpeculateMs: info.readSpeculateMs,
    trials: info.trials,
    consistency: measured.consistency,
    t999: measured.t999,
    latency: { read: measured.read, write: measured.write },
    kStaleness: kStaleness(n, r, w, 5),
    nodes: info.nodes,
    seed: info.seed,
    profile: { name: info.profileName, w: profile.w, a: profile.a, r: profile.r, s: profile.s },
    failures: measured.failures,
    elapsedMs: Math.round(measured.elapsedMs),
  };
  return result;
}

/** The smallest measured t whose p reaches `p` (core and real mode), or null. */
export function tReaching(points: readonly ConsistencyPoint[], p: number): number | null {
  const reached = points.filter((point) => point.p >= p).map((point) => point.t);
  return reached.length === 0 ? null : Math.min(...reached);
}
