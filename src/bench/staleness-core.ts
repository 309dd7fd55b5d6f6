/**
 * The staleness benchmark on the real protocol code: N + 1 (or more) NodeCores hosted by the
 * simulator's SimNode on virtual time, with every peer message delayed by its WARS class
 * (profile.ts; messages of other types — read repair, hints, pings — travel instantly). This
 * is `--mode core`, and the check that the Monte-Carlo model (wars.ts) describes ringkv.
 *
 * It runs its own small event loop rather than src/sim/simulator.ts because the simulator's
 * network draws one latency per (from, to) without seeing the message, and the WARS classes are
 * message types. Disk latency is 0 (persists complete in the same virtual instant, after the
 * message that caused them); requests time out only after an hour of virtual time, so no
 * replica is ever suspected and no sloppy stand-in takes part; anti-entropy runs hourly, so
 * only the quorum protocol spreads a write, as in the model.
 *
 * Topology (see wars.ts): a put is coordinated by the key's first replica, which writes its own
 * copy with no message — NodeCore delivers a node's messages to itself within the step, and
 * routing them through the network would need a change in src/core. The get is coordinated by
 * a node outside the key's replica set, so every request and reply it sends is delayed; it asks
 * the replicas as `readSpeculateMs` says (all at once for 0, else R in preference order and the
 * rest after that many ms), as the model does. That is the `local-write` topology of the model; `pbs` (every replica remote) cannot be run on
 * NodeCore. Each trial writes a fresh key, waits until the put is acknowledged, then t ms of
 * virtual time, and reads it: the read is consistent iff it returns the value just written.
 */
import { coreLimits, DEFAULT_CONFIG } from '../config.js';
import { assert } from '../core/assert.js';
import type { ClientRequest, ClientResult, PeerMessage } from '../core/messages.js';
import { Ring } from '../core/ring.js';
import { type NodeId, nodeId } from '../core/types.js';
import { liveValues } from '../core/version.js';
import { EventQueue } from '../sim/event-queue.js';
import { type NodeEnv, SimNode } from '../sim/sim-node.js';
import { SimStorage } from '../sim/sim-storage.js';
import { type Dist, sampleDist } from '../util/distributions.js';
import { Prng, SEED_MAX } from '../util/prng.js';
import { mapInOrder } from '../util/task-pool.js';
import { type LatencyProfile, MESSAGE_OF_CLASS, WARS_CLASSES } from './profile.js';
import type { ConsistencyPoint } from './staleness-result.js';
import { checkQuorums, checkSpeculateMs } from './wars.js';

export interface CoreStalenessOptions {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  /** Nodes of the cluster, at least n + 1. @default n + 1 */
  readonly nodes?: number;
  readonly profile: LatencyProfile;
  /** Read delays after the ack, in ms. */
  readonly tMs: readonly number[];
  readonly trialsPerT: number;
  readonly seed: number;
  /** The nodes' readSpeculateMs: how a get fans out (wars.ts models both paths). @default 0 */
  readonly readSpeculateMs?: number;
}

export interface CoreStalenessRun {
  readonly consistency: readonly ConsistencyPoint[];
  /** Sorted ascending. */
  readonly readLatencyMs: Float64Array;
  readonly writeLatencyMs: Float64Array;
  /** Trials whose put or get failed (none are expected). */
  readonly failures: number;
  readonly nodes: number;
  /** Errors the cores threw (a bug in ringkv). */
  readonly coreFaults: readonly string[];
}

/** Virtual request timeout: far beyond any sensible profile, so nothing times out. */
const REQUEST_TIMEOUT_MS = 3_600_000;
/** Events one trial may take before the run is declared stuck. */
const EVENTS_PER_TRIAL_MAX = 1_000_000;
/** Most trials per t value. */
export const CORE_TRIALS_MAX = 1_000_000;
const PARTITION_COUNT = 64;

