/**
 * The dashboard's last five minutes: one sample every `sampleMs`, kept in a bounded ring buffer
 * on the server so a page opened now draws the whole span at once (GET /history), then appends
 * the newest sample that each event-stream tick carries.
 *
 * A sample holds rates, never ever-growing counters: ops/s, errors/s, read repairs/s and
 * anti-entropy keys repaired/s are differences of two cumulative readings divided by the time
 * between them; p50/p99 come from the difference of two latency-histogram readings. Hints
 * pending is a level. A node whose counters went backwards (it restarted) or that did not answer
 * has null for that sample: a gap in its line, not a spike.
 *
 * Per-operation latency is measured by this server's client (every request through it), so it
 * has a total only; the node series come from each node's own counters.
 */
import { assert } from '../../core/assert.js';
import type { WorkerStats } from '../../runtime/control.js';
import type { ClusterSnapshot, SnapshotTaker } from './cluster-snapshot.js';
import { LATENCY_BUCKETS_SECONDS, type ServerMetrics } from './metrics.js';
import { quantileMs, type Reading, readHistogram, TRAFFIC_OPS } from './traffic-window.js';

export type HistoryOp = (typeof TRAFFIC_OPS)[number];

/** What the history keeps per node, and summed over the nodes that answered as `total`. */
export interface NodeSample {
  /** Requests the node coordinated per second (quorum met or not). */
  readonly opsPerSec: number | null;
  /** Quorum failures of requests the node coordinated, per second. */
  readonly errorsPerSec: number | null;
  readonly hintsPending: number | null;
  readonly readRepairsPerSec: number | null;
  readonly aeKeysRepairedPerSec: number | null;
}

export interface HistorySample {
  /** `Date.now()` when the sample was taken. */
  readonly atMs: number;
  /** Milliseconds the rates cover (since the previous sample). */
  readonly spanMs: number;
  /** Requests through this server's client per second, by op and `all`. */
  readonly opsPerSec: Readonly<Record<HistoryOp, number>>;
  /** Latency quantiles in ms of those requests; null where none finished in the span. */
  readonly p50Ms: Readonly<Record<HistoryOp, number | null>>;
  readonly p99Ms: Readonly<Record<HistoryOp, number | null>>;
  /** Requests through this server's client that failed (quorum, timeout, …), per second. */
  readonly clientErrorsPerSec: number;
  /** By node id; a node that is down or did not answer has every field null. */
  readonly nodes: Readonly<Record<string, NodeSample>>;
  readonly total: NodeSample;
}

export interface HistoryOptions {
  /** Time between two samples, in ms. */
  readonly sampleMs: number;
  /** How far back the history reaches, in ms; samples kept = spanMs / sampleMs. */
  readonly spanMs: number;
}

/** The cumulative readings a sample is the difference of. */
export interface HistoryReading {
  readonly atMs: number;
  readonly latency: Reading;
  readonly clientErrors: number;
  readonly nodes: ReadonlyMap<string, NodeCounts | null>;
}

export interface NodeCounts {
  readonly coordinated: number;
  readonly failures: number;
  readonly readRepairs: number;
  readonly aeKeys: number;
  readonly hintsPending: number;
}

/** A fixed-size buffer that overwrites its oldest entry when full. */
export class RingBuffer<T> {
  private readonly slots: (T | undefined)[];
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    assert(Number.isSafeInteger(capacity), 'ring buffer capacity must be an integer');
    assert(capacity >= 1, 'ring buffer capacity must be at least 1');
    this.slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.length;
  }

  push(item: T): void {
    const end = (this.start + this.length) % this.capacity;
    this.slots[end] = item;
    if (this.length < this.capacity) this.length += 1;
    else this.start = (this.start + 1) % this.capacity;
    assert(this.length <= this.capacity, 'ring buffer never holds more than its capacity');
  }

  /** Oldest first. */
  toArray(): T[] {
    const items: T[] = [];
    for (let i = 0; i < this.length; i++) items.push(this.slots[(this.start + i) % this.capacity]!);
    return items;
  }

  last(): T | null {
    return this.length === 0 ? null : this.slots[(this.start + this.length - 1) % this.capacity]!;
  }
}

