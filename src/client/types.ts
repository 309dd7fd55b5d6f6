/**
 * The public shape of a ringkv client: what `startCluster()` returns and what the HTTP server
 * and CLI are written against. Values are bytes; strings are accepted and stored as UTF-8.
 */

import type { Dist } from '../util/distributions.js';
import type { RunningSum } from '../util/running-sum.js';
import type { KeyExplanation } from './key-explain.js';
import type { LaneStats } from './lane-counters.js';
import type { NodeCountersSnapshot } from './node-link.js';

export type { LaneCloseReason, LaneStats } from './lane-counters.js';

/** A value as the caller passes it: bytes, or a string stored as UTF-8. */
export type ValueInput = Uint8Array | string;

export interface PutOptions {
  /** The opaque context from an earlier get; the put replaces exactly the versions it saw. */
  readonly context?: string;
  /** Acks to wait for (1..n). @default the cluster's w */
  readonly w?: number;
  /** Of those, acks that must come from the key's own replicas, not stand-ins (0..w). @default 0 */
  readonly pw?: number;
  /**
   * The request's whole budget, every retry included: each attempt's coordinator gets what is
   * left of it. @default the cluster's requestTimeoutMs
   */
  readonly timeoutMs?: number;
  /** Aborts the wait (the write may still happen on the replicas). */
  readonly signal?: AbortSignal;
  /**
   * Follows the request into the log lines of every node it reaches (`"trace":"…"`): 1..128
   * printable ASCII characters, e.g. an HTTP request id. @default a random UUID when the cluster
   * logs at debug or trace level (the only lines that show it), else none
   */
  readonly traceId?: string;
  /**
   * `'local'`: the write also supersedes every version the coordinating replica holds for the
   * key, as if `context` had included them — a blind overwrite (Redis SET) with no read round
   * trip and no sibling for sequential writes. Versions only other replicas hold (written
   * through another coordinator) still become siblings. Over HTTP (connect()): puts only, sent
   * as `X-Ringkv-Supersede: local`.
   * @default none: only `context` decides what the write supersedes
   */
  readonly supersede?: 'local';
  /**
   * The value expires this many ms after the write (1..TTL_MS_MAX in config.ts), by the wall
   * clock of the node that coordinates it; not with expiresAtMs. @default never
   */
  readonly ttlMs?: number;
  /**
   * The value expires at this Unix time in ms (1..EXPIRES_AT_MS_MAX; a time already past makes
   * the write a delete in effect); not with ttlMs. @default never
   */
  readonly expiresAtMs?: number;
  /**
   * The write's idempotency key: a put or delete of the same key with the same id is the same
   * write, so sending it again (after a lost connection or an unknown outcome) answers the first
   * attempt's result and adds no sibling. 1..128 printable ASCII characters; use a fresh unique
   * id (a UUID) per logical write: a reused id with another value is answered with the first
   * write's result and stores nothing. Recognised by the key's coordinator (its recent writes,
   * and every version it still holds); a retry that reaches another coordinator before the first
   * attempt's copy did can still add a sibling. Over HTTP: the `Idempotency-Key` header.
   * @default a random UUID per call (kept by the client's own retries)
   */
  readonly requestId?: string;
}

/** A delete: PutOptions without an expiry (giving one is a ValidationError). */
export type DeleteOptions = PutOptions;

export interface GetOptions {
  /** Replies to wait for (1..n). @default the cluster's r */
  readonly r?: number;
  /** Of those, replies that must come from the key's own replicas (0..r). @default 0 */
  readonly pr?: number;
  /**
   * The request's whole budget, every retry included: each attempt's coordinator gets what is
   * left of it. @default the cluster's requestTimeoutMs
   */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** As PutOptions.traceId (a random UUID only when the cluster logs at debug or trace). */
  readonly traceId?: string;
  /**
   * The node that coordinates this get (any node can; one outside the key's replica set asks
   * all N over the network). For benchmarks and tests. @default the first live node of the
   * key's preference list
   */
  readonly coordinator?: string;
}

