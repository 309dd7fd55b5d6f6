/**
 * The WARS Monte-Carlo model of one quorum write followed by one quorum read (PBS, Bailis et
 * al., VLDB 2012, section 5): per trial and per replica i it draws w_i, a_i, r_i, s_i from the
 * profile. The write is sent to all N replicas at time 0 and commits at the W-th smallest
 * w_i + a_i. A read issued t ms after the commit reaches replica i at commit + t + r_i and sees
 * the new version there iff w_i ≤ commit + t + r_i (a write and a read arriving at the same
 * instant: the write is applied first). The read returns after the R fastest replies (smallest
 * r_i + s_i; exact ties broken uniformly at random) and is consistent iff one of them saw the
 * new version.
 *
 * Which replicas are first does not depend on t, so a trial is consistent exactly from
 * t* = min over the R first responders of (w_i − commit − r_i) on; the run keeps the sorted t*
 * of every trial and answers P(consistent at t) for any t with one binary search (the same
 * draws serve every t: common random numbers, as in the PBS paper's simulator).
 *
 * Topologies — where the coordinators sit:
 * - `pbs`: the model. The coordinator is not one of the N replicas, so every one of the
 *   4N messages takes its class's delay.
 * - `local-write`: what a ringkv cluster does. A put is coordinated by a replica of the key (only
 *   a replica may issue the key's next dot), which writes its own copy in the same step, without
 *   a message: replica 0 has w_0 = a_0 = 0. The read is coordinated by a node outside the key's
 *   replica set, so all N read requests and replies take their delays. (A read coordinated by
 *   the writing replica itself is always consistent: its own, instant reply is among the first
 *   R.) This is the topology the real NodeCore can be checked against (staleness-core.ts) and the
 *   one `--mode real` measures: making the coordinator's own replica wait would need a change in
 *   src/core, where self-addressed messages are delivered within the step.
 *
 * Read fan-out: the model reads from the R fastest of all N replicas, which is ringkv's read path
 * with readSpeculateMs = 0, and the staleness benchmarks run their clusters that way. By default
 * ringkv asks R replicas in preference order (targeted reads, src/core/read-targets.ts): in the
 * local-write topology replica 0, the writer, is asked first, so such a read is stale only when
 * it speculates past a replica slower than readSpeculateMs. The model does not describe that
 * path yet; for it, its figures are pessimistic.
 */
import { assert } from '../core/assert.js';
import { sampleDist } from '../util/distributions.js';
import { Prng } from '../util/prng.js';
import type { LatencyProfile, WarsClass } from './profile.js';

export type Topology = 'pbs' | 'local-write';

export const TOPOLOGIES: readonly Topology[] = ['pbs', 'local-write'];

/** Most trials one run may draw (memory: three Float64Arrays of this length). */
export const WARS_TRIALS_MAX = 10_000_000;
/** Most replicas the model takes. */
export const WARS_N_MAX = 64;

export interface WarsOptions {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly profile: LatencyProfile;
  readonly topology: Topology;
  readonly trials: number;
  readonly seed: number;
}

export interface WarsRun {
  /** Per trial, the t (ms after commit) from which the read is consistent; sorted ascending. */
  readonly tConsistentMs: Float64Array;
  /** Read latency (R-th fastest reply) per trial, sorted ascending. */
  readonly readLatencyMs: Float64Array;
  /** Write latency (W-th ack, the commit) per trial, sorted ascending. */
  readonly writeLatencyMs: Float64Array;
}

export function checkQuorums(n: number, r: number, w: number): void {
  assert(Number.isInteger(n) && n >= 1 && n <= WARS_N_MAX, `n ${n} is in 1..${WARS_N_MAX}`);
  assert(Number.isInteger(r) && r >= 1 && r <= n, `r ${r} is in 1..n`);
  assert(Number.isInteger(w) && w >= 1 && w <= n, `w ${w} is in 1..n`);
}

/** Draws one delay of a class (ms, at least 0). */
export type ClassSampler = (latencyClass: WarsClass) => number;

/**
 * One trial's draws for N replicas, replica 0 being the write's coordinator; scratch space
 * allocated once per run and refilled by `draw` (also the advisor's fit, wars-fit.ts).
 */
