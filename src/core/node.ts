/**
 * NodeCore: one storage node's protocol as a pure state machine. The runtime feeds it one input
 * at a time and carries out the returned effects in order (see effects.ts). It never awaits,
 * reads a clock, draws a random number or touches a thread, socket or file, so the same code
 * runs in worker threads, in TCP processes and in the deterministic simulator.
 *
 * Roles:
 * - coordinator of client requests (coordinator.ts): puts for keys it replicates, gets for any;
 *   a put reaching a node outside the key's preference list is forwarded to a live replica,
 *   because only a replica can issue the key's next dot;
 * - replica: merges records sent by coordinators and answers reads from its local data;
 * - stand-in (sloppy quorum): holds hints for down replicas and hands them over (hints.ts);
 * - anti-entropy (anti-entropy.ts): compares Merkle trees with peers and repairs differences;
 * - reaper (reaper.ts): removes tombstones every replica holds, after a grace period and a
 *   check that no node could still bring an older version back.
 *
 * Which peers are down: the runtime reports crashes and restarts (`peer-status`); besides, a
 * peer that let an operation time out is suspected until any message from it arrives. Down and
 * suspected peers are routed around with stand-ins; ownership never changes for them.
 */
import { AntiEntropy, type AntiEntropyLimits, MerkleIndex } from './anti-entropy.js';
import { assert } from './assert.js';
import {
  Coordinator,
  type CoordinatorStats,
  type GetOutcome,
  type Origin,
  sameDots,
  type Target,
} from './coordinator.js';
import { type Effect, Effects } from './effects.js';
import { HintBook } from './hints.js';
import { LocalStore } from './local-store.js';
import { MemberView } from './member-view.js';
import type { MembershipConfig } from './membership.js';
import { versionHash } from './merkle.js';
import {
  type AdminRequest,
  type ClientResult,
  type DataRequest,
  type GetRequest,
  type PeerMessage,
  type PutRequest,
  parseClientRequest,
  parsePeerMessage,
} from './messages.js';
import { Reaper } from './reaper.js';
import { Ring } from './ring.js';
import {
  abortJoin,
  beginChange,
  commitChange,
  endDeparture,
  initialRingState,
  isNewerRing,
  isRingState,
  movesOf,
  nodesOf,
  type PartitionMove,
  type RingChange,
  type RingState,
  sendersOf,
  supersedesRing,
  takeOver,
} from './ring-state.js';
import { type StreamSpec, type TransferLimits, Transfers } from './transfer.js';
import {
  type ActorId,
  type Dot,
  hintKey,
  type KeyRecord,
  type NodeId,
  type StorageReader,
} from './types.js';
import { EMPTY_RECORD, isDeleted, siblingByRid, sync, update } from './version.js';

/** Bounds and periods of a node; the runtime fills them from the cluster config (config.ts). */
export interface CoreLimits extends AntiEntropyLimits, TransferLimits {
  /** Gossip membership and failure detection; null: peers are judged by the runtime only. */
  readonly membership: MembershipConfig | null;
  readonly inFlightMax: number;
  readonly hintsPerTargetMax: number;
  readonly handoffIntervalMs: number;
  readonly handoffBatchKeysMax: number;
  readonly tombstoneGraceMs: number;
  /** How long a claimant waits for a down sender before it commits without it. */
  readonly changeSenderWaitMs: number;
  readonly siblingsMax: number;
  readonly vvEntriesMax: number;
}

export interface NodeCoreOptions {
  readonly id: NodeId;
  /** The actor this node issues dots as (see ActorId). */
  readonly actor: ActorId;
  /** The ring the cluster started with (version 0). */
  readonly ring: Ring;
  /**
   * A newer ring state to start from (a joining node gets the cluster's). The node also keeps
   * the last state it adopted durably and uses whichever of the three supersedes the others.
   */
  readonly ringState?: RingState;
  /** Replicas per key. */
  readonly n: number;
  /** Extra time a forwarder waits past the request's own timeout for the coordinator's answer. */
  readonly forwardSlackMs: number;
  readonly limits: CoreLimits;
  readonly store: StorageReader;
  /**
   * A monotonic clock in ms and a uniform [0, 1) source. Given both (and limits.membership),
   * the node runs gossip membership with SWIM failure detection (member-view.ts).
   */
  readonly now?: () => number;
  readonly random?: () => number;
}

export type Input =
  /** Arms the node's periodic work (hint handoff, probes). Optional: any first input does too. */
  | { readonly kind: 'start' }
  /** A request from a local client; answered by a `reply` effect with the same reqId. */
  | { readonly kind: 'request'; readonly reqId: number; readonly request: unknown }
  /** A message from a peer, not yet validated. */
  | { readonly kind: 'message'; readonly from: NodeId; readonly message: unknown }
  | { readonly kind: 'timer'; readonly timerId: number }
  /** The persist effect with this token is durable. */
  | { readonly kind: 'persisted'; readonly token: number }
  /** The runtime learned that a peer stopped or started. */
  | { readonly kind: 'peer-status'; readonly peer: NodeId; readonly up: boolean };

/** What to do once a persist is durable. */
type AfterPersist =
  | { readonly kind: 'none' }
  | { readonly kind: 'self-ack'; readonly fanOut: FanOut }
  | { readonly kind: 'peer-ack'; readonly to: NodeId; readonly opId: number }
  | { readonly kind: 'batch-part'; readonly batch: BatchReceipt }
  /** Answer a local request (a membership change is accepted once its state is durable). */
  | { readonly kind: 'reply'; readonly reqId: number; readonly result: ClientResult };

/** A coordinated write waiting for its local persist before it goes to the other targets. */
interface FanOut {
  readonly opId: number;
  readonly key: string;
  readonly record: KeyRecord;
  readonly targets: readonly Target[];
  readonly trace: string | undefined;
}

/** A handoff or transfer batch being made durable here; acked when its last part is. */
interface BatchReceipt {
  readonly from: NodeId;
  readonly batchId: number;
  readonly ack: 'handoff-ack' | 'transfer-ack';
  remaining: number;
}

interface PendingForward {
  readonly reqId: number;
  readonly timerId: number;
}