interface TrialOutcome {
  readonly consistent: boolean | null;
  readonly writeMs: number;
  readonly readMs: number;
}

class CoreBench {
  private readonly queue = new EventQueue<() => void>();
  private nowMs = 0;
  readonly ids: NodeId[];
  readonly ring: Ring;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly delayOf = new Map<string, Dist>();
  private readonly waiting = new Map<number, (result: ClientResult) => void>();
  private reqIdNext = 1;
  readonly coreFaults: string[] = [];

  constructor(
    nodeCount: number,
    readonly n: number,
    profile: LatencyProfile,
    readSpeculateMs: number,
    private readonly prng: Prng,
  ) {
    this.ids = Array.from({ length: nodeCount }, (_, i) => nodeId(`n${i + 1}`));
    this.ring = Ring.create(this.ids, PARTITION_COUNT);
    for (const name of WARS_CLASSES) this.delayOf.set(MESSAGE_OF_CLASS[name], profile[name]);
    // As in the model (and in real mode), only the quorum protocol spreads a write; a get fans
    // out as readSpeculateMs says, which the model follows (read-targets.ts, wars.ts).
    const limits = coreLimits({
      ...DEFAULT_CONFIG,
      tickIntervalMs: 60_000,
      antiEntropyIntervalMs: 3_600_000,
      readSpeculateMs,
    });
    const env: NodeEnv = {
      ring: this.ring,
      tunables: { n, forwardSlackMs: 1_000, limits },
      nowMs: () => this.nowMs,
      at: (timeMs, action) => this.at(timeMs, action),
      send: (from, to, message) => this.send(from, to, message),
      reply: (_from, reqId, result) => this.at(this.nowMs, () => this.answer(reqId, result)),
      diskLatencyMs: () => 0,
      fault: (node, error) => this.coreFaults.push(`${node}: ${String(error)}`),
    };
    for (const id of this.ids) this.nodes.set(id, new SimNode(id, new SimStorage(id), env));
    for (const node of this.nodes.values()) node.start();
  }

  private at(timeMs: number, action: () => void): void {
    this.queue.push(Math.max(timeMs, this.nowMs), action);
  }

  private send(from: NodeId, to: NodeId, message: PeerMessage): void {
    const target = this.nodes.get(to);
    assert(target !== undefined, `node ${to} exists`);
    const dist = from === to ? undefined : this.delayOf.get(message.type);
    const delayMs = dist === undefined ? 0 : Math.max(0, sampleDist(dist, this.prng));
    const incarnation = target.incarnation;
    this.at(this.nowMs + delayMs, () =>
      target.input({ kind: 'message', from, message }, incarnation),
    );
  }

  private answer(reqId: number, result: ClientResult): void {
    const callback = this.waiting.get(reqId);
    if (callback === undefined) return;
    this.waiting.delete(reqId);
    callback(result);
  }

  private request(node: NodeId, request: ClientRequest, done: (r: ClientResult) => void): void {
    const reqId = this.reqIdNext++;
    this.waiting.set(reqId, done);
    const target = this.nodes.get(node)!;
    target.input({ kind: 'request', reqId, request });
  }

