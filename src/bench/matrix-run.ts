/**
 * One run of `ringkv bench matrix`: a fresh in-memory worker-thread cluster for one (R, W), a
 * bounded preload, then a YCSB-style closed loop — `concurrency` callers in this thread, each
 * issuing its next operation as soon as the previous one finished — for `durationMs`. Optionally
 * one or two nodes are killed halfway through. It measures throughput, per-operation latency,
 * stale reads (matrix-stale.ts), quorum failures and other errors, and availability.
 *
 * Updates are Dynamo updates, not blind writes: each carries the context of the latest read of
 * its key by any caller (an update of a key not read yet in this run reads it first), so
 * siblings only appear between writes that really were concurrent, as they would for a
 * well-behaved application.
 *
 * The load generator runs in this thread, not in a piscina pool: the client that talks to the
 * nodes lives here, so a pool could only precompute the operation stream, which costs ~1 µs per
 * operation against ~150-500 µs of cluster work. Measured on 2 cores (R=2 W=2, workload A, 64
 * callers, 5 s, alternating runs): inline 2575 and 2471 ops/s, pool-generated stream 2273 and
 * 2294 ops/s; this thread's event loop was busy ~50 % of the time either way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../client/types.js';
import { assert } from '../core/assert.js';
import {
  OverloadError,
  QuorumError,
  SiblingLimitError,
  TimeoutError,
  UnavailableError,
} from '../errors.js';
import { startCluster } from '../index.js';
import { Prng } from '../util/prng.js';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { AckedWrites, decodeValueId, encodeValue, isStaleRead } from './matrix-stale.js';
import { keyName, nextOp, type WorkloadSpec, ZipfianGenerator } from './ycsb.js';

export type FaultScenario = 'none' | 'kill-1' | 'kill-2';

/** Nodes killed halfway through a run, per scenario. */
export const KILLED_NODES: Readonly<Record<FaultScenario, readonly string[]>> = {
  none: [],
  'kill-1': ['n1'],
  'kill-2': ['n1', 'n2'],
};

export interface RunPlan {
  readonly nodes: number;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly workload: WorkloadSpec;
  /** Keys the zipfian draws from. */
  readonly keys: number;
  readonly valueSizeBytes: number;
  readonly durationMs: number;
  /** Callers in the closed loop (operations in flight at once). */
  readonly concurrency: number;
  readonly seed: number;
  /** Preload stops after this long even if not every key was written. */
  readonly preloadMsMax: number;
  /** The workload runs this long unmeasured before the measured loop (delays already in force). */
  readonly warmupMs: number;
  readonly scenario: FaultScenario;
  /** Coordinator timeout per request. */
  readonly requestTimeoutMs: number;
  /** Client attempts per operation, the first included. */
  readonly retryAttemptsMax: number;
}

export interface RunHooks {
  /** Injects the network delays after the preload, before the measured loop. */
  readonly applyNetwork?: (cluster: Cluster) => Promise<void>;
  /** Receives live counters (read them, do not keep them). */
  readonly onLive?: (live: RunLive) => void;
}

export type RunPhase = 'starting' | 'preloading' | 'warming' | 'running' | 'draining' | 'done';

export interface RunLive {
  phase: RunPhase;
  preloaded: number;
  /** Measured-loop operations finished so far, and how many of them failed. */
  ops: number;
  failed: number;
  /** Time spent in the measured loop so far. */
  elapsedMs: number;
}

export interface ErrorCounts {
  quorum: number;
  timeout: number;
  overload: number;
  siblingLimit: number;
  unavailable: number;
  other: number;
}

export interface RunResult {
  readonly r: number;
  readonly w: number;
  readonly scenario: FaultScenario;
  readonly killed: readonly string[];
  /** When the nodes were killed, ms into the measured loop (null without faults). */
  readonly killAtMs: number | null;
  readonly preloaded: number;
  readonly preloadMs: number;
  readonly preloadErrors: number;
  /** Wall time of the measured loop, the drain of in-flight operations included. */
  readonly elapsedMs: number;
  readonly ops: { readonly attempted: number; readonly succeeded: number; readonly failed: number };
  /** Successful operations that finished within durationMs, per second. */
  readonly throughput: number;
  readonly latency: {
    readonly read: LatencySummary;
    readonly update: LatencySummary;
    readonly all: LatencySummary;
  };
  readonly staleReads: { readonly checked: number; readonly stale: number; readonly rate: number };
  /** Successful reads that returned more than one sibling. */
  readonly siblingReads: number;
  /** Updates that first had to read their key for a context (none cached since its last update). */
  readonly contextReads: number;
  readonly errors: ErrorCounts;
  /** The first few distinct error messages, for diagnosis. */
  readonly errorSamples: readonly string[];
  /** Fraction of attempted operations that succeeded. */
  readonly availability: number;
  /** The same, counting only operations issued after the kill (null without faults). */
  readonly availabilityAfterFault: number | null;
}