export interface NodeStats extends CoordinatorStats {
  /** Operations waiting for replica answers. */
  inFlight: number;
  /** Persists issued and not yet reported durable. */
  persistsPending: number;
  /** Peer messages dropped at the boundary because they were malformed. */
  malformedMessages: number;
  /** Puts handed to another node because this one does not replicate the key. */
  forwarded: number;
  replicaPuts: number;
  replicaGets: number;
  /** Requests refused because inFlightMax was reached. */
  overloaded: number;
  /** Hinted keys held for down replicas, now. */
  hintsPending: number;
  hintsStored: number;
  hintsRefused: number;
  /** Hinted keys handed to their owner and dropped here. */
  hintsDelivered: number;
  repairsApplied: number;
  tombstonesReaped: number;
  aeExchanges: number;
  aeExchangesInSync: number;
  aeExchangesAbandoned: number;
  /** Keys whose local record an anti-entropy exchange changed. */
  aeKeysRepaired: number;
  aePartitionsRepaired: number;
  /** Keys waiting for their reap (grace period or check round). */
  reapsPending: number;
  reapsSent: number;
  reapChecksFailed: number;
  /** Peers currently suspected down (timed out, not heard from since). */
  suspected: number;
  /** Version of the ring state this node routes by. */
  ringVersion: number;
  /** Keys sent to new replicas in membership changes (once per target). */
  transferKeysSent: number;
  transferKeysReceived: number;
  /** Keys held for partitions this node no longer replicates, still to hand over. */
  keysToDrain: number;
  /** Members the gossip view holds suspect, dead or left (0 without gossip membership). */
  membersUnhealthy: number;
  /** Members the gossip view holds dead or left: routed around like a down peer. */
  membersDead: number;
}

/** Meta entry holding the last ring state this node adopted. */
export const RING_META = 'ringState';

/** How many self-addressed messages one step may process; bounds the local delivery loop. */
const LOCAL_DELIVERIES_MAX = 4096;

export class NodeCore {
  readonly id: NodeId;
  private readonly opts: NodeCoreOptions;
  private ringState: RingState;
  /** nodesOf(ringState), kept with it: every node taking part in the ring. */
  private ringNodes: NodeId[];
  /** The ring requests are routed by (ringState.owners). */
  private ring: Ring;
  /** The ring a running membership change moves to (ringState.next). */
  private nextRing: Ring | null;
  /** Partitions this node replicates in `ring` or `nextRing`. */
  private replicated = new Set<number>();
  /** Keys held here of partitions this node does not replicate, by partition: to drain. */
  private readonly foreign = new Map<number, Set<string>>();
  /** Version hashes of keys a move stream delivered: unchanged ones need no drain. */
  private readonly moved = new Map<string, number>();
  private readonly transfers: Transfers;
  /** The partitions the running change moves (empty when none runs), and their senders. */
  private moves: PartitionMove[] = [];
  private senders = new Set<NodeId>();
  /** Claimant only: senders that finished the running change. */
  private readonly claimantDone = new Set<NodeId>();
  /** Claimant only: handoff ticks each unfinished sender of the running change has been down. */
  private readonly senderDownTicks = new Map<NodeId, number>();
  /** This node told the claimant it finished its moves (re-sent every tick anyway). */
  private reportedDone = false;
  private ringGossipCursor = 0;
  /** Gossip membership, when the runtime injected a clock and randomness. */
  private readonly members: MemberView | null;
  private nextId = 1;
  private readonly coordinator: Coordinator;
  private readonly local: LocalStore<AfterPersist>;
  private readonly hints: HintBook;
  private readonly reaper: Reaper;
  private readonly forwards = new Map<number, PendingForward>();
  private readonly forwardByTimer = new Map<number, number>();
  private readonly down = new Set<NodeId>();
  private readonly suspected = new Set<NodeId>();
  private tickTimerId: number | null = null;
  private aeTimerId: number | null = null;
  private readonly antiEntropy: AntiEntropy;
  private readonly counters = {
    malformedMessages: 0,
    forwarded: 0,
    replicaPuts: 0,
    replicaGets: 0,
    overloaded: 0,
    hintsStored: 0,
    hintsRefused: 0,
    hintsDelivered: 0,
    repairsApplied: 0,
    tombstonesReaped: 0,
  };

  constructor(opts: NodeCoreOptions) {
    assert(opts.n >= 1, 'n is at least 1');
    this.opts = opts;
    this.id = opts.id;
    this.ringState = startingRingState(opts);
    this.ringNodes = nodesOf(this.ringState);
    this.ring = Ring.fromOwners(this.ringState.owners);
    this.nextRing = null;
    this.deriveFromRings();
    this.coordinator = new Coordinator(opts.id);
    this.local = new LocalStore(opts.store, () => this.allocateId());
    this.hints = new HintBook(opts.limits.hintsPerTargetMax, opts.limits.handoffBatchKeysMax);
    this.hints.load(opts.store);
    this.reaper = new Reaper(opts.limits.tombstoneGraceMs, () => this.allocateId());
    this.antiEntropy = new AntiEntropy(this.antiEntropyHost(), this.scanData(), opts.limits);
    this.transfers = new Transfers(this.transferHost(), opts.limits);
    this.transfers.reset(this.streamSpecs());
    this.members = this.memberView();
  }

  private memberView(): MemberView | null {
    const { now, random, limits } = this.opts;
    if (now === undefined || random === undefined || limits.membership === null) return null;
    return new MemberView({
      self: this.id,
      seeds: this.ringNodes,
      config: limits.membership,
      now,
      random,
      allocateId: () => this.allocateId(),
    });
  }

  /**
   * One pass over the local data (durable and pending): the Merkle trees of the partitions this
   * node replicates in the current ring, and the keys it holds of partitions it replicates in
   * neither the current nor the next ring (to drain). Run at start and on every ring change.
   */
  private scanData(): MerkleIndex {
    const index = new MerkleIndex(this.ring, this.id, this.opts.n);
    this.foreign.clear();
    const visit = (key: string, record: KeyRecord | undefined) => {
      if (record === undefined) return;
      index.update(key, record);
      const partition = this.ring.partitionOf(key);
      if (this.replicated.has(partition)) return;
      const keys = this.foreign.get(partition) ?? new Set<string>();
      this.foreign.set(partition, keys);
      keys.add(key);
    };
    for (const [key, record] of this.opts.store.entries({ ns: 'data' })) {
      if (!this.local.isPending(key)) visit(key, record);
    }
    for (const key of this.local.pendingKeys()) visit(key, this.local.read(key));
    return index;
  }

  /** Recomputes what follows from `ringState`'s rings: the next ring, what this node replicates, the moves. */
  private deriveFromRings(): void {
    const { next } = this.ringState;
    this.nextRing = next === null ? null : Ring.fromOwners(next);
    this.replicated = new Set<number>();
    for (const ring of [this.ring, this.nextRing]) {
      if (ring === null) continue;
      for (let p = 0; p < ring.partitionCount; p++) {
        if (ring.preferenceListForPartition(p, this.opts.n).includes(this.id))
          this.replicated.add(p);
      }
    }
    this.moves = movesOf(this.ringState, this.opts.n);
    this.senders = sendersOf(this.moves);
  }

  /** Whether this node keeps `key` as its own data (a replica now, or once the change commits). */
  private replicates(key: string): boolean {
    return this.replicated.has(this.ring.partitionOf(key));
  }

