/**
 * The WARS Monte-Carlo model of one quorum write followed by one quorum read (PBS, Bailis et
 * al., VLDB 2012, section 5): per trial and per replica i it draws w_i, a_i, r_i, s_i from the
 * profile. The write is sent to all N replicas at time 0 and commits at the W-th smallest
 * w_i + a_i. A read issued t ms after the commit reaches replica i at commit + t + r_i and sees
 * the new version there iff w_i ≤ commit + t + r_i (a write and a read arriving at the same
 * instant: the write is applied first).
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
 * Read fan-out (`readSpeculateMs`, S; src/core/read-targets.ts). With S = 0, or R = N, the read
 * asks all N replicas at once and returns after the R fastest replies (smallest r_i + s_i; exact
 * ties broken uniformly at random), ringkv's read path with readSpeculateMs 0. With S > 0 and
 * R < N it is targeted: the coordinator, outside the replica set in both topologies, asks
 * replicas 0..R−1 (preference order; in `local-write` replica 0 is the write's coordinator).
 * If all R replies arrive by S they are the answer. Otherwise, at S, it also asks the spares
 * R..N−1: spare j's request reaches it at S + r_j (it sees the write iff w_j ≤ commit + t + S +
 * r_j) and its reply arrives at S + r_j + s_j; the answer is then the first R replies among all
 * N (same tie rule). The read is consistent iff one of its R responders saw the new version.
 * Not modelled: widening on tombstones (the model has no deletes), and a get whose
 * readSpeculateMs is not below its timeout (ringkv then never speculates).
 *
 * Which replicas answer does not depend on t, so a trial is consistent exactly from
 * t* = min over the R responders of (w_i − commit − r_i − offset_i) on, offset_i being 0 for a
 * replica asked at once and S for a spare; the run keeps the sorted t* of every trial and
 * answers P(consistent at t) for any t with one binary search (the same draws serve every t:
 * common random numbers, as in the PBS paper's simulator). The read latency is the arrival of
 * the R-th reply.
 */
import { assert } from '../core/assert.js';
import { partitionPoint } from '../core/partition-point.js';
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
  /**
   * The read path's readSpeculateMs (see the header): 0 asks every replica at once, S > 0 asks
   * R replicas and the rest after S ms. @default 0
   */
  readonly readSpeculateMs?: number;
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

export function checkSpeculateMs(speculateMs: number): void {
  assert(
    Number.isFinite(speculateMs) && speculateMs >= 0,
    `readSpeculateMs ${speculateMs} is finite and ≥ 0`,
  );
}

/** Draws one delay of a class (ms, at least 0). */
export type ClassSampler = (latencyClass: WarsClass) => number;