const ERROR_SAMPLES_MAX = 5;
/** Preload writes in flight at once. */
const PRELOAD_CONCURRENCY = 128;

/** Runs one configuration end to end; the cluster is always closed. */
export async function runOnce(plan: RunPlan, hooks: RunHooks = {}): Promise<RunResult> {
  checkPlan(plan);
  const live: RunLive = { phase: 'starting', preloaded: 0, ops: 0, failed: 0, elapsedMs: 0 };
  hooks.onLive?.(live);
  const cluster = await startCluster({
    nodes: plan.nodes,
    n: plan.n,
    r: plan.r,
    w: plan.w,
    requestTimeoutMs: plan.requestTimeoutMs,
    retryAttemptsMax: plan.retryAttemptsMax,
  });
  try {
    const load = new LoadGenerator(cluster, plan, live, hooks.onLive);
    live.phase = 'preloading';
    await load.preload();
    await hooks.applyNetwork?.(cluster);
    live.phase = 'warming';
    hooks.onLive?.(live);
    await load.warmUp();
    live.phase = 'running';
    return await load.run();
  } finally {
    await cluster.close();
    live.phase = 'done';
    hooks.onLive?.(live);
  }
}

function checkPlan(plan: RunPlan): void {
  assert(plan.r >= 1 && plan.r <= plan.n, `r ${plan.r} in 1..n`);
  assert(plan.w >= 1 && plan.w <= plan.n, `w ${plan.w} in 1..n`);
  assert(plan.durationMs > 0, 'the run lasts');
  assert(plan.concurrency >= 1, 'at least one caller');
  assert(KILLED_NODES[plan.scenario].length < plan.nodes, 'a fault run keeps a node alive');
}

/** What the closed loop collects while it runs. */
class Tally {
  readonly read = new LatencyHistogram();
  readonly update = new LatencyHistogram();
  readonly all = new LatencyHistogram();
  readonly errors: ErrorCounts = {
    quorum: 0,
    timeout: 0,
    overload: 0,
    siblingLimit: 0,
    unavailable: 0,
    other: 0,
  };
  readonly samples = new Set<string>();
  attempted = 0;
  succeeded = 0;
  succeededInWindow = 0;
  attemptedAfterFault = 0;
  succeededAfterFault = 0;
  staleChecked = 0;
  stale = 0;
  siblingReads = 0;
  contextReads = 0;