  private antiEntropyHost() {
    const node = this;
    return {
      self: this.id,
      get ring() {
        return node.ring;
      },
      allocateId: () => this.allocateId(),
      isDown: (peer: NodeId) => this.isDown(peer),
      read: (key: string) => this.local.read(key),
      merge: (key: string, record: KeyRecord, out: Effects) => this.mergeData(key, record, out),
    };
  }

  private transferHost() {
    return {
      allocateId: () => this.allocateId(),
      ringIdentity: () => this.ringState,
      isDown: (peer: NodeId) => this.isDown(peer),
      read: (key: string) => this.local.read(key),
      saveCursor: (name: string, key: string, out: Effects) =>
        this.local.writeMeta(name, key, { kind: 'none' }, out),
      moved: (key: string, record: KeyRecord) => this.moved.set(key, versionHash(record)),
      drained: (key: string, sent: KeyRecord, out: Effects) => this.dropDrained(key, sent, out),
    };
  }

  /** The streams this node runs for its ring state: its moves, and a drain per foreign partition. */
  private streamSpecs(): StreamSpec[] {
    const specs: StreamSpec[] = [];
    const version = this.ringState.changeVersion;
    for (const move of this.moves) {
      if (move.sender !== this.id) continue;
      const cursorMeta = `transfer:${version}:${move.partition}`;
      const cursor = this.opts.store.getMeta(cursorMeta);
      specs.push({
        partition: move.partition,
        targets: move.incoming,
        keys: () => this.antiEntropy.index.keysOf(move.partition),
        cursorMeta,
        cursor: typeof cursor === 'string' ? cursor : null,
      });
    }
    // A drain goes to every replica of the partition: whichever missed a write this node holds
    // gets it (merging is idempotent; keys a move already delivered were dropped unsent).
    for (const [partition, keys] of this.foreign) {
      const targets = this.ring.preferenceListForPartition(partition, this.opts.n);
      assert(!targets.includes(this.id), 'a foreign partition is replicated elsewhere');
      const sorted = () => [...keys].sort();
      specs.push({ partition, targets, keys: sorted, cursorMeta: null, cursor: null });
    }
    return specs;
  }

  /** A drained key every target acked: drop it here unless it changed since it was sent. */
  private dropDrained(key: string, sent: KeyRecord, out: Effects): void {
    const partition = this.ring.partitionOf(key);
    const current = this.local.read(key);
    if (current !== undefined && !sameDots(current, sent)) return; // changed: drained again
    this.foreign.get(partition)?.delete(key);
    if (this.foreign.get(partition)?.size === 0) this.foreign.delete(partition);
    if (current !== undefined) this.writeData(key, null, { kind: 'none' }, out);
  }

  /** Every write of a key's own replica goes here, so its Merkle tree always matches. */
  private writeData(key: string, record: KeyRecord | null, then: AfterPersist, out: Effects): void {
    this.antiEntropy.index.update(key, record);
    this.local.write('data', key, record, then, out);
  }

  /**
   * Merges a record from a peer (repair, anti-entropy); returns whether anything changed. A
   * merge that leaves only tombstones arms a reap: otherwise a tombstone that anti-entropy or
   * repair carried back onto a replica that had reaped it stays until some read (sim seed 30331).
   */
  private mergeData(key: string, incoming: KeyRecord, out: Effects): boolean {
    if (!this.replicates(key)) {
      this.holdForeign(key, incoming, { kind: 'none' }, out);
      return true;
    }
    const local = this.local.read(key);
    const merged = sync(local ?? EMPTY_RECORD, incoming);
    if (local !== undefined && sameDots(local, merged)) return false;
    this.writeData(key, merged, { kind: 'none' }, out);
    if (merged.siblings.length > 0 && isDeleted(merged)) {
      const primaries = this.ring.preferenceList(key, this.opts.n);
      this.reaper.consider({ key, dots: merged.siblings.map((s) => s.dot), primaries }, out);
    }
    return true;
  }

  /** Consumes one input and returns the effects to carry out, in order. */
  step(input: Input): Effect[] {
    const out = new Effects();
    if (this.tickTimerId === null) this.armTick(out);
    if (this.aeTimerId === null) this.armAntiEntropy(out);
    this.members?.arm(out);
    this.dispatch(input, out);
    this.deliverLocal(out);
    return out.list;
  }

  stats(): NodeStats {
    return {
      ...this.coordinator.stats,
      ...this.counters,
      ...this.reaper.stats,
      ...this.antiEntropy.stats,
      reapsPending: this.reaper.pending,
      inFlight: this.coordinator.inFlight + this.forwards.size,
      persistsPending: this.local.persistsPending,
      hintsPending: this.hints.count(),
      suspected: this.suspected.size,
      ringVersion: this.ringState.version,
      transferKeysSent: this.transfers.stats.keysSent,
      transferKeysReceived: this.transfers.stats.keysReceived,
      keysToDrain: this.keysToDrain(),
      membersUnhealthy: this.members?.unhealthy() ?? 0,
      membersDead: this.members?.dead() ?? 0,
    };
  }

  private keysToDrain(): number {
    let count = 0;
    for (const keys of this.foreign.values()) count += keys.size;
    return count;
  }

  /** Peer messages dropped as malformed so far (cheaper than stats(); the host logs growth). */
  get malformedMessages(): number {
    return this.counters.malformedMessages;
  }

  /** The local record for a key, including writes not yet durable. */
  read(key: string): KeyRecord | undefined {
    return this.local.read(key);
  }

  private dispatch(input: Input, out: Effects): void {
    switch (input.kind) {
      case 'start':
        return;
      case 'request':
        return this.onClientRequest(input.reqId, input.request, out);
      case 'message':
        return this.onPeerMessage(input.from, input.message, out);
      case 'timer':
        return this.onTimer(input.timerId, out);
      case 'persisted':
        return this.afterPersist(this.local.onPersisted(input.token), out);
      case 'peer-status':
        return this.onPeerStatus(input.peer, input.up);
    }
  }

  /** Messages a node sends itself are handled here, in the same step, without the transport. */
  private deliverLocal(out: Effects): void {
    let deliveries = 0;
    for (let i = 0; i < out.list.length; i++) {
      const effect = out.list[i]!;
      if (effect.kind !== 'send' || effect.to !== this.id) continue;
      out.list.splice(i, 1);
      i--;
      deliveries++;
      assert(deliveries <= LOCAL_DELIVERIES_MAX, 'local deliveries per step are bounded');
      this.onValidMessage(this.id, effect.message, out);
    }
  }

  // --- peers up, down and suspected ---------------------------------------------------------

  private onPeerStatus(peer: NodeId, up: boolean): void {
    if (peer === this.id) return;
    if (up) {
      this.down.delete(peer);
      this.suspected.delete(peer);
    } else this.down.add(peer);
  }

  private isDown(node: NodeId): boolean {
    if (node === this.id) return false;
    return this.down.has(node) || this.suspected.has(node) || this.members?.isDead(node) === true;
  }

