/**
 * One look at the cluster for /metrics and the dashboard: `status()` plus, when the server has a
 * stats source, every node's raw counters. Taking one is bounded by a timeout; concurrent callers
 * (scrapes, event-stream ticks) share the look in flight, so a burst costs one round of queries.
 */
import type { ClusterStatus, KvClient, NodeCounters } from '../../client/types.js';
import { assert } from '../../core/assert.js';
import { TimeoutError } from '../../errors.js';
import type { WorkerStats } from '../../runtime/control.js';
import { withTimeout } from '../../util/deadline.js';

/** Where per-node counters come from (a local Cluster); see Cluster.nodeStats. */
export interface NodeStatsSource {
  nodeStats(): Promise<NodeCounters[]>;
}

export interface ClusterSnapshot {
  /** `Date.now()` when the look finished. */
  readonly takenAtMs: number;
  readonly status: ClusterStatus;
  /** Raw counters by node id; null for a node that is down or did not answer. Empty without a source. */
  readonly counters: ReadonlyMap<string, WorkerStats | null>;
}

export class SnapshotTaker {
  private inFlight: Promise<ClusterSnapshot> | null = null;

  constructor(
    private readonly client: KvClient,
    private readonly source: NodeStatsSource | null,
    private readonly timeoutMs: number,
  ) {
    assert(Number.isSafeInteger(timeoutMs), 'snapshot timeoutMs must be an integer');
    assert(timeoutMs > 0, 'snapshot timeoutMs must be positive');
  }

  /** A fresh snapshot (or the one being taken); rejects with a TimeoutError past the timeout. */
  take(): Promise<ClusterSnapshot> {
    if (this.inFlight !== null) return this.inFlight;
    const taking = withTimeout(
      this.look(),
      this.timeoutMs,
      () => new TimeoutError(`cluster stats did not arrive within ${this.timeoutMs} ms`),
    ).finally(() => {
      this.inFlight = null;
    });
    this.inFlight = taking;
    return taking;
  }

  private async look(): Promise<ClusterSnapshot> {
    const [status, counters] = await Promise.all([
      this.client.status(),
      this.source === null ? Promise.resolve([]) : this.source.nodeStats(),
    ]);
    return {
      takenAtMs: Date.now(),
      status,
      counters: new Map(counters.map((node) => [node.id, node.stats])),
    };
  }
}