  /** One write-then-read trial on a fresh key; runs the event loop until the read returns. */
  trial(index: number, tMs: number, r: number, w: number): TrialOutcome {
    const key = `stale-${index}`;
    const value = `v${index}`;
    const replicas = this.ring.preferenceList(key, this.n);
    const reader = this.ids.find((id) => !replicas.includes(id));
    assert(reader !== undefined, 'a node outside the replica set coordinates the read');
    let outcome: TrialOutcome | null = null;
    const startMs = this.nowMs;
    const bytes = new TextEncoder().encode(value);
    const put: ClientRequest = {
      op: 'put',
      key,
      value: bytes,
      context: [],
      w,
      timeoutMs: REQUEST_TIMEOUT_MS,
    };
    this.request(replicas[0]!, put, (written) => {
      const commitMs = this.nowMs;
      if (!written.ok) {
        outcome = { consistent: null, writeMs: commitMs - startMs, readMs: 0 };
        return;
      }
      this.at(commitMs + tMs, () => {
        const readStartMs = this.nowMs;
        const get: ClientRequest = { op: 'get', key, r, timeoutMs: REQUEST_TIMEOUT_MS };
        this.request(reader, get, (read) => {
          const readMs = this.nowMs - readStartMs;
          const writeMs = commitMs - startMs;
          if (!read.ok || read.op !== 'get') {
            outcome = { consistent: null, writeMs, readMs };
            return;
          }
          const values = read.record === null ? [] : liveValues(read.record);
          const decoded = values.map((v) => new TextDecoder().decode(v));
          outcome = { consistent: decoded.includes(value), writeMs, readMs };
        });
      });
    });
    for (let events = 0; outcome === null; events++) {
      assert(events < EVENTS_PER_TRIAL_MAX, `trial ${index} finished within its event budget`);
      const next = this.queue.pop();
      assert(next !== undefined, 'a pending trial always has events');
      this.nowMs = next.timeMs;
      next.value();
    }
    return outcome;
  }
}

/** Rounds (one trial per t value each) of one chunk: the unit a pool thread runs. */
export const CORE_CHUNK_ROUNDS = 250;

/** One chunk: `rounds` rounds on a fresh cluster seeded with `seed`. Plain data both ways. */
export interface CoreChunkTask {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly nodes: number;
  readonly profile: LatencyProfile;
  readonly tMs: readonly number[];
  readonly rounds: number;
  readonly seed: number;
  readonly readSpeculateMs: number;
  /** Index of the chunk's first trial (keys stay unique across chunks). */
  readonly firstTrial: number;
}

export interface CoreChunkResult {
  /** Per t value: trials that finished, and of those the consistent ones. */
  readonly finished: readonly number[];
  readonly consistent: readonly number[];
  readonly readLatencyMs: Float64Array;
  readonly writeLatencyMs: Float64Array;
  readonly failures: number;
  readonly coreFaults: readonly string[];
}

/** Runs one chunk's rounds, every t interleaved (t1, t2, …, t1, t2, …). */
export function runCoreChunk(task: CoreChunkTask): CoreChunkResult {
  const { tMs, r, w } = task;
  const { nodes, n, profile, readSpeculateMs, seed } = task;
  const bench = new CoreBench(nodes, n, profile, readSpeculateMs, new Prng(seed));
  const finished = tMs.map(() => 0);
  const consistent = tMs.map(() => 0);
  const reads: number[] = [];
  const writes: number[] = [];
  let failures = 0;
  let index = task.firstTrial;
  for (let round = 0; round < task.rounds; round++) {
    tMs.forEach((t, i) => {
      const outcome = bench.trial(index++, t, r, w);
      writes.push(outcome.writeMs);
      if (outcome.consistent === null) {
        failures++;
        return;
      }
      reads.push(outcome.readMs);
      finished[i]!++;
      if (outcome.consistent) consistent[i]!++;
    });
  }
  return {
    finished,
    consistent,
    readLatencyMs: Float64Array.from(reads),
    writeLatencyMs: Float64Array.from(writes),
    failures,
    coreFaults: bench.coreFaults,
  };
}

/**
 * The run as chunks of CORE_CHUNK_ROUNDS rounds, each on its own cluster with a seed drawn from
 * the run's seed: the chunks are independent, so a pool may run them in any thread and the run
 * still depends on the seed alone.
 */