export class Trial {
  readonly write: Float64Array;
  readonly ack: Float64Array;
  readonly readReq: Float64Array;
  readonly reply: Float64Array;
  private readonly tie: Float64Array;
  /** Sorted w_i + a_i: commit[w-1] is when a W=w write commits. */
  readonly commit: Float64Array;
  /** Replica indices by reply arrival (r_i + s_i), ties broken by a random key. */
  readonly order: number[];

  constructor(readonly n: number) {
    this.write = new Float64Array(n);
    this.ack = new Float64Array(n);
    this.readReq = new Float64Array(n);
    this.reply = new Float64Array(n);
    this.tie = new Float64Array(n);
    this.commit = new Float64Array(n);
    this.order = Array.from({ length: n }, (_, i) => i);
  }

  /** Draws every replica's delays (w_0 = a_0 = 0 with localWrite), then commits and order. */
  draw(sample: ClassSampler, prng: Prng, localWrite: boolean): void {
    for (let i = 0; i < this.n; i++) {
      const local = localWrite && i === 0;
      this.write[i] = local ? 0 : sample('w');
      this.ack[i] = local ? 0 : sample('a');
      this.readReq[i] = sample('r');
      this.reply[i] = sample('s');
      this.tie[i] = prng.next01();
      this.commit[i] = this.write[i]! + this.ack[i]!;
    }
    this.commit.sort();
    this.orderReplies();
  }

  /** When the (j+1)-th fastest reply arrives. */
  replyAt(j: number): number {
    const i = this.order[j]!;
    return this.readReq[i]! + this.reply[i]!;
  }

  /** Sorts replica indices by reply arrival (r_i + s_i), ties by the random tie key. */
  private orderReplies(): void {
    const { order, tie } = this;
    for (let i = 1; i < order.length; i++) {
      const item = order[i]!;
      const itemAt = this.replyAtReplica(item);
      let j = i - 1;
      while (j >= 0) {
        const other = order[j]!;
        const otherAt = this.replyAtReplica(other);
        if (otherAt < itemAt || (otherAt === itemAt && tie[other]! <= tie[item]!)) break;
        order[j + 1] = other;
        j--;
      }
      order[j + 1] = item;
    }
  }

  private replyAtReplica(i: number): number {
    return this.readReq[i]! + this.reply[i]!;
  }
}

/** Runs `trials` independent write-then-read trials. Deterministic for a seed. */
export function runWars(options: WarsOptions): WarsRun {
  const { n, r, w, trials, profile } = options;
  checkQuorums(n, r, w);
  assert(Number.isInteger(trials) && trials >= 1, 'at least one trial');
  assert(trials <= WARS_TRIALS_MAX, `at most ${WARS_TRIALS_MAX} trials`);
  const prng = new Prng(options.seed);
  const localWrite = options.topology === 'local-write';
  const trial = new Trial(n);
  const sample: ClassSampler = (c) => Math.max(0, sampleDist(profile[c], prng));
  const tConsistentMs = new Float64Array(trials);
  const readLatencyMs = new Float64Array(trials);
  const writeLatencyMs = new Float64Array(trials);
  for (let k = 0; k < trials; k++) {
    trial.draw(sample, prng, localWrite);
    const commitMs = trial.commit[w - 1]!;
    let tStar = Number.POSITIVE_INFINITY;
    for (let j = 0; j < r; j++) {
      const i = trial.order[j]!;
      tStar = Math.min(tStar, trial.write[i]! - commitMs - trial.readReq[i]!);
    }
    tConsistentMs[k] = tStar;
    writeLatencyMs[k] = commitMs;
    readLatencyMs[k] = trial.replyAt(r - 1);
  }
  tConsistentMs.sort();
  readLatencyMs.sort();
  writeLatencyMs.sort();
  return { tConsistentMs, readLatencyMs, writeLatencyMs };
}

/** P(a read issued t ms after the commit returns the committed version). */
export function consistencyAt(run: WarsRun, tMs: number): number {
  const sorted = run.tConsistentMs;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= tMs) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}

/** The smallest t ≥ 0 with P(consistent at t) ≥ p (0 < p ≤ 1). */
export function tAtConsistency(run: WarsRun, p: number): number {
  assert(p > 0 && p <= 1, 'p is in (0, 1]');
  const sorted = run.tConsistentMs;
  const index = Math.ceil(p * sorted.length - 1e-9) - 1;
  return Math.max(0, sorted[Math.max(0, index)]!);
}