export class History {
  private readonly samples: RingBuffer<HistorySample>;
  private previous: HistoryReading | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly snapshots: SnapshotTaker,
    private readonly metrics: ServerMetrics,
    private readonly options: HistoryOptions,
    private readonly log: (line: string) => void,
  ) {
    assert(options.sampleMs > 0, 'history sampleMs must be positive');
    assert(options.spanMs >= options.sampleMs, 'history spanMs must cover one sample');
    this.samples = new RingBuffer(Math.ceil(options.spanMs / options.sampleMs));
  }

  /** Samples oldest first, at most spanMs / sampleMs of them. */
  list(): HistorySample[] {
    return this.samples.toArray();
  }

  latest(): HistorySample | null {
    return this.samples.last();
  }

  get sampleMs(): number {
    return this.options.sampleMs;
  }

  get spanMs(): number {
    return this.options.spanMs;
  }

  /** Samples every sampleMs until stop(); the timer never keeps the process alive. */
  start(): void {
    if (this.stopped || this.timer !== null) return;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Takes one reading now; from the second on, it adds a sample. Exposed for tests. */
  async sampleNow(): Promise<HistorySample | null> {
    const latency = await readHistogram(this.metrics.clientDuration, LATENCY_BUCKETS_SECONDS);
    const clientErrors = await this.metrics.clientErrorCount();
    const snapshot = await this.snapshots.take().catch(() => null);
    const current: HistoryReading = {
      atMs: snapshot?.takenAtMs ?? Date.now(),
      latency,
      clientErrors,
      nodes: countsOf(snapshot),
    };
    const before = this.previous;
    this.previous = current;
    if (before === null || current.atMs <= before.atMs) return null;
    const sample = sampleBetween(before, current);
    this.samples.push(sample);
    return sample;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sampleNow()
        .catch((error: unknown) => this.log(`ringkv http: history sample failed: ${String(error)}`))
        .finally(() => {
          if (!this.stopped) this.schedule(this.options.sampleMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}

function countsOf(snapshot: ClusterSnapshot | null): Map<string, NodeCounts | null> {
  const counts = new Map<string, NodeCounts | null>();
  if (snapshot === null) return counts;
  for (const node of snapshot.status.nodes) {
    const stats: WorkerStats | null = snapshot.counters.get(node.id) ?? null;
    if (stats === null || node.state === 'down') {
      counts.set(node.id, null);
      continue;
    }
    const core = stats.core;
    counts.set(node.id, {
      coordinated: core.putsOk + core.getsOk + core.quorumFailures,
      failures: core.quorumFailures,
      readRepairs: core.readRepairs,
      aeKeys: core.aeKeysRepaired,
      hintsPending: node.hintsPending ?? core.hintsPending,
    });
  }
  return counts;
}

/** The rates between two cumulative readings (`after` strictly later than `before`). */
export function sampleBetween(before: HistoryReading, after: HistoryReading): HistorySample {
  const spanMs = after.atMs - before.atMs;
  assert(spanMs > 0, 'a sample spans a positive time');
  const perSec = (delta: number): number => (delta * 1000) / spanMs;
  const bounds = LATENCY_BUCKETS_SECONDS;
  const opsPerSec = {} as Record<HistoryOp, number>;
  const p50Ms = {} as Record<HistoryOp, number | null>;
  const p99Ms = {} as Record<HistoryOp, number | null>;
  for (const op of TRAFFIC_OPS) {
    const delta = after.latency[op].map((count, i) =>
      Math.max(0, count - (before.latency[op][i] ?? 0)),
    );
    opsPerSec[op] = perSec(delta[bounds.length] ?? 0);
    p50Ms[op] = quantileMs(bounds, delta, 0.5);
    p99Ms[op] = quantileMs(bounds, delta, 0.99);
  }
  const nodes: Record<string, NodeSample> = {};
  for (const [id, now] of after.nodes) {
    nodes[id] = nodeRates(before.nodes.get(id) ?? null, now, perSec);
  }
  return {
    atMs: after.atMs,
    spanMs,
    opsPerSec,
    p50Ms,
    p99Ms,
    clientErrorsPerSec: perSec(Math.max(0, after.clientErrors - before.clientErrors)),
    nodes,
    total: totalOf(Object.values(nodes)),
  };
}

const NO_SAMPLE: NodeSample = {
  opsPerSec: null,
  errorsPerSec: null,
  hintsPending: null,
  readRepairsPerSec: null,
  aeKeysRepairedPerSec: null,
};

function nodeRates(
  before: NodeCounts | null,
  now: NodeCounts | null,
  perSec: (delta: number) => number,
): NodeSample {
  if (now === null) return NO_SAMPLE;
  const rate = (field: keyof NodeCounts): number | null => {
    if (before === null) return null;
    const delta = now[field] - before[field];
    return delta < 0 ? null : perSec(delta); // went backwards: the node restarted
  };
  return {
    opsPerSec: rate('coordinated'),
    errorsPerSec: rate('failures'),
    hintsPending: now.hintsPending,
    readRepairsPerSec: rate('readRepairs'),
    aeKeysRepairedPerSec: rate('aeKeys'),
  };
}

function totalOf(nodes: readonly NodeSample[]): NodeSample {
  const sum = (field: keyof NodeSample): number | null => {
    let total: number | null = null;
    for (const node of nodes) {
      const value = node[field];
      if (value !== null) total = (total ?? 0) + value;
    }
    return total;
  };
  return {
    opsPerSec: sum('opsPerSec'),
    errorsPerSec: sum('errorsPerSec'),
    hintsPending: sum('hintsPending'),
    readRepairsPerSec: sum('readRepairsPerSec'),
    aeKeysRepairedPerSec: sum('aeKeysRepairedPerSec'),
  };
}