  private heardFrom(peer: NodeId): void {
    this.suspected.delete(peer);
  }

  /**
   * Where a request for `key` goes: each primary that is up, and for each one that is down the
   * next live node past the preference list on the ring, as its stand-in.
   */
  private targetsFor(key: string): { primaries: readonly NodeId[]; targets: Target[] } {
    const primaries = this.ring.preferenceList(key, this.opts.n);
    const walk = this.ring.preferenceListForPartition(
      this.ring.partitionOf(key),
      this.ring.nodes().length,
    );
    const standIns = walk.slice(primaries.length).filter((node) => !this.isDown(node));
    const targets: Target[] = [];
    for (const node of primaries) {
      if (!this.isDown(node)) targets.push({ node, hintFor: null });
      else {
        const standIn = standIns.shift();
        if (standIn !== undefined) targets.push({ node: standIn, hintFor: node });
      }
    }
    return { primaries, targets };
  }

  // --- client requests ---------------------------------------------------------------------

  private onClientRequest(reqId: number, raw: unknown, out: Effects): void {
    const request = parseClientRequest(raw);
    if (request === null) return out.reply(reqId, failure('invalid', 'malformed request'));
    if (request.op === 'ring-change' || request.op === 'ring-status') {
      return this.onAdminRequest(reqId, request, out);
    }
    this.coordinate(request, { kind: 'client', reqId }, out);
  }

  private coordinate(request: DataRequest, origin: Origin, out: Effects): void {
    const problem = this.validate(request);
    if (problem !== null) return out.answer(origin, failure('invalid', problem));
    // Forwarded puts hold state and a timer too, so they count toward the same bound.
    const inFlight = this.coordinator.inFlight + this.forwards.size;
    if (inFlight >= this.opts.limits.inFlightMax) {
      this.counters.overloaded++;
      const message = `node ${this.id} has ${inFlight} requests in flight already`;
      return out.answer(origin, failure('overload', message));
    }
    if (request.op === 'get') return this.coordinateGet(request, origin, out);
    this.coordinatePut(request, origin, out);
  }

  private validate(request: DataRequest): string | null {
    const isGet = request.op === 'get';
    const quorum = isGet ? request.r : request.w;
    const primaries = (isGet ? request.pr : request.pw) ?? 0;
    const name = isGet ? 'r' : 'w';
    if (request.key.length === 0) return 'key must not be empty';
    if (quorum < 1 || quorum > this.opts.n) return `${name} must be between 1 and n=${this.opts.n}`;
    if (primaries > quorum) return `p${name} must be between 0 and ${name}=${quorum}`;
    if (request.timeoutMs < 1) return 'timeoutMs must be at least 1';
    return null;
  }

  private coordinatePut(request: PutRequest, origin: Origin, out: Effects): void {
    const { primaries, targets } = this.targetsFor(request.key);
    if (!primaries.includes(this.id)) return this.forwardPut(request, origin, primaries, out);
    if (request.rid !== undefined && this.coordinator.joinRetry(request.rid, origin, out)) return;
    const pw = request.pw ?? 0;
    const live = targets.filter((t) => t.hintFor === null).length;
    if (targets.length < request.w || live < pw) {
      this.coordinator.stats.quorumFailures++;
      return out.answer(origin, { ok: false, error: 'quorum', needed: request.w, acked: 0 });
    }
    const record = this.recordForPut(request, origin, out);
    if (record === null) return;
    const opId = this.allocateId();
    const timerId = this.allocateId();
    out.setTimer(timerId, request.timeoutMs);
    const { key, w, rid, trace } = request;
    this.coordinator.startPut(
      opId,
      origin,
      { key, w, pw, rid, siblings: record.siblings.length },
      targets,
      timerId,
    );
    // Persist before sending (etcd-raft's Ready rule): the record carries a dot, and its counter
    // reservation becomes durable with this write. Sent earlier, a crash before the persist let
    // the restarted node reissue a dot its peers already held (sim seeds 41697, 44204).
    const fanOut: FanOut = { opId, key, record, targets, trace };
    this.writeData(key, record, { kind: 'self-ack', fanOut }, out);
  }

  /** Sends a coordinated write to the other targets, once it is durable here. */
  private sendReplicaPuts({ opId, key, record, targets, trace }: FanOut, out: Effects): void {
    this.sendToIncoming(key, record, out);
    for (const target of targets) {
      if (target.node === this.id) continue;
      const hintFor = target.hintFor ?? undefined;
      out.send(target.node, {
        type: 'replica-put',
        opId,
        key,
        record,
        ...(hintFor ? { hintFor } : {}),
        ...(trace === undefined ? {} : { trace }),
      });
    }
  }

  /**
   * While a membership change runs, a write also goes to the key's incoming replicas (in the
   * next ring, not in the current one), so what the move streams already passed stays current
   * there. Not counted toward W (opId 0: the ack is ignored); the drain after the commit covers
   * a copy that got lost.
   */
  private sendToIncoming(key: string, record: KeyRecord, out: Effects): void {
    if (this.nextRing === null) return;
    const now = this.ring.preferenceList(key, this.opts.n);
    for (const node of this.nextRing.preferenceList(key, this.opts.n)) {
      if (now.includes(node) || node === this.id || this.isDown(node)) continue;
      out.send(node, { type: 'replica-put', opId: 0, key, record });
    }
  }

  /**
   * The record a put leaves on this coordinator: the local record again if it already holds
   * this request's write (a retry whose first attempt got this far), else the update with a
   * new dot. Null when the key has too many siblings (the client was answered).
   */
  private recordForPut(request: PutRequest, origin: Origin, out: Effects): KeyRecord | null {
    const current = this.local.read(request.key);
    if (request.rid !== undefined && current !== undefined && siblingByRid(current, request.rid)) {
      this.coordinator.stats.retriesDeduplicated++;
      return current;
    }
    const { record, sibling } = update(current, request.context, this.opts.actor, request.value, {
      counterMin: this.local.counterFloor(),
      pastEntriesMax: this.opts.limits.vvEntriesMax,
      ...(request.rid === undefined ? {} : { rid: request.rid }),
    });
    if (record.siblings.length > this.opts.limits.siblingsMax) {
      const message =
        `key has ${record.siblings.length - 1} siblings (limit ${this.opts.limits.siblingsMax}): ` +
        'read it and write back with its context to resolve them';
      out.answer(origin, failure('conflict', message));
      return null;
    }
    this.local.counterUsed(sibling.dot[1]);
    return record;
  }

