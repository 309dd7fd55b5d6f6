/**
 * What the dashboard receives on every event-stream tick: the ring, each node's state and
 * counters, per-node coordinated ops/s (from the nodes' counters), cluster ops/s and p99 latency
 * (from the client latency histogram, over the last two seconds) and anti-entropy progress
 * (the nodes' exchange counters, summed); plus the newest history sample (history.ts), the
 * newest admin actions (activity-log.ts), each node's membership and transfer progress, and the
 * replica sets per partition (replica-sets.ts).
 */
import type { ClusterStatus, NetworkStatus, NodeStatus } from '../../client/types.js';
import { ACTIVITY_ENTRIES_PER_EVENT } from '../../config.js';
import type { WorkerStats } from '../../runtime/control.js';
import type { ActivityEntry, ActivityLog } from './activity-log.js';
import type { ClusterSnapshot, SnapshotTaker } from './cluster-snapshot.js';
import type { History, HistorySample } from './history.js';
import { LATENCY_BUCKETS_SECONDS, type ServerMetrics } from './metrics.js';
import { ReplicaSets, type ReplicationView } from './replica-sets.js';
import { readHistogram, type TrafficView, TrafficWindow } from './traffic-window.js';

export type NodeState = 'up' | 'down' | 'partitioned';

export interface NodeView {
  readonly id: string;
  /** `partitioned`: up, but an injected partition cuts it off from some peers. */
  readonly state: NodeState;
  readonly partitionGroup: number | null;
  readonly partitions: number;
  /** The counters below are null while the node is down or did not answer in time. */
  readonly keys: number | null;
  readonly hintsPending: number | null;
  readonly hintsDelivered: number | null;
  /** Peers this node suspects down (each node has its own view). */
  readonly suspected: number | null;
  readonly readRepairs: number | null;
  readonly sloppyWrites: number | null;
  readonly quorumFailures: number | null;
  readonly messagesDropped: number | null;
  /** Keys an anti-entropy exchange repaired on this node. */
  readonly aeKeysRepaired: number | null;
  /** Requests this node coordinated per second since the last tick (null after a restart). */
  readonly coordinatedPerSec: number | null;
  /** `member`, or `joining` / `leaving` while a membership change moves its data. */
  readonly membership: 'member' | 'joining' | 'leaving';
  /** Keys sent to and received from other nodes in membership changes, so far. */
  readonly transferKeysSent: number | null;
  readonly transferKeysReceived: number | null;
  /** Keys held for partitions the node no longer replicates, still to hand over. */
  readonly keysToDrain: number | null;
}

export interface DashboardEvent {
  readonly atMs: number;
  /** False when the cluster did not answer in time: keep showing the last good event. */
  readonly fresh: boolean;
  readonly error: string | null;
  readonly ring: ClusterStatus['ring'] | null;
  readonly config: ClusterStatus['config'] | null;
  readonly network: NetworkStatus | null;
  readonly nodes: readonly NodeView[];
  readonly traffic: TrafficView;
  /** Summed over the nodes that answered; null when none did. Counters restart with a node. */
  readonly antiEntropy: AntiEntropyView | null;
  /** Replica sets per partition and how many are under-replicated; null when unknown. */
  readonly replication: ReplicationView | null;
  /** The newest history sample (GET /history has the earlier ones); null before the second. */
  readonly sample: HistorySample | null;
  /** The newest admin actions, oldest first (GET /activity has up to its bound). */
  readonly activity: readonly ActivityEntry[];
}

export interface AntiEntropyView {
  /** Exchanges started; of them, found in sync or abandoned at their deadline. */
  readonly exchanges: number;
  readonly inSync: number;
  readonly abandoned: number;
  readonly partitionsRepaired: number;
  readonly keysRepaired: number;
}

const TRAFFIC_SPAN_MS = 2_000;

export class DashboardFeed {
  private readonly window = new TrafficWindow(LATENCY_BUCKETS_SECONDS, TRAFFIC_SPAN_MS);
  /** Each node's coordinated-request count at the previous tick. */
  private readonly previous = new Map<string, { readonly atMs: number; readonly count: number }>();

