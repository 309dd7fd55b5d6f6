/**
 * The control protocol between the launcher (main thread) and a worker thread hosting one or
 * more nodes (see `nodeThreads` in config.ts). Every message about a node names it. Peer traffic
 * does not pass here: it flows over the MessageChannel mesh between threads and the thread's
 * LocalHub within one. Client requests and their replies are batched per tick, like peer
 * messages: one post per thread per tick, whichever of its nodes they are for.
 */
import type { MessagePort } from 'node:worker_threads';
import type { LogLevel, StorageEngineName } from '../config.js';
import type { NodeKeyView } from '../core/explain.js';
import type { WarsLatencies } from '../core/latency-meter.js';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import type { CoreLimits, NodeCore, NodeStats } from '../core/node.js';
import type { RingState } from '../core/ring-state.js';
import type { KeyRecord } from '../core/types.js';
import type { StorageEngine, StorageStats } from '../storage/engine.js';
import type { NetworkFaults } from '../transport/faults.js';
import type { FaultStats } from '../transport/faulty.js';
import type { TransportStats } from '../transport/transport.js';
import type { Dist } from '../util/distributions.js';

/**
 * Requests, and replies, that go in one post at most; a batch posts as soon as it holds this
 * many, before the turn ends. With closed-loop clients (redis-benchmark, wrk) requests arrive
 * in waves, and a wave posted whole at the end of the turn made the node thread wait for the
 * front to parse all of it, then the front wait for the node thread: one core busy at a time.
 * Posting every 16 lets both work at once: RESP GET 16.6 → 20.7 k/s and SET 10.8 → 12.8 k/s
 * with 5 nodes on one thread (2 cores, redis-benchmark -c 50), at the same CPU per op. 4, 8 and
 * 32 did no better.
 */
export const POST_ITEMS_MAX = 16;

/** What starting one node on a thread takes (`start` below). */
export interface WorkerInit {
  readonly id: string;
  readonly n: number;
  /** The ring the cluster started with: owner of each partition. */
  readonly owners: readonly string[];
  /**
   * The cluster's latest ring state the launcher knows, when newer than `owners` (a joining
   * node is not in `owners`; a restarted in-memory node would otherwise start from version 0).
   */
  readonly ringState?: RingState;
  readonly dataDir: string | null;
  /** The engine of a new node directory under `dataDir` (config `storageEngine`). */
  readonly storageEngine: StorageEngineName;
  readonly forwardSlackMs: number;
  readonly limits: CoreLimits;
  /** The network faults in force when the node starts (a restarted node stays partitioned). */
  readonly faults: WorkerFaults;
  /** The node logs at this level and above (config `logLevel`). */
  readonly logLevel: LogLevel;
  /**
   * File descriptor the node writes its log lines to: stderr, or the cluster's log file that
   * the launcher opened once (descriptors are process-wide, so every worker shares it).
   */
  readonly logFd: number;
}

/**
 * Extra latency per peer message type, each a distribution in ms (Cluster.setMessageDelays);
 * the same shape as the client's public MessageDelays.
 */
export type MessageDelays = Readonly<Record<string, Dist>>;

/**
 * A node's NetworkFaults plus optional per-message-type delays, which the worker samples itself
 * (worker-main.ts) and adds to `delayMs` (see Cluster.setMessageDelays).
 */
export interface WorkerFaults extends NetworkFaults {
  readonly messageDelays?: MessageDelays | null;
  /** Seeds the worker's delay sampler (mixed with the node id). @default 0 */
  readonly delaySeed?: number;
}

export interface RequestEnvelope {
  readonly reqId: number;
  readonly request: ClientRequest;
}

/** A request on its way to a thread: the node that coordinates it, and the request. */
export interface ThreadRequest extends RequestEnvelope {
  readonly node: string;
}

export interface ReplyEnvelope {
  readonly reqId: number;
  readonly result: ClientResult;
}

export interface WorkerStats {
  readonly actor: string;
  readonly keys: number;
  readonly core: NodeStats;
  /** The node's WARS latency histograms (core/latency-meter.ts); null when it measures none. */
  readonly latency: WarsLatencies | null;
  readonly transport: TransportStats;
  readonly faults: FaultStats;
  /**
   * The storage engine's counts, when it keeps any (the log engine); null otherwise, absent from
   * nodes older than these counts.
   */
  readonly storage?: StorageStats | null;
  /**
   * Bytes of the records the node holds in memory, as --storage-max counts them (log and memory
   * engines); null on lmdb, absent from nodes older than this count.
   */
  readonly recordBytes?: number | null;
}

/**
 * A node's WorkerStats from its parts, the same in both runtimes (a worker thread's node and a
 * `ringkv node` process differ only in the transport counts they pass).
 */
export function workerStats(
  actor: string,
  core: Pick<NodeCore, 'stats' | 'latencies'>,
  storage: StorageEngine,
  transport: TransportStats,
  faults: FaultStats,
): WorkerStats {
  return {
    actor,
    keys: storage.count(),
    core: core.stats(),
    latency: core.latencies(),
    transport,
    faults,
    storage: storage.stats?.() ?? null,
    recordBytes: storage.bytes?.() ?? null,
  };
}

export type ToWorker =
  /** Opens the node's storage and starts it on this thread; answered by `ready` or `fatal`. */
  | { readonly type: 'start'; readonly node: string; readonly init: WorkerInit }
  | {
      readonly type: 'connect';
      readonly node: string;
      readonly peer: string;
      readonly port: MessagePort;
    }
  | { readonly type: 'disconnect'; readonly node: string; readonly peer: string }
  | {
      readonly type: 'peer-status';
      readonly node: string;
      readonly peer: string;
      readonly up: boolean;
    }
  | { readonly type: 'requests'; readonly batch: readonly ThreadRequest[] }
  | { readonly type: 'stats'; readonly node: string; readonly queryId: number }
  | {
      readonly type: 'inspect';
      readonly node: string;
      readonly queryId: number;
      readonly key: string;
    }
  | {
      readonly type: 'explain';
      readonly node: string;
      readonly queryId: number;
      readonly key: string;
    }
  /** Replaces the node's network faults; answered by `faults-applied` once in force. */
  | {
      readonly type: 'faults';
      readonly node: string;
      readonly queryId: number;
      readonly faults: WorkerFaults;
    }
  /** Stops the node: `close` cleanly, `kill` abruptly (a crash); both answered by `closed`. */
  | { readonly type: 'close' | 'kill'; readonly node: string };

export type FromWorker =
  | { readonly type: 'ready'; readonly node: string; readonly actor: string }
  | {
      readonly type: 'replies';
      readonly batch: readonly ReplyEnvelope[];
      /** When the thread posted them (host-clocks.ts processClockMs): ends their service time. */
      readonly sentAtMs: number;
    }
  | {
      readonly type: 'stats';
      readonly node: string;
      readonly queryId: number;
      readonly stats: WorkerStats;
    }
  | {
      readonly type: 'inspect';
      readonly node: string;
      readonly queryId: number;
      readonly record: KeyRecord | null;
    }
  | {
      readonly type: 'explain';
      readonly node: string;
      readonly queryId: number;
      readonly view: NodeKeyView;
    }
  | { readonly type: 'faults-applied'; readonly node: string; readonly queryId: number }
  /** The node stopped as asked (`close` or `kill`); the thread forgets it. */
  | { readonly type: 'closed'; readonly node: string; readonly how: 'close' | 'kill' }
  /** The node failed (storage, a core invariant, or it could not start) and stops. */
  | { readonly type: 'fatal'; readonly node: string; readonly message: string };