  private coordinateGet(request: GetRequest, origin: Origin, out: Effects): void {
    const { primaries, targets } = this.targetsFor(request.key);
    const pr = request.pr ?? 0;
    const live = targets.filter((t) => t.hintFor === null).length;
    if (targets.length < request.r || live < pr) {
      this.coordinator.stats.quorumFailures++;
      return out.answer(origin, { ok: false, error: 'quorum', needed: request.r, acked: 0 });
    }
    const opId = this.allocateId();
    const timerId = this.allocateId();
    out.setTimer(timerId, request.timeoutMs);
    const { key, r, trace } = request;
    this.coordinator.startGet(opId, origin, { key, r, pr, trace }, primaries, targets, timerId);
    for (const target of targets) {
      const hintFor = target.hintFor ?? undefined;
      out.send(target.node, {
        type: 'replica-get',
        opId,
        key,
        ...(hintFor ? { hintFor } : {}),
        ...(trace === undefined ? {} : { trace }),
      });
    }
  }

  private forwardPut(request: PutRequest, origin: Origin, prefs: readonly NodeId[], out: Effects) {
    const target = prefs.find((node) => !this.isDown(node));
    if (origin.kind === 'peer' || target === undefined) {
      const why = target === undefined ? 'no replica of the key is up' : 'not a replica of the key';
      return out.answer(origin, failure('unavailable', why));
    }
    const fwdId = this.allocateId();
    const timerId = this.allocateId();
    this.forwards.set(fwdId, { reqId: origin.reqId, timerId });
    this.forwardByTimer.set(timerId, fwdId);
    this.counters.forwarded++;
    out.setTimer(timerId, request.timeoutMs + this.opts.forwardSlackMs);
    const trace = request.trace;
    out.send(target, {
      type: 'forward',
      fwdId,
      request,
      ...(trace === undefined ? {} : { trace }),
    });
  }

  // --- peer messages -----------------------------------------------------------------------

  private onPeerMessage(from: NodeId, raw: unknown, out: Effects): void {
    const message = parsePeerMessage(raw);
    if (message === null) {
      this.counters.malformedMessages++;
      return;
    }
    this.heardFrom(from);
    this.onValidMessage(from, message, out);
  }

  private onValidMessage(from: NodeId, message: PeerMessage, out: Effects): void {
    switch (message.type) {
      case 'replica-put':
        return this.onReplicaPut(
          from,
          message.opId,
          message.key,
          message.record,
          message.hintFor,
          out,
        );
      case 'replica-put-ack':
        if (message.opId === 0) return; // a copy for an incoming replica (sendToIncoming)
        return this.coordinator.onPutAck(message.opId, from, out);
      case 'replica-put-nack':
        return this.coordinator.onPutNack(message.opId, from, out);
      case 'replica-get':
        return this.onReplicaGet(from, message.opId, message.key, message.hintFor, out);
      case 'replica-get-reply':
        return this.onGetOutcome(
          this.coordinator.onGetReply(message.opId, from, message.record, out),
          out,
        );
      case 'forward':
        return this.coordinate(message.request, { kind: 'peer', from, fwdId: message.fwdId }, out);
      case 'forward-reply':
        return this.onForwardReply(message.fwdId, message.result, out);
      case 'repair':
        return this.onRepair(message.key, message.record, out);
      case 'reap-check':
        return this.onReapCheck(from, message.checkId, message.key, message.dots, out);
      case 'reap-check-reply':
        return this.reaper.onCheckReply(message.checkId, from, message.ok, out);
      case 'reap':
        return this.onReap(message.key, message.dots, out);
      case 'handoff':
        return this.receiveBatch(from, message.batchId, message.entries, 'handoff-ack', out);
      case 'handoff-ack':
        return this.onHandoffAck(from, message.batchId, out);
      case 'ping':
        return out.send(from, { type: 'pong' });
      case 'ae-roots':
        return this.antiEntropy.onRoots(from, message.xid, message.partitions, message.roots, out);
      case 'ae-roots-reply':
        return this.antiEntropy.onRootsReply(from, message.xid, message.differing, out);
      case 'ae-descend':
        return this.antiEntropy.onDescend(from, message.xid, message.partition, message.paths, out);
      case 'ae-descend-reply':
        return this.antiEntropy.onDescendReply(
          from,
          message.xid,
          message.partition,
          message.nodes,
          out,
        );
      case 'ae-push':
        return this.antiEntropy.onPush(from, message.xid, message.records, message.want, out);
      case 'ae-push-reply':
        return this.antiEntropy.onPushReply(from, message.xid, message.records, out);
      case 'pong':
        return;
      case 'ring':
        return this.onRingPush(message.state, out);
      case 'ring-version':
        return this.onRingVersion(from, message.version, message.claimant, out);
      case 'transfer':
        if (isNewerRing(message.version, message.claimant, this.ringState)) {
          // Sent under a ring this node has not seen yet (its push may be lost or late): no ack,
          // so the sender resends; our version makes it push the newer state (sim seed 9).
          const { version, claimant } = this.ringState;
          return out.send(from, { type: 'ring-version', version, claimant });
        }
        this.transfers.stats.keysReceived += message.entries.length;
        return this.receiveBatch(from, message.batchId, message.entries, 'transfer-ack', out);
      case 'transfer-ack':
        this.transfers.onAck(from, message.batchId, out);
        return this.reportDone(false, out);
      case 'transfer-done':
        return this.onTransferDone(from, message.version, out);
      case 'departed':
        return this.onDeparted(from, out);
      case 'member':
        if (message.m.from !== from) {
          this.counters.malformedMessages++;
          return;
        }
        return this.members?.onMessage(message.m, out);
    }
  }

  private onReplicaPut(
    from: NodeId,
    opId: number,
    key: string,
    incoming: KeyRecord,
    hintFor: NodeId | undefined,
    out: Effects,
  ): void {
    this.counters.replicaPuts++;
    if (hintFor !== undefined) return this.storeHint(from, opId, hintFor, key, incoming, out);
    if (!this.replicates(key)) return this.holdForeignPut(from, opId, key, incoming, out);
    const local = this.local.read(key);
    const merged = sync(local ?? EMPTY_RECORD, incoming); // also normalizes a peer's record
    const unchanged = local !== undefined && sameDots(local, merged) && !this.local.isPending(key);
    if (unchanged) return out.send(from, { type: 'replica-put-ack', opId });
    this.writeData(key, merged, { kind: 'peer-ack', to: from, opId }, out);
  }

  private storeHint(
    from: NodeId,
    opId: number,
    owner: NodeId,
    key: string,
    incoming: KeyRecord,
    out: Effects,
  ) {
    if (owner === this.id || !this.hints.canAccept(owner, key)) {
      this.counters.hintsRefused++;
      return out.send(from, {
        type: 'replica-put-nack',
        opId,
        reason: `hint queue for ${owner} is full`,
      });
    }
    const stored = hintKey(owner, key);
    const merged = sync(this.local.read(stored, 'hints') ?? EMPTY_RECORD, incoming);
    this.hints.noteStored(owner, key);
    this.counters.hintsStored++;
    this.local.write('hints', stored, merged, { kind: 'peer-ack', to: from, opId }, out);
  }