  private readonly replicaSets = new ReplicaSets();

  constructor(
    private readonly snapshots: SnapshotTaker,
    private readonly metrics: ServerMetrics,
    private readonly history: History,
    private readonly activity: ActivityLog,
  ) {}

  async next(): Promise<DashboardEvent> {
    const reading = await readHistogram(this.metrics.clientDuration, LATENCY_BUCKETS_SECONDS);
    const traffic = this.window.push(Date.now(), reading);
    let snapshot: ClusterSnapshot;
    try {
      snapshot = await this.snapshots.take();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ...emptyEvent(traffic),
        error: message,
        sample: this.history.latest(),
        activity: this.activity.recent(ACTIVITY_ENTRIES_PER_EVENT),
      };
    }
    const { status, counters, takenAtMs } = snapshot;
    return {
      atMs: takenAtMs,
      fresh: true,
      error: null,
      ring: status.ring,
      config: status.config,
      network: status.network,
      nodes: status.nodes.map((node) =>
        this.nodeView(node, counters.get(node.id) ?? null, takenAtMs),
      ),
      traffic,
      antiEntropy: antiEntropyOf(counters.values()),
      replication: this.replicaSets.view(status),
      sample: this.history.latest(),
      activity: this.activity.recent(ACTIVITY_ENTRIES_PER_EVENT),
    };
  }

  private nodeView(node: NodeStatus, stats: WorkerStats | null, atMs: number): NodeView {
    const core = stats?.core ?? null;
    return {
      id: node.id,
      state: nodeState(node),
      partitionGroup: node.partitionGroup,
      partitions: node.partitions,
      keys: node.keys,
      hintsPending: node.hintsPending,
      hintsDelivered: core?.hintsDelivered ?? null,
      suspected: core?.suspected ?? null,
      readRepairs: core?.readRepairs ?? null,
      sloppyWrites: core?.sloppyPuts ?? null,
      quorumFailures: core?.quorumFailures ?? null,
      messagesDropped: node.messagesDropped,
      aeKeysRepaired: core?.aeKeysRepaired ?? null,
      coordinatedPerSec: this.rate(node.id, stats, atMs),
      membership: node.membership ?? 'member',
      transferKeysSent: core?.transferKeysSent ?? null,
      transferKeysReceived: core?.transferKeysReceived ?? null,
      keysToDrain: core?.keysToDrain ?? null,
    };
  }

  private rate(id: string, stats: WorkerStats | null, atMs: number): number | null {
    if (stats === null) {
      this.previous.delete(id);
      return null;
    }
    const count = stats.core.putsOk + stats.core.getsOk + stats.core.quorumFailures;
    const before = this.previous.get(id);
    this.previous.set(id, { atMs, count });
    if (before === undefined || count < before.count || atMs <= before.atMs) return null;
    return ((count - before.count) * 1000) / (atMs - before.atMs);
  }
}

export function nodeState(node: NodeStatus): NodeState {
  if (node.state === 'down') return 'down';
  return node.partitionGroup === null ? 'up' : 'partitioned';
}

export function antiEntropyOf(stats: Iterable<WorkerStats | null>): AntiEntropyView | null {
  const answered = [...stats].filter((node): node is WorkerStats => node !== null);
  if (answered.length === 0) return null;
  const total = (field: (core: WorkerStats['core']) => number): number =>
    answered.reduce((sum, node) => sum + field(node.core), 0);
  return {
    exchanges: total((core) => core.aeExchanges),
    inSync: total((core) => core.aeExchangesInSync),
    abandoned: total((core) => core.aeExchangesAbandoned),
    partitionsRepaired: total((core) => core.aePartitionsRepaired),
    keysRepaired: total((core) => core.aeKeysRepaired),
  };
}

function emptyEvent(traffic: TrafficView): DashboardEvent {
  return {
    atMs: Date.now(),
    fresh: false,
    error: null,
    ring: null,
    config: null,
    network: null,
    nodes: [],
    traffic,
    antiEntropy: null,
    replication: null,
    sample: null,
    activity: [],
  };
}