export function coreChunks(options: CoreStalenessOptions): CoreChunkTask[] {
  const { n, r, w, tMs, trialsPerT } = options;
  const readSpeculateMs = options.readSpeculateMs ?? 0;
  checkQuorums(n, r, w);
  checkSpeculateMs(readSpeculateMs);
  assert(
    readSpeculateMs < REQUEST_TIMEOUT_MS,
    'readSpeculateMs is below the request timeout (else gets never speculate)',
  );
  const nodes = options.nodes ?? n + 1;
  assert(nodes > n, 'a node outside the replica set exists to coordinate reads');
  assert(tMs.length > 0, 'at least one t');
  assert(
    tMs.every((t) => Number.isFinite(t) && t >= 0),
    't values are finite and ≥ 0',
  );
  assert(trialsPerT >= 1 && trialsPerT <= CORE_TRIALS_MAX, `trials in 1..${CORE_TRIALS_MAX}`);
  const seeds = new Prng(options.seed);
  const chunks: CoreChunkTask[] = [];
  for (let done = 0; done < trialsPerT; done += CORE_CHUNK_ROUNDS) {
    const rounds = Math.min(CORE_CHUNK_ROUNDS, trialsPerT - done);
    const seed = seeds.int(0, SEED_MAX);
    chunks.push({
      n,
      r,
      w,
      nodes,
      profile: options.profile,
      tMs,
      rounds,
      seed,
      readSpeculateMs,
      firstTrial: done * tMs.length,
    });
  }
  return chunks;
}

/** Folds chunk results, in chunk order, into the run's figures. */
export class CoreRunTotals {
  private readonly finished: number[];
  private readonly consistent: number[];
  private readonly reads: Float64Array[] = [];
  private readonly writes: Float64Array[] = [];
  private failures = 0;
  private readonly coreFaults: string[] = [];

  constructor(
    private readonly tMs: readonly number[],
    private readonly nodes: number,
  ) {
    this.finished = tMs.map(() => 0);
    this.consistent = tMs.map(() => 0);
  }

  add(chunk: CoreChunkResult): void {
    this.tMs.forEach((_, i) => {
      this.finished[i]! += chunk.finished[i]!;
      this.consistent[i]! += chunk.consistent[i]!;
    });
    this.reads.push(chunk.readLatencyMs);
    this.writes.push(chunk.writeLatencyMs);
    this.failures += chunk.failures;
    this.coreFaults.push(...chunk.coreFaults);
  }

  result(): CoreStalenessRun {
    const sorted = (parts: Float64Array[]) => {
      const all = new Float64Array(parts.reduce((sum, p) => sum + p.length, 0));
      let at = 0;
      for (const part of parts) {
        all.set(part, at);
        at += part.length;
      }
      return all.sort();
    };
    const consistency = this.tMs.map((t, i) => {
      const finished = this.finished[i]!;
      const p = finished === 0 ? 0 : this.consistent[i]! / finished;
      return { t, p, trials: finished };
    });
    return {
      consistency,
      readLatencyMs: sorted(this.reads),
      writeLatencyMs: sorted(this.writes),
      failures: this.failures,
      nodes: this.nodes,
      coreFaults: this.coreFaults,
    };
  }
}

/** Runs `trialsPerT` trials at every t in this thread, chunk after chunk (see coreChunks). */
export function runCoreStaleness(options: CoreStalenessOptions): CoreStalenessRun {
  const chunks = coreChunks(options);
  const totals = new CoreRunTotals(options.tMs, chunks[0]!.nodes);
  for (const chunk of chunks) totals.add(runCoreChunk(chunk));
  return totals.result();
}

/**
 * The same run with its chunks spread over `threads` worker threads (util/task-pool.ts): the
 * chunks and the order they are folded in are the serial run's, so the figures are identical.
 */
export async function runCoreStalenessPooled(
  options: CoreStalenessOptions,
  threads: number,
): Promise<CoreStalenessRun> {
  const chunks = coreChunks(options);
  const totals = new CoreRunTotals(options.tMs, chunks[0]!.nodes);
  await mapInOrder(chunks, {
    taskModule: new URL('./staleness-core-task.js', import.meta.url),
    serial: runCoreChunk,
    threads,
    onResult: (chunk) => totals.add(chunk),
  });
  return totals.result();
}