  private onReplicaGet(
    from: NodeId,
    opId: number,
    key: string,
    hintFor: NodeId | undefined,
    out: Effects,
  ) {
    this.counters.replicaGets++;
    const record =
      hintFor === undefined
        ? this.local.read(key)
        : this.local.read(hintKey(hintFor, key), 'hints');
    out.send(from, { type: 'replica-get-reply', opId, record: record ?? null });
  }

  private onRepair(key: string, incoming: KeyRecord, out: Effects): void {
    if (this.mergeData(key, incoming, out)) this.counters.repairsApplied++;
  }

  private onForwardReply(fwdId: number, result: ClientResult, out: Effects): void {
    const pending = this.forwards.get(fwdId);
    if (pending === undefined) {
      this.coordinator.stats.lateReplies++;
      return;
    }
    this.forwards.delete(fwdId);
    this.forwardByTimer.delete(pending.timerId);
    out.cancelTimer(pending.timerId);
    out.reply(pending.reqId, result);
  }

  // --- tombstone reaping -------------------------------------------------------------------

  /** After a get heard every primary and saw only tombstones: a reap candidate. */
  private onGetOutcome(outcome: GetOutcome | null, out: Effects): void {
    if (outcome === null || outcome.reapable === null) return;
    const dots = outcome.reapable.siblings.map((s) => s.dot);
    const primaries = this.ring.preferenceList(outcome.key, this.opts.n);
    this.reaper.consider({ key: outcome.key, dots, primaries }, out);
  }

  /** May `key` be reaped? Not while anything here could still carry an older version of it. */
  private onReapCheck(
    from: NodeId,
    checkId: number,
    key: string,
    dots: readonly Dot[],
    out: Effects,
  ) {
    const busy =
      this.hints.holdsKey(key) ||
      this.coordinator.isBusy(key) ||
      this.local.isPending(key) ||
      this.transfers.holdsKey(key);
    const local = this.local.read(key);
    const primary = this.ring.preferenceList(key, this.opts.n).includes(this.id);
    const holdsExactly =
      local !== undefined && isDeleted(local) && sameDots(local, tombstones(dots));
    // A primary that holds nothing (it reaped already, or never had the key) cannot bring an
    // older version back either: a reap that raced a read repair converges (sim seed 2980).
    const ok = !busy && (local === undefined || (primary && holdsExactly));
    out.send(from, { type: 'reap-check-reply', checkId, ok });
  }

  private onReap(key: string, dots: readonly Dot[], out: Effects): void {
    const local = this.local.read(key);
    if (local === undefined || !isDeleted(local)) return;
    if (!sameDots(local, tombstones(dots))) return; // something newer arrived: keep it
    this.counters.tombstonesReaped++;
    this.writeData(key, null, { kind: 'none' }, out);
  }

  // --- hinted handoff ----------------------------------------------------------------------

  private armAntiEntropy(out: Effects): void {
    this.aeTimerId = this.allocateId();
    out.setTimer(this.aeTimerId, this.opts.limits.antiEntropyIntervalMs);
  }

  private armTick(out: Effects): void {
    this.tickTimerId = this.allocateId();
    out.setTimer(this.tickTimerId, this.opts.limits.handoffIntervalMs);
  }

  /** Every handoff interval: probe suspected peers, and send each live owner its next batch. */
  private onTick(out: Effects): void {
    this.armTick(out);
    this.transfers.onTick(out);
    this.reportDone(true, out);
    this.maybeTakeOver(out);
    this.countDownSenders();
    this.maybeCommit(this.ringState, out);
    this.reportDeparted(out);
    this.gossipRing(out);
    this.rehomeHints(out);
    this.members?.gossipToDead(this.ringNodes, out);
    this.hints.tick();
    for (const peer of [...this.suspected].sort()) out.send(peer, { type: 'ping' });
    for (const owner of this.hints.targets()) {
      if (this.isDown(owner)) continue;
      const batchId = this.allocateId();
      const entries = this.hints.nextBatch(owner, batchId, (key) =>
        this.local.read(hintKey(owner, key), 'hints'),
      );
      if (entries !== null) out.send(owner, { type: 'handoff', batchId, entries });
    }
  }

  /**
   * Merges a batch of records handed to this node (hinted handoff, or a membership change's
   * transfer) and acks it once every changed key is durable. Keys this node does not replicate
   * are kept as hints for their replicas (a sender routing by an older ring).
   */
  private receiveBatch(
    from: NodeId,
    batchId: number,
    entries: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>,
    ack: BatchReceipt['ack'],
    out: Effects,
  ): void {
    const receipt: BatchReceipt = { from, batchId, ack, remaining: 0 };
    const then: AfterPersist = { kind: 'batch-part', batch: receipt };
    for (const { key, record } of entries) {
      if (!this.replicates(key)) {
        receipt.remaining++;
        this.holdForeign(key, record, then, out);
        continue;
      }
      const local = this.local.read(key);
      const merged = sync(local ?? EMPTY_RECORD, record);
      if (local !== undefined && sameDots(local, merged) && !this.local.isPending(key)) continue;
      receipt.remaining++;
      this.writeData(key, merged, then, out);
    }
    if (receipt.remaining === 0) out.send(from, { type: ack, batchId });
  }

  private onHandoffAck(owner: NodeId, batchId: number, out: Effects): void {
    const delivered = this.hints.acked(owner, batchId);
    if (delivered === null) return;
    for (const [key, sent] of delivered) {
      const stored = hintKey(owner, key);
      const current = this.local.read(stored, 'hints');
      if (current === undefined || !sameDots(current, sent)) continue; // changed: next batch
      this.hints.noteRemoved(owner, key);
      this.counters.hintsDelivered++;
      this.local.write('hints', stored, null, { kind: 'none' }, out);
    }
  }

  // --- membership changes ------------------------------------------------------------------

  private onAdminRequest(reqId: number, request: AdminRequest, out: Effects): void {
    if (request.op === 'ring-status') {
      const transfer = this.transfers.status(this.keysToDrain());
      return out.reply(reqId, { ok: true, op: 'ring-status', state: this.ringState, transfer });
    }
    const state = this.ringState;
    const { kind, node } = request.change;
    if (kind === 'remove' && isJoining(state, node)) {
      // A joiner that died mid-change would hold the change up for ever: call the join off.
      const aborted = abortJoin(state, node, this.id);
      const result: ClientResult = { ok: true, op: 'ring-change', state: aborted };
      return this.publish(aborted, this.ringNodes, out, { kind: 'reply', reqId, result });
    }
    if (state.next !== null) {
      const message = `membership change ${state.version} (claimant ${state.claimant}) is still running`;
      return out.reply(reqId, { ok: false, error: 'busy', message });
    }
    if (kind === 'remove' && !this.ring.has(node) && state.departing.includes(node)) {
      // A departing node that died before it drained: stop waiting for it.
      const ended = endDeparture(state, node, this.id);
      const result: ClientResult = { ok: true, op: 'ring-change', state: ended };
      return this.publish(ended, nodesOf(state), out, { kind: 'reply', reqId, result });
    }
    const problem = this.changeProblem(request.change);
    if (problem !== null) return out.reply(reqId, failure('invalid', problem));
    let begun: RingState;
    try {
      begun = beginChange(state, request.change, this.id);
    } catch (error) {
      return out.reply(reqId, failure('invalid', (error as Error).message));
    }
    const result: ClientResult = { ok: true, op: 'ring-change', state: begun };
    this.publish(begun, nodesOf(begun), out, { kind: 'reply', reqId, result });
  }

