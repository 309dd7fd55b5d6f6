/**
 * What a local cluster's runtime offers beyond the data path: node processes and injected
 * network faults. The client validates and sequences (membership changes, known node ids); the
 * runtime does the work. runtime/local-cluster.ts satisfies these shapes structurally (runtime/
 * does not import client/); src/index.ts plugs it in.
 */
import type { RingState } from '../core/ring-state.js';
import type { MessageDelays, NetworkOptions, NetworkStatus } from './types.js';

/** The node list of a cluster, as a durable cluster stores it between runs. */
export interface MembershipRecord {
  /** The nodes the cluster was first started with, in order: they define its first ring. */
  readonly initial: readonly string[];
  /** The cluster's nodes, in the order they were created. */
  readonly nodes: readonly string[];
  /** Ids that left or were removed: never given out again (their data could come back). */
  readonly removed: readonly string[];
}

/** Starting and stopping nodes for membership changes. */
export interface NodeProcesses {
  /** Starts a node with a fresh id from `ringState` (it is not in the ring yet) and wires it. */
  addNode(id: string, ringState: RingState): Promise<void>;
  /**
   * The node addNode starts runs its join change itself (`ringkv node --join`) and addNode
   * resolves once it committed: the client then only waits for it to settle. @default false
   */
  readonly joinsItself?: boolean;
  /** Stops a node for good: it is never restarted and leaves the cluster. */
  forget(id: string): Promise<void>;
  /** The newest committed ring state: a node (re)started from now on starts from it. */
  noteRingState(state: RingState): void;
  /** The node list changed: a durable cluster keeps it for its next start. */
  saveMembership(record: MembershipRecord): void;
}

/** Fault injection and lifecycle of a local cluster (see ClusterAdmin for the semantics). */
export interface ClusterControl extends NodeProcesses {
  /** False when the node was not running. */
  kill(id: string): Promise<boolean>;
  /** False when the node was running already. */
  restart(id: string): Promise<boolean>;
  partition(groups: readonly (readonly string[])[]): Promise<NetworkStatus>;
  heal(): Promise<NetworkStatus>;
  setNetwork(options: NetworkOptions): Promise<NetworkStatus>;
  setMessageDelays(delays: MessageDelays | null, seed?: number): Promise<void>;
  /** The injected faults in force. */
  network(): NetworkStatus;
  /** The node's group in `network().groups`, or null when the cluster is not partitioned. */
  partitionGroupOf(id: string): number | null;
  /** Stops every node and releases storage. */
  close(): Promise<void>;
}