  fail(error: unknown): void {
    const kind = errorKind(error);
    this.errors[kind]++;
    if (this.samples.size < ERROR_SAMPLES_MAX) {
      this.samples.add(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

export function errorKind(error: unknown): keyof ErrorCounts {
  if (error instanceof QuorumError) return 'quorum';
  if (error instanceof TimeoutError) return 'timeout';
  if (error instanceof OverloadError) return 'overload';
  if (error instanceof SiblingLimitError) return 'siblingLimit';
  if (error instanceof UnavailableError) return 'unavailable';
  return 'other';
}

class LoadGenerator {
  private readonly prng: Prng;
  private readonly zipf: ZipfianGenerator;
  private readonly acked: AckedWrites;
  /** The context of the latest successful read per key index. */
  private readonly contexts: (string | undefined)[];
  private tally = new Tally();
  private nextWriteId = 0;
  private preloaded = 0;
  private preloadMs = 0;
  private preloadErrors = 0;
  private killAtMs: number | null = null;

  constructor(
    private readonly cluster: Cluster,
    private readonly plan: RunPlan,
    private readonly live: RunLive,
    private readonly onLive: ((live: RunLive) => void) | undefined,
  ) {
    this.prng = new Prng(plan.seed);
    this.zipf = new ZipfianGenerator(plan.keys);
    this.acked = new AckedWrites(plan.keys);
    this.contexts = new Array<string | undefined>(plan.keys);
  }

  /** Writes keys 0, 1, 2, … (hottest first) until all are written or the time budget is spent. */
  async preload(): Promise<void> {
    const started = performance.now();
    const deadline = started + this.plan.preloadMsMax;
    let next = 0;
    const writer = async () => {
      while (next < this.plan.keys && performance.now() < deadline) {
        const index = next++;
        const id = this.nextWriteId++;
        try {
          await this.cluster.put(keyName(index), encodeValue(id, this.plan.valueSizeBytes));
          this.acked.ack(index, id);
          this.preloaded++;
        } catch {
          this.preloadErrors++;
        }
        this.live.preloaded = this.preloaded;
      }
    };
    await Promise.all(Array.from({ length: PRELOAD_CONCURRENCY }, writer));
    this.preloadMs = performance.now() - started;
  }

  /** Runs the workload for warmupMs unmeasured (JIT, caches, connections), then resets the tally. */
  async warmUp(): Promise<void> {
    if (this.plan.warmupMs <= 0) return;
    const deadline = performance.now() + this.plan.warmupMs;
    await Promise.all(Array.from({ length: this.plan.concurrency }, () => this.caller(deadline)));
    this.tally = new Tally();
    this.live.ops = 0;
    this.live.failed = 0;
  }

  async run(): Promise<RunResult> {
    const started = performance.now();
    const deadline = started + this.plan.durationMs;
    const killed = KILLED_NODES[this.plan.scenario];
    const faults = killed.length === 0 ? Promise.resolve() : this.killLater(killed, started);
    const ticker = setInterval(() => {
      this.live.elapsedMs = performance.now() - started;
      this.onLive?.(this.live);
    }, 100);
    try {
      const callers = Array.from({ length: this.plan.concurrency }, () => this.caller(deadline));
      await sleep(this.plan.durationMs);
      this.live.phase = 'draining';
      await Promise.all([...callers, faults]);
    } finally {
      clearInterval(ticker);
    }
    return this.result(killed, performance.now() - started);
  }

  private async killLater(ids: readonly string[], started: number): Promise<void> {
    await sleep(this.plan.durationMs / 2);
    this.killAtMs = performance.now() - started;
    await Promise.all(ids.map((id) => this.cluster.killNode(id)));
  }

  private async caller(deadline: number): Promise<void> {
    const started = performance.now();
    while (performance.now() < deadline) {
      const index = this.zipf.next(this.prng);
      const kind = nextOp(this.plan.workload, this.prng);
      const afterFault = this.killAtMs !== null;
      this.tally.attempted++;
      if (afterFault) this.tally.attemptedAfterFault++;
      const ms = kind === 'read' ? await this.read(index) : await this.update(index);
      const finishedAt = performance.now();
      this.live.ops++;
      if (ms === null) {
        this.live.failed++;
        continue;
      }
      (kind === 'read' ? this.tally.read : this.tally.update).record(ms);
      this.tally.all.record(ms);
      this.tally.succeeded++;
      if (afterFault) this.tally.succeededAfterFault++;
      if (finishedAt <= deadline && finishedAt >= started) this.tally.succeededInWindow++;
    }
  }

  /** One read; its latency in ms, or null when it failed. */
  private async read(index: number): Promise<number | null> {
    const expected = this.acked.expected(index);
    const issuedAt = performance.now();
    try {
      const got = await this.cluster.get(keyName(index));
      const ms = performance.now() - issuedAt;
      const ids: number[] = [];
      for (const value of got.values) {
        const id = decodeValueId(value);
        if (id !== null) ids.push(id);
      }
      this.contexts[index] = got.context;
      if (got.values.length > 1) this.tally.siblingReads++;
      if (expected !== null) {
        this.tally.staleChecked++;
        if (isStaleRead(expected, ids)) this.tally.stale++;
      }
      return ms;
    } catch (error) {
      this.tally.fail(error);
      return null;
    }
  }

  /**
   * One update: a put with the key's cached context, which it uses up. Without one (the key was
   * not read since its last update by this generator) it first reads the key for its context,
   * as an application must to replace rather than add a sibling; that read is not timed. The
   * latency returned is the put's: what W costs.
   */
  private async update(index: number): Promise<number | null> {
    try {
      let context = this.contexts[index];
      this.contexts[index] = undefined;
      if (context === undefined) {
        context = (await this.cluster.get(keyName(index))).context;
        this.tally.contextReads++;
      }
      const id = this.nextWriteId++;
      const value = encodeValue(id, this.plan.valueSizeBytes);
      const issuedAt = performance.now();
      await this.cluster.put(keyName(index), value, { context });
      const ms = performance.now() - issuedAt;
      this.acked.ack(index, id);
      return ms;
    } catch (error) {
      this.tally.fail(error);
      return null;
    }
  }

  private result(killed: readonly string[], elapsedMs: number): RunResult {
    const t = this.tally;
    const failed = t.attempted - t.succeeded;
    return {
      r: this.plan.r,
      w: this.plan.w,
      scenario: this.plan.scenario,
      killed,
      killAtMs: this.killAtMs === null ? null : Math.round(this.killAtMs),
      preloaded: this.preloaded,
      preloadMs: Math.round(this.preloadMs),
      preloadErrors: this.preloadErrors,
      elapsedMs: Math.round(elapsedMs),
      ops: { attempted: t.attempted, succeeded: t.succeeded, failed },
      throughput: Math.round(t.succeededInWindow / (this.plan.durationMs / 1000)),
      latency: { read: t.read.summary(), update: t.update.summary(), all: t.all.summary() },
      staleReads: {
        checked: t.staleChecked,
        stale: t.stale,
        rate: t.staleChecked === 0 ? 0 : t.stale / t.staleChecked,
      },
      siblingReads: t.siblingReads,
      contextReads: t.contextReads,
      errors: { ...t.errors },
      errorSamples: [...t.samples],
      availability: t.attempted === 0 ? 1 : t.succeeded / t.attempted,
      availabilityAfterFault:
        killed.length === 0
          ? null
          : t.attemptedAfterFault === 0
            ? 1
            : t.succeededAfterFault / t.attemptedAfterFault,
    };
  }
}