  /** Why this node refuses `change` (the ring's own checks come after), or null. */
  private changeProblem({ kind, node }: RingChange): string | null {
    if (kind === 'join') return this.ring.has(node) ? `node ${node} is already in the ring` : null;
    if (!this.ring.has(node)) return `node ${node} is not in the ring`;
    if (kind === 'leave' && this.isDown(node)) {
      return `node ${node} is down: it cannot hand its data over; remove it instead`;
    }
    return null;
  }

  /**
   * Adopts a state this node made (as claimant) and pushes it to `audience`; `then` runs once
   * the state is durable here (an operator's change is acknowledged only then).
   */
  private publish(
    state: RingState,
    audience: readonly NodeId[],
    out: Effects,
    then: AfterPersist = { kind: 'none' },
  ): void {
    for (const node of audience) if (node !== this.id) out.send(node, { type: 'ring', state });
    this.adoptRing(state, out, then);
  }

  private onRingPush(state: RingState, out: Effects): void {
    if (!isRingState(state, this.ring.partitionCount)) {
      this.counters.malformedMessages++;
      return;
    }
    this.adoptRing(state, out);
  }

  private onRingVersion(from: NodeId, version: number, claimant: NodeId, out: Effects): void {
    const mine = this.ringState;
    if (version === mine.version && claimant === mine.claimant) return;
    // Theirs is newer: our version makes them push it. Ours is newer: push it.
    if (isNewerRing(version, claimant, mine)) {
      out.send(from, { type: 'ring-version', version: mine.version, claimant: mine.claimant });
    } else out.send(from, { type: 'ring', state: mine });
  }

  /** Every tick: tell the next peer (round robin) which ring version this node has. */
  private gossipRing(out: Effects): void {
    const peers = this.ringNodes.filter((node) => node !== this.id && !this.isDown(node));
    if (peers.length === 0) return;
    const peer = peers[this.ringGossipCursor++ % peers.length]!;
    const { version, claimant } = this.ringState;
    out.send(peer, { type: 'ring-version', version, claimant });
  }

  /**
   * Switches to a newer ring state: routes by its `owners`, rebuilds the Merkle trees and the
   * set of keys to drain, and restarts the streams (moves resume from their saved cursors).
   */
  private adoptRing(state: RingState, out: Effects, then: AfterPersist = { kind: 'none' }): void {
    if (!supersedesRing(state, this.ringState)) return this.afterPersist(then, out);
    const before = this.ringState;
    this.ringState = state;
    this.ringNodes = nodesOf(state);
    this.local.writeMeta(RING_META, state, then, out);
    const sameRings =
      sameOwners(before.owners, state.owners) &&
      (before.next === null
        ? state.next === null
        : state.next !== null && sameOwners(before.next, state.next));
    // Only the departing list changed (or the version): nothing to rebuild or to restart.
    if (sameRings && before.next === null) return;
    if (!sameOwners(before.owners, state.owners)) this.ring = Ring.fromOwners(state.owners);
    this.deriveFromRings();
    this.antiEntropy.replaceIndex(this.scanData());
    if (state.next === null) this.dropMovedCopies(out);
    this.moved.clear();
    this.reportedDone = false;
    this.transfers.reset(this.streamSpecs());
    this.transfers.onTick(out);
    this.reportDone(false, out);
    this.maybeCommit(before, out);
  }

  /**
   * After a commit: keys this node moved to their new replicas and that have not changed since
   * need no drain; they are dropped here at once.
   */
  private dropMovedCopies(out: Effects): void {
    for (const [partition, keys] of this.foreign) {
      for (const key of keys) {
        const record = this.local.read(key);
        const sent = this.moved.get(key);
        if (record === undefined || sent === undefined || sent !== versionHash(record)) continue;
        keys.delete(key);
        this.writeData(key, null, { kind: 'none' }, out);
      }
      if (keys.size === 0) this.foreign.delete(partition);
    }
  }

  /** A sender whose moves are finished tells the claimant (again every tick, until the commit). */
  private reportDone(again: boolean, out: Effects): void {
    const state = this.ringState;
    if (state.next === null || !this.transfers.movesFinished()) return;
    if (!this.senders.has(this.id)) return;
    if (!again && this.reportedDone) return;
    this.reportedDone = true;
    out.send(state.claimant, { type: 'transfer-done', version: state.version });
  }

  /** Claimant, every tick: how long each unfinished sender has been down. */
  private countDownSenders(): void {
    if (this.ringState.next === null || this.ringState.claimant !== this.id) {
      this.senderDownTicks.clear();
      return;
    }
    for (const sender of this.senders) {
      if (this.isDown(sender))
        this.senderDownTicks.set(sender, (this.senderDownTicks.get(sender) ?? 0) + 1);
      else this.senderDownTicks.delete(sender);
    }
  }

  /**
   * A running change whose claimant is dead would never commit. The first live node of the
   * ring takes it over: same change, new version, itself as claimant; the senders re-report.
   * Only a claimant the runtime reported down or gossip declared dead counts, not one that
   * merely let a request time out.
   */
  private maybeTakeOver(out: Effects): void {
    const state = this.ringState;
    if (state.next === null || state.claimant === this.id) return;
    const dead = (node: NodeId) => this.down.has(node) || this.members?.isDead(node) === true;
    if (!dead(state.claimant)) return;
    const heir = this.ringNodes.find((node) => node !== state.claimant && !dead(node));
    if (heir !== this.id) return;
    this.publish(takeOver(state, this.id), this.ringNodes, out);
  }

  /** A departed node that holds nothing more tells the claimant (every tick, until dropped). */
  private reportDeparted(out: Effects): void {
    const state = this.ringState;
    if (!state.departing.includes(this.id) || state.next !== null) return;
    if (this.keysToDrain() > 0 || this.hints.count() > 0) return;
    if (this.transfers.batchesInFlight > 0) return;
    out.send(state.claimant, { type: 'departed', version: state.version });
  }

  /** Claimant: a departing node drained everything; it no longer answers reap checks. */
  private onDeparted(from: NodeId, out: Effects): void {
    const state = this.ringState;
    if (state.claimant !== this.id || state.next !== null) return;
    if (!state.departing.includes(from)) return;
    this.publish(endDeparture(state, from, this.id), nodesOf(state), out);
  }