export interface PutResult {
  /** Replicas that acknowledged the write durably before the reply (≥ w). */
  readonly acked: number;
  /** The w the request waited for. */
  readonly w: number;
  /** The node that coordinated the write. */
  readonly coordinator: string;
  /**
   * A stand-in node acked in place of a down replica (sloppy quorum): the write is durable on
   * W nodes, but not yet on W of the key's own replicas, so R + W > N does not guarantee a read
   * sees it until the hint is handed over.
   */
  readonly sloppy: boolean;
  /** Siblings the key has after this write; past siblingsSoftMax it is time to resolve them. */
  readonly siblings: number;
  /** Set when the key has more siblings than siblingsSoftMax (Riak warns at 25). */
  readonly warning?: string;
}

export interface GetResult {
  /** False when the key was never written or every version is a delete. */
  readonly found: boolean;
  /** The concurrent values (siblings): one in the common case, several after concurrent writes. */
  readonly values: readonly Uint8Array[];
  /** Opaque causal context: pass it to put/delete to supersede exactly these values. */
  readonly context: string;
  /** Replicas whose answer the result reconciles (≥ r). */
  readonly replies: number;
  /** The r the request waited for. */
  readonly r: number;
  /** Some reply that counted came from a stand-in rather than one of the key's own replicas. */
  readonly sloppy: boolean;
  /** Versions reconciled, tombstones included (values.length counts only live ones). */
  readonly siblings: number;
  /**
   * When each value expires (Unix ms), index for index with `values`; null: that value does
   * not expire. An expired value is never returned.
   */
  readonly expiresAtMs: readonly (number | null)[];
  /** The values decoded as UTF-8. */
  strings(): string[];
  /** The values parsed as JSON. */
  json<T = unknown>(): T[];
}

export interface NodeStatus {
  readonly id: string;
  /** `up` while the worker runs, `down` after it was killed or crashed. */
  readonly state: 'up' | 'down';
  /** Ring partitions this node owns as primary (in the last committed ring). */
  readonly partitions: number;
  /**
   * The node's place in the ring: `member`; `joining` from addNode until the change commits;
   * `leaving` from removeNode until the node has handed everything over and is gone.
   */
  readonly membership?: Membership;
  /** Version of the ring state the node routes by, when it is up (see ClusterStatus.ring). */
  readonly ringVersion?: number | null;
  /** Keys stored on the node (all replicas it holds), when it is up. */
  readonly keys: number | null;
  /** Keys it holds as hints for down replicas, waiting for handoff, when it is up. */
  readonly hintsPending: number | null;
  /**
   * Merkle anti-entropy so far, when the node is up: exchanges it started, how many found the
   * peer already in sync, and keys its exchanges (either side's) repaired here.
   */
  readonly antiEntropy?: {
    readonly exchanges: number;
    readonly inSync: number;
    readonly keysRepaired: number;
  } | null;
  /** The node's group in `network.groups` while the cluster is partitioned, else null. */
  readonly partitionGroup: number | null;
  /**
   * Node-to-node messages the node dropped since it started, sending or receiving (injected
   * faults, a peer gone, malformed input), when it is up.
   */
  readonly messagesDropped: number | null;
  /** The node's own HTTP API and pid, when each node is an OS process (`up --processes`). */
  readonly process?: { readonly url: string; readonly pid: number } | null;
}

/** Conditions injected on node-to-node messages (see Cluster.setNetwork). */
export interface NetworkSettings {
  /** Delay added to every node-to-node message, in ms (0..60000). */
  readonly delayMs: number;
  /** Plus a uniform random extra delay in [0, jitterMs) ms (0..60000). */
  readonly jitterMs: number;
  /** Probability that a node-to-node message is lost (0..1). */
  readonly lossRate: number;
}

/** Changes to NetworkSettings: fields left out keep their current value. */
export type NetworkOptions = Partial<NetworkSettings>;

