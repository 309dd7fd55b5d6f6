/**
 * What a node's sub-machines see of their node (etcd-raft gives its parts a `*raft`; here they
 * get this narrow view instead): who the node is, its limits, the ring it routes by, which
 * peers are down, its local data, ids and timers. NodeCore (node.ts) implements it and routes
 * inputs to the sub-machines; each sub-machine owns its own state and protocol.
 *
 * Also here: the small shared shapes the sub-machines pass each other — who waits for an
 * operation (`Origin`), where a request goes (`Target`), and what to do once a persist is
 * durable (`AfterPersist`).
 */
import type { AntiEntropyLimits } from './anti-entropy.js';
import type { Effects } from './effects.js';
import type { LatencyMeter } from './latency-meter.js';
import type { LocalStore } from './local-store.js';
import type { ClientResult } from './messages.js';
import type { Ring } from './ring.js';
import type { RingState } from './ring-state.js';
import type { SwimConfig } from './swim.js';
import type { Timers } from './timers.js';
import type { TransferLimits } from './transfer.js';
import type { ActorId, KeyRecord, NodeId } from './types.js';

/** Bounds and periods of a node; the runtime fills them from the cluster config (config.ts). */
export interface CoreLimits extends AntiEntropyLimits, TransferLimits {
  /** SWIM gossip membership and failure detection; null: peers are judged by the runtime only. */
  readonly swim: SwimConfig | null;
  readonly inFlightMax: number;
  /** A get asks R replicas, and the rest of its targets after this long (0: all at once). */
  readonly readSpeculateMs: number;
  readonly hintsPerTargetMax: number;
  /** The node's periodic tick: hint delivery, pings, transfers, ring gossip, change checks. */
  readonly tickIntervalMs: number;
  readonly handoffBatchKeysMax: number;
  readonly tombstoneGraceMs: number;
  /** How long a claimant waits for a down sender before it commits without it. */
  readonly changeSenderWaitMs: number;
  readonly siblingsMax: number;
  readonly vvEntriesMax: number;
  /** Keys whose deadline passed that one tick stores as expired (expiry.ts). @default 1000 */
  readonly expirySweepKeysMax?: number;
  /**
   * Past this many bytes of records held (StorageReader.bytes), the node coordinates no new
   * values ('full'); deletes, reads and replica writes go on. 0 or absent: no bound.
   */
  readonly storageBytesMax?: number;
}

/** Who is waiting for an operation's result: a local client, or a peer that forwarded it. */
export type Origin =
  | { readonly kind: 'client'; readonly reqId: number }
  | { readonly kind: 'peer'; readonly from: NodeId; readonly fwdId: number };

/** A node an operation was sent to; `hintFor` names the down primary a stand-in replaces. */
export interface Target {
  readonly node: NodeId;
  readonly hintFor: NodeId | null;
}

/** A coordinated write waiting for its local persist before it goes to the other targets. */
export interface FanOut {
  readonly opId: number;
  readonly key: string;
  readonly record: KeyRecord;
  readonly targets: readonly Target[];
  readonly trace: string | undefined;
}

/** A handoff or transfer batch being made durable here; acked when its last part is. */
export interface BatchReceipt {
  readonly from: NodeId;
  readonly batchId: number;
  readonly ack: 'handoff-ack' | 'transfer-ack';
  remaining: number;
}

/** What to do once a persist is durable. */
export type AfterPersist =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'self-ack';
      readonly fanOut: FanOut;
      /** Whether the copies went to the other targets already, before this persist. */
      readonly sent: boolean;
    }
  | {
      readonly kind: 'peer-ack';
      readonly to: NodeId;
      readonly opId: number;
      /** When the write reached this node (LatencyMeter clock), echoed in the ack. */
      readonly receivedAtMs?: number;
    }
  | { readonly kind: 'batch-part'; readonly batch: BatchReceipt }
  /** Answer a local request (a membership change is accepted once its state is durable). */
  | { readonly kind: 'reply'; readonly reqId: number; readonly result: ClientResult };

export const NOTHING_AFTER = { kind: 'none' } as const satisfies AfterPersist;

/** One notion of a peer being down (peers.ts). */
export interface PeerLiveness {
  /**
   * Route around this peer: the runtime reported it stopped, it let a request time out and
   * has not been heard from since, or SWIM holds it dead.
   */
  isDown(peer: NodeId): boolean;
  /** Gone for good as far as a change's claimant goes: runtime-reported or SWIM-dead only. */
  isDead(peer: NodeId): boolean;
}

export interface NodeContext {
  readonly self: NodeId;
  /** The actor this node issues dots as. */
  readonly actor: ActorId;
  /** Replicas per key. */
  readonly n: number;
  readonly limits: CoreLimits;
  /** The node's data and hints as this node sees them, durable or pending. */
  readonly local: LocalStore<AfterPersist>;
  readonly peers: PeerLiveness;
  readonly timers: Timers;
  /** The ring requests are routed by (the ring state's owners). */
  readonly ring: Ring;
  readonly ringState: RingState;
  /** The ring a running membership change moves to (the ring state's next owners), or null. */
  readonly nextRing: Ring | null;
  /** Every node taking part in the ring state (owners, next owners, departing). */
  readonly ringNodes: readonly NodeId[];
  /** Whether this node keeps `key` as its own data (a replica now, or once a change commits). */
  replicates(key: string): boolean;
  /** Writes a key's own-replica record; every data write goes here so the Merkle trees match. */
  writeData(key: string, record: KeyRecord | null, then: AfterPersist, out: Effects): void;
  /** This node's wall clock in Unix ms (expiry deadlines), or null when it was given none. */
  wallNowMs(): number | null;
  /** `record` as it stands at this node's time: values past their deadline as tombstones. */
  asOfNow(record: KeyRecord): KeyRecord;
  /** The local record of `key` as it stands now; stores it expired if a value expired. */
  current(key: string, out: Effects): KeyRecord | undefined;
  /** Merges a record from a peer (repair, anti-entropy, rehomed hint); whether it changed. */
  mergeData(key: string, record: KeyRecord, out: Effects): boolean;
  allocateId(): number;
  /** Measures the WARS latencies of real traffic (latency-meter.ts); absent without a clock. */
  readonly latency?: LatencyMeter | null;
}

/** Where a context reads the ring state it routes by (ring-view.ts's RingView). */
export interface RingSource {
  readonly ring: Ring;
  readonly state: RingState;
  readonly next: Ring | null;
  readonly nodes: readonly NodeId[];
  replicates(key: string): boolean;
}

type RingPart = 'ring' | 'ringState' | 'nextRing' | 'ringNodes' | 'replicates';

/** A context whose ring-dependent members always read `view`'s current state. */
export function contextOver(fixed: Omit<NodeContext, RingPart>, view: RingSource): NodeContext {
  return {
    ...fixed,
    get ring() {
      return view.ring;
    },
    get ringState() {
      return view.state;
    },
    get nextRing() {
      return view.next;
    },
    get ringNodes() {
      return view.nodes;
    },
    replicates: (key) => view.replicates(key),
  };
}

/** Answers whoever waits on an operation: a local client or the peer that forwarded it. */
export function answer(out: Effects, origin: Origin, result: ClientResult): void {
  if (origin.kind === 'client') out.reply(origin.reqId, result);
  else out.send(origin.from, { type: 'forward-reply', fwdId: origin.fwdId, result });
}

export function failure(
  error: 'invalid' | 'timeout' | 'unavailable' | 'overload' | 'full' | 'conflict',
  message: string,
): ClientResult {
  return { ok: false, error, message };
}
