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
import {
  type ClientRequest,
  type ClientResult,
  type GetRequest,
  type PeerMessage,
  type PutRequest,
  parseClientRequest,
  parsePeerMessage,
} from './messages.js';
import { Reaper } from './reaper.js';
import type { Ring } from './ring.js';
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
export interface CoreLimits extends AntiEntropyLimits {
  readonly inFlightMax: number;
  readonly hintsPerTargetMax: number;
  readonly handoffIntervalMs: number;
  readonly handoffBatchKeysMax: number;
  readonly tombstoneGraceMs: number;
  readonly siblingsMax: number;
  readonly vvEntriesMax: number;
}

export interface NodeCoreOptions {
  readonly id: NodeId;
  /** The actor this node issues dots as (see ActorId). */
  readonly actor: ActorId;
  readonly ring: Ring;
  /** Replicas per key. */
  readonly n: number;
  /** Extra time a forwarder waits past the request's own timeout for the coordinator's answer. */
  readonly forwardSlackMs: number;
  readonly limits: CoreLimits;
  readonly store: StorageReader;
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
  | { readonly kind: 'handoff-part'; readonly batch: HandoffReceipt };

/** A coordinated write waiting for its local persist before it goes to the other targets. */
interface FanOut {
  readonly opId: number;
  readonly key: string;
  readonly record: KeyRecord;
  readonly targets: readonly Target[];
  readonly trace: string | undefined;
}

/** A handoff batch being made durable here; acked when its last part is. */
interface HandoffReceipt {
  readonly from: NodeId;
  readonly batchId: number;
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
}

/** How many self-addressed messages one step may process; bounds the local delivery loop. */
const LOCAL_DELIVERIES_MAX = 4096;

export class NodeCore {
  readonly id: NodeId;
  private readonly opts: NodeCoreOptions;
  private readonly ring: Ring;
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
    assert(opts.ring.nodes().includes(opts.id), 'a node is a member of its ring');
    this.opts = opts;
    this.id = opts.id;
    this.ring = opts.ring;
    this.coordinator = new Coordinator(opts.id);
    this.local = new LocalStore(opts.store, () => this.allocateId());
    this.hints = new HintBook(opts.limits.hintsPerTargetMax, opts.limits.handoffBatchKeysMax);
    this.hints.load(opts.store);
    this.reaper = new Reaper(opts.limits.tombstoneGraceMs, () => this.allocateId());
    this.antiEntropy = new AntiEntropy(
      this.antiEntropyHost(),
      this.buildMerkleIndex(),
      opts.limits,
    );
  }

  /** The Merkle trees of this node's partitions, built once from durable data at start. */
  private buildMerkleIndex(): MerkleIndex {
    const index = new MerkleIndex(this.ring, this.id, this.opts.n);
    for (const [key, record] of this.opts.store.entries({ ns: 'data' })) index.update(key, record);
    return index;
  }

  private antiEntropyHost() {
    return {
      self: this.id,
      ring: this.ring,
      allocateId: () => this.allocateId(),
      isDown: (peer: NodeId) => this.isDown(peer),
      read: (key: string) => this.local.read(key),
      merge: (key: string, record: KeyRecord, out: Effects) => this.mergeData(key, record, out),
    };
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
    };
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
    return node !== this.id && (this.down.has(node) || this.suspected.has(node));
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
    this.coordinate(request, { kind: 'client', reqId }, out);
  }

  private coordinate(request: ClientRequest, origin: Origin, out: Effects): void {
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

  private validate(request: ClientRequest): string | null {
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
        return this.onHandoff(from, message.batchId, message.entries, out);
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
      this.hints.holdsKey(key) || this.coordinator.isBusy(key) || this.local.isPending(key);
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

  private onHandoff(
    from: NodeId,
    batchId: number,
    entries: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>,
    out: Effects,
  ): void {
    const receipt: HandoffReceipt = { from, batchId, remaining: 0 };
    for (const { key, record } of entries) {
      const local = this.local.read(key);
      const merged = sync(local ?? EMPTY_RECORD, record);
      if (local !== undefined && sameDots(local, merged) && !this.local.isPending(key)) continue;
      receipt.remaining++;
      this.writeData(key, merged, { kind: 'handoff-part', batch: receipt }, out);
    }
    if (receipt.remaining === 0) out.send(from, { type: 'handoff-ack', batchId });
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

  // --- timers and persists -----------------------------------------------------------------

  private onTimer(timerId: number, out: Effects): void {
    if (timerId === this.tickTimerId) return this.onTick(out);
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
    if (this.reaper.onTimer(timerId, this.ring.nodes(), out)) return;
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
      case 'handoff-part':
        then.batch.remaining--;
        if (then.batch.remaining === 0)
          out.send(then.batch.from, { type: 'handoff-ack', batchId: then.batch.batchId });
        return;
    }
  }

  private allocateId(): number {
    const id = this.nextId++;
    assert(Number.isSafeInteger(id), 'ids stay safe integers');
    return id;
  }
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