export interface NetworkStatus extends NetworkSettings {
  /**
   * The partition in force, or null. Nodes the caller left out of `partition()` form the last
   * group together; a node's `partitionGroup` indexes this list.
   */
  readonly groups: readonly (readonly string[])[] | null;
}

/** What one node holds for a key (see Cluster.inspect). */
export interface ReplicaView {
  readonly node: string;
  /** Whether the node is one of the key's N replicas (else it may only hold hints). */
  readonly primary: boolean;
  readonly state: 'up' | 'down';
  /** The node's versions of the key, tombstones as null; null when it holds none or is down. */
  readonly versions: ReadonlyArray<{
    readonly dot: readonly [string, number];
    readonly value: Uint8Array | null;
    /** The version's deadline (Unix ms), when it has one; expired versions read as null. */
    readonly expiresAtMs?: number;
  }> | null;
}

export type Membership = 'member' | 'joining' | 'leaving';

export interface ClusterStatus {
  readonly nodes: readonly NodeStatus[];
  /** The last committed ring: owner of each partition, and its version (bumped by changes). */
  readonly ring: {
    readonly partitionCount: number;
    readonly owners: readonly string[];
    readonly version?: number;
  };
  readonly config: {
    readonly n: number;
    readonly r: number;
    readonly w: number;
    readonly requestTimeoutMs: number;
    readonly valueSizeMaxBytes: number;
    readonly durable: boolean;
    /**
     * The durable engine(s) the nodes' directories hold (`log`, `lmdb`, or both joined by
     * ` and `); absent in memory and from clusters that do not say.
     */
    readonly engine?: string;
    /** How a get fans out (config.ts); absent from nodes older than targeted reads (then 0). */
    readonly readSpeculateMs?: number;
  };
  /** Injected network faults in force. */
  readonly network: NetworkStatus;
}

/** The operations every ringkv front end (embedded API, HTTP, CLI) is built on. */
export interface KvClient {
  put(key: string, value: ValueInput, options?: PutOptions): Promise<PutResult>;
  get(key: string, options?: GetOptions): Promise<GetResult>;
  delete(key: string, options?: DeleteOptions): Promise<PutResult>;
  status(): Promise<ClusterStatus>;
}

/**
 * Fault injection on a local cluster: what the HTTP admin routes and the CLI drive. Bad input
 * (unknown node ids, a node in two groups, out-of-range settings) is a ValidationError and
 * changes nothing. Each call resolves once every running node has the change in force.
 */
export interface ClusterAdmin {
  /** Node ids in ring order of creation (`n1`, `n2`, …). */
  readonly nodeIds: readonly string[];
  /**
   * Stops a node's worker abruptly (as a crash would). Its durable data, if any, stays.
   * Resolves false when the node was down already (nothing happened).
   */
  killNode(id: string): Promise<boolean>;
  /**
   * Starts a killed node again and reconnects it to its peers (faults in force apply to it).
   * Resolves false when the node was running already.
   */
  restartNode(id: string): Promise<boolean>;
  /**
   * Splits the nodes into groups whose members cannot exchange messages with other groups
   * (both directions). Unlisted nodes form one more group together: `partition([['n1']])`
   * isolates n1. Replaces any earlier partition. Clients still reach every node.
   */
  partition(groups: readonly (readonly string[])[]): Promise<NetworkStatus>;
  /** Removes the partition. Delay, jitter and loss stay (reset them with setNetwork). */
  heal(): Promise<NetworkStatus>;
  /** Sets delay, jitter and loss on every node-to-node message. */
  setNetwork(options: NetworkOptions): Promise<NetworkStatus>;
  /**
   * Starts a new node and joins it to the ring; resolves once the change committed on every
   * running node and every moved key was handed over. Changes run one at a time (calls queue);
   * one started elsewhere that is still running is a BusyError. A bad or used id is a
   * ValidationError; not done within the timeout, a TimeoutError naming what is pending.
   */
  addNode(options?: AddNodeOptions): Promise<MembershipChangeResult>;
  /**
   * Takes a node out of the ring: a running node hands its data over first (`leave`), a down
   * one is removed and the others re-replicate its keys among themselves (`remove`). Resolves
   * once that is done and the node is stopped and gone from the cluster. Errors as addNode;
   * an unknown id or the last node is a ValidationError.
   */
  removeNode(id: string, options?: RemoveNodeOptions): Promise<MembershipChangeResult>;
}