/**
 * One trial's draws for N replicas, replica 0 being the write's coordinator; scratch space
 * allocated once per run and refilled by `draw` (also the advisor's fit, wars-fit.ts). After
 * `draw`, `read(r, speculateMs)` fixes a read's responders and `tConsistent(commitMs)` answers
 * from which t they make it consistent.
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
  /** Per replica, r_i + s_i: when its reply arrives if asked at once. */
  private readonly arrival: Float64Array;
  /** Scratch of a speculating read: replica indices by reply arrival, and those arrivals. */
  private readonly candidates: number[];
  private readonly candidateAt: Float64Array;
  /** The last read's responders and when each was asked (0, or S for a spare). */
  private readonly responders: Int32Array;
  private readonly askedAt: Float64Array;
  private responderCount = 0;

  constructor(readonly n: number) {
    this.write = new Float64Array(n);
    this.ack = new Float64Array(n);
    this.readReq = new Float64Array(n);
    this.reply = new Float64Array(n);
    this.tie = new Float64Array(n);
    this.commit = new Float64Array(n);
    this.order = Array.from({ length: n }, (_, i) => i);
    this.candidates = Array.from({ length: n }, (_, i) => i);
    this.arrival = new Float64Array(n);
    this.candidateAt = new Float64Array(n);
    this.responders = new Int32Array(n);
    this.askedAt = new Float64Array(n);
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
      this.arrival[i] = this.replyAtReplica(i);
    }
    this.commit.sort();
    sortByArrival(this.order, this.arrival, this.tie);
    this.responderCount = 0;
  }

  /** When the (j+1)-th fastest reply arrives. */
  replyAt(j: number): number {
    const i = this.order[j]!;
    return this.readReq[i]! + this.reply[i]!;
  }

  /**
   * A read waiting for `r` replies with readSpeculateMs `speculateMs` (see the header): fixes
   * its responders for `tConsistent` and returns its latency, the arrival of its r-th reply.
   */
  read(r: number, speculateMs: number): number {
    assert(Number.isInteger(r) && r >= 1 && r <= this.n, 'a read waits for 1..n replies');
    assert(speculateMs >= 0, 'readSpeculateMs is never negative');
    this.responderCount = r;
    const latencyMs =
      speculateMs === 0 || r === this.n ? this.readAll(r) : this.readTargeted(r, speculateMs);
    assert(latencyMs >= this.replyAt(r - 1), 'no read path answers before the R fastest of all');
    return latencyMs;
  }

  /**
   * From which t (ms after `commitMs`) the last read's responders make it consistent:
   * min over them of w_i − commit − r_i − askedAt_i.
   */
  tConsistent(commitMs: number): number {
    assert(this.responderCount > 0, 'read() fixed the responders first');
    let tStar = Number.POSITIVE_INFINITY;
    for (let j = 0; j < this.responderCount; j++) {
      const i = this.responders[j]!;
      tStar = Math.min(tStar, this.write[i]! - commitMs - this.readReq[i]! - this.askedAt[j]!);
    }
    return tStar;
  }

  /** Every replica asked at once: the R fastest answer. */
  private readAll(r: number): number {
    for (let j = 0; j < r; j++) this.respond(j, this.order[j]!, 0);
    return this.replyAt(r - 1);
  }

  /** Replicas 0..r-1 asked; the spares too once `speculateMs` passes without all r replies. */
  private readTargeted(r: number, speculateMs: number): number {
    let slowestMs = 0;
    for (let i = 0; i < r; i++) slowestMs = Math.max(slowestMs, this.arrival[i]!);
    if (slowestMs > speculateMs) return this.readSpeculated(r, speculateMs);
    for (let i = 0; i < r; i++) this.respond(i, i, 0);
    return slowestMs;
  }

  /** At `speculateMs` the spares r..n-1 are asked too: the first r replies of all n answer. */
  private readSpeculated(r: number, speculateMs: number): number {
    const { candidates, candidateAt } = this;
    for (let i = 0; i < this.n; i++) {
      candidates[i] = i;
      candidateAt[i] = this.arrival[i]! + (i < r ? 0 : speculateMs);
    }
    sortByArrival(candidates, candidateAt, this.tie);
    for (let j = 0; j < r; j++) {
      const i = candidates[j]!;
      this.respond(j, i, i < r ? 0 : speculateMs);
    }
    const latencyMs = candidateAt[candidates[r - 1]!]!;
    assert(latencyMs >= speculateMs, 'a speculating read answers once it speculated');
    return latencyMs;
  }

  private respond(j: number, replica: number, askedAtMs: number): void {
    this.responders[j] = replica;
    this.askedAt[j] = askedAtMs;
  }

  private replyAtReplica(i: number): number {
    return this.readReq[i]! + this.reply[i]!;
  }
}

/** Sorts replica indices by arrival, exact ties by the random tie key (insertion sort: n is small). */
function sortByArrival(items: number[], arrival: Float64Array, tie: Float64Array): void {
  for (let i = 1; i < items.length; i++) {
    const item = items[i]!;
    const itemAt = arrival[item]!;
    let j = i - 1;
    while (j >= 0) {
      const other = items[j]!;
      const otherAt = arrival[other]!;
      if (otherAt < itemAt || (otherAt === itemAt && tie[other]! <= tie[item]!)) break;
      items[j + 1] = other;
      j--;
    }
    items[j + 1] = item;
  }
}

/** Runs `trials` independent write-then-read trials. Deterministic for a seed. */
export function runWars(options: WarsOptions): WarsRun {
  const { n, r, w, trials, profile } = options;
  const speculateMs = options.readSpeculateMs ?? 0;
  checkQuorums(n, r, w);
  checkSpeculateMs(speculateMs);
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
    readLatencyMs[k] = trial.read(r, speculateMs);
    tConsistentMs[k] = trial.tConsistent(commitMs);
    writeLatencyMs[k] = commitMs;
  }
  tConsistentMs.sort();
  readLatencyMs.sort();
  writeLatencyMs.sort();
  return { tConsistentMs, readLatencyMs, writeLatencyMs };
}

/** P(a read issued t ms after the commit returns the committed version). */
export function consistencyAt(run: WarsRun, tMs: number): number {
  const sorted = run.tConsistentMs;
  return partitionPoint(sorted.length, (i) => sorted[i]! <= tMs) / sorted.length;
}

/** The smallest t ≥ 0 with P(consistent at t) ≥ p (0 < p ≤ 1). */
export function tAtConsistency(run: WarsRun, p: number): number {
  assert(p > 0 && p <= 1, 'p is in (0, 1]');
  const sorted = run.tConsistentMs;
  const index = Math.ceil(p * sorted.length - 1e-9) - 1;
  return Math.max(0, sorted[Math.max(0, index)]!);
}