  private onTransferDone(from: NodeId, version: number, out: Effects): void {
    const state = this.ringState;
    if (state.claimant !== this.id || state.version !== version || state.next === null) return;
    this.claimantDone.add(from);
    this.maybeCommit(state, out);
  }

  /**
   * Claimant: once every sender of the running change is done, publish the commit. A sender
   * down for changeSenderWaitMs is not waited for any longer (a change must not hang on a dead
   * node): its new replicas then fill from the survivors by anti-entropy, and the sender drains
   * what it holds if it comes back. A sender that restarts sooner resumes from its cursors.
   */
  private maybeCommit(previous: RingState, out: Effects): void {
    const state = this.ringState;
    if (state.next === null || state.claimant !== this.id) return;
    const waitTicks = Math.ceil(
      this.opts.limits.changeSenderWaitMs / this.opts.limits.handoffIntervalMs,
    );
    for (const sender of this.senders) {
      if (this.claimantDone.has(sender)) continue;
      if (!this.isDown(sender) || (this.senderDownTicks.get(sender) ?? 0) < waitTicks) return;
    }
    const audience = new Set([...nodesOf(previous), ...nodesOf(state)]);
    this.claimantDone.clear();
    this.publish(commitChange(state), [...audience].sort(), out);
  }

  /**
   * Hints for a node that is no longer in the ring (it was removed) can never be handed off:
   * each goes to the key's current replicas instead (merged here if this node is one). At most
   * handoffBatchKeysMax keys per tick, like a handoff batch, so a large queue cannot stall a step.
   */
  private rehomeHints(out: Effects): void {
    let budget = this.opts.limits.handoffBatchKeysMax;
    for (const target of this.hints.targets()) {
      if (this.ringNodes.includes(target)) continue;
      for (const key of this.hints.keysFor(target)) {
        if (budget-- <= 0) return;
        const stored = hintKey(target, key);
        const record = this.local.read(stored, 'hints');
        if (record !== undefined) this.mergeData(key, record, out);
        this.hints.noteRemoved(target, key);
        this.local.write('hints', stored, null, { kind: 'none' }, out);
      }
    }
  }

  /** A replica-put from a coordinator that routes by an older ring: held for the new replicas. */
  private holdForeignPut(from: NodeId, opId: number, key: string, record: KeyRecord, out: Effects) {
    const owners = this.ring.preferenceList(key, this.opts.n);
    if (!owners.every((owner) => this.hints.canAccept(owner, key))) {
      this.counters.hintsRefused++;
      const reason = `hint queue for a replica of ${key} is full`;
      return out.send(from, { type: 'replica-put-nack', opId, reason });
    }
    this.counters.hintsStored++;
    this.holdForeign(key, record, { kind: 'peer-ack', to: from, opId }, out);
  }

  /**
   * Keeps a record of a key this node does not replicate as a hint for each of the key's
   * replicas, so whichever of them missed it gets it. Persists complete in order, so `then`
   * rides on the last write.
   */
  private holdForeign(key: string, record: KeyRecord, then: AfterPersist, out: Effects): void {
    const owners = this.ring.preferenceList(key, this.opts.n);
    assert(!owners.includes(this.id), 'a foreign key is replicated elsewhere');
    owners.forEach((owner, i) => {
      const stored = hintKey(owner, key);
      const merged = sync(this.local.read(stored, 'hints') ?? EMPTY_RECORD, record);
      this.hints.noteStored(owner, key);
      const last = i === owners.length - 1;
      this.local.write('hints', stored, merged, last ? then : { kind: 'none' }, out);
    });
  }

  // --- timers and persists -----------------------------------------------------------------

  private onTimer(timerId: number, out: Effects): void {
    if (timerId === this.tickTimerId) return this.onTick(out);
    if (this.members?.onTimer(timerId, out)) return;
    if (timerId === this.aeTimerId) {
      this.armAntiEntropy(out);
      return this.antiEntropy.onTick(out);
    }
    if (this.antiEntropy.onTimer(timerId)) return;
    const expired = this.coordinator.onTimer(timerId, out);
    if (expired !== null) {
      for (const node of expired.silent) if (node !== this.id) this.suspected.add(node);
      return this.onGetOutcome(expired.outcome, out);
    }
    if (this.reaper.onTimer(timerId, this.ringNodes, out)) return;
    this.onForwardTimeout(timerId, out);
  }

  private onForwardTimeout(timerId: number, out: Effects): void {
    const fwdId = this.forwardByTimer.get(timerId);
    if (fwdId === undefined) return; // cancelled earlier: harmless
    const pending = this.forwards.get(fwdId);
    assert(pending !== undefined, 'a forward timer always has its forward');
    this.forwards.delete(fwdId);
    this.forwardByTimer.delete(timerId);
    out.reply(pending.reqId, failure('timeout', 'coordinator did not answer'));
  }

  private afterPersist(then: AfterPersist, out: Effects): void {
    switch (then.kind) {
      case 'none':
        return;
      case 'self-ack':
        this.sendReplicaPuts(then.fanOut, out);
        return this.coordinator.onPutAck(then.fanOut.opId, this.id, out);
      case 'peer-ack':
        return out.send(then.to, { type: 'replica-put-ack', opId: then.opId });
      case 'batch-part':
        then.batch.remaining--;
        if (then.batch.remaining === 0)
          out.send(then.batch.from, { type: then.batch.ack, batchId: then.batch.batchId });
        return;
      case 'reply':
        return out.reply(then.reqId, then.result);
    }
  }

  private allocateId(): number {
    const id = this.nextId++;
    assert(Number.isSafeInteger(id), 'ids stay safe integers');
    return id;
  }
}

/** The ring state a node starts from: the newest of the configured, given and stored ones. */
function startingRingState(opts: NodeCoreOptions): RingState {
  let state = initialRingState(opts.ring);
  const stored = opts.store.getMeta(RING_META);
  for (const candidate of [opts.ringState, stored]) {
    if (candidate === undefined || !isRingState(candidate, opts.ring.partitionCount)) continue;
    if (supersedesRing(candidate, state)) state = candidate;
  }
  return state;
}

/** Whether `node` is joining in the change `state` runs. */
function isJoining(state: RingState, node: NodeId): boolean {
  return state.next?.includes(node) === true && !state.owners.includes(node);
}

function sameOwners(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((owner, p) => owner === b[p]);
}

/** A record of tombstones with these dots (for comparing dot sets). */
function tombstones(dots: readonly Dot[]): KeyRecord {
  return { siblings: dots.map((dot) => ({ dot, past: [], value: null })) };
}

function failure(
  error: 'invalid' | 'timeout' | 'unavailable' | 'overload' | 'conflict',
  message: string,
): ClientResult {
  return { ok: false, error, message };
}