export interface MembershipChangeOptions {
  /** How long to wait for the change to finish. @default the cluster's membershipChangeTimeoutMs */
  readonly timeoutMs?: number;
}

export interface RemoveNodeOptions extends MembershipChangeOptions {
  /**
   * Remove the node even though fewer than n nodes would remain (every key would then have
   * fewer than n replicas). @default false: such a remove is a ValidationError
   */
  readonly force?: boolean;
}

export interface AddNodeOptions extends MembershipChangeOptions {
  /** The new node's id (letters, digits, `.`, `_`, `-`). @default the next free `n<k>` */
  readonly id?: string;
}

export interface MembershipChangeResult {
  /** The node added or removed. */
  readonly id: string;
  /** `join` (addNode), `leave` (removeNode of a running node) or `remove` (of a down node). */
  readonly kind: 'join' | 'leave' | 'remove';
  /** The ring version the change committed as. */
  readonly version: number;
  /** How long the change took, from the request to the last handover. */
  readonly ms: number;
  /** Keys streamed to new replicas while the change ran (once per target), over all nodes. */
  readonly keysSent: number;
  /** Keys handed over after the commit by nodes that no longer replicate them. */
  readonly keysDrained: number;
}

/**
 * Extra latency per peer message type (`replica-put`, `replica-get-reply`, …), each a
 * distribution in ms as JSON: `{"constant": 5}`, `{"exp": {"rate": 0.2}}` (mean 5),
 * `{"pareto": {"xm": 1, "alpha": 2}}`, `{"lognormal": {"mu": 1, "sigma": 0.5}}` or
 * `{"mix": [{"weight": 9, "dist": …}, …]}` (see src/util/distributions.ts).
 */
export type MessageDelays = Readonly<Record<string, Dist>>;

/** One node's raw counters: null while it is down or did not answer the stats query in time. */
export interface NodeCounters {
  readonly id: string;
  readonly stats: NodeCountersSnapshot | null;
}

/** A running local cluster: a KvClient that also owns the nodes. */
export interface Cluster extends KvClient, ClusterAdmin {
  /**
   * What every node holds for `key` right now, straight from each node's local data (no
   * quorum): for watching replication, hinted handoff and repair happen.
   */
  inspect(key: string): Promise<ReplicaView[]>;
  /**
   * Every node's view of `key` — partition, preference list, stand-ins, siblings with their
   * dots, hints, pending repairs, anti-entropy — and a plain-language verdict. Bounded: one key,
   * a deadline, no scans.
   */
  explain(key: string): Promise<KeyExplanation>;
  /** Every node's raw counters (read-only), for metrics and the dashboard. */
  nodeStats(): Promise<NodeCounters[]>;
  /**
   * The process runtime's request-lane counters, one entry per node sent a request so far; null
   * when the nodes are worker threads (no lanes).
   */
  laneStats(): LaneStats[] | null;
  /**
   * Client requests the nodes answered so far and their summed service time — from the send to
   * the node's answer leaving it, without the wait for this thread to read the answer; null when
   * the runtime cannot tell (the process runtime's remote nodes). Admission control reads it.
   */
  serviceTime?(): RunningSum | null;
  /**
   * Delays every node-to-node message of the given types by a fresh sample of its distribution
   * (on top of setNetwork's delay); null or `{}` removes them. For benchmarks such as
   * `ringkv bench staleness --mode real`. Timers fire on whole milliseconds, so this suits
   * millisecond-scale delays. `seed` seeds the nodes' samplers. Bad input is a ValidationError.
   */
  setMessageDelays(delays: MessageDelays | null, seed?: number): Promise<void>;
  /** Stops every node and releases storage. Pending requests fail with UnavailableError. */
  close(): Promise<void>;
}
