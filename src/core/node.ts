/**
 * NodeCore: one storage node's protocol as a pure state machine. The runtime feeds it one input
 * at a time and carries out the returned effects in order (effects.ts). It never awaits, reads a
 * clock, draws a random number or touches a thread, socket or file, so the same code runs in
 * worker threads, in TCP processes and in the deterministic simulator.
 *
 * This file only routes, like etcd-raft's rawnode.go + step functions: each input goes to the
 * sub-machine that owns it, and the sub-machines see their node through a NodeContext
 * (node-context.ts). The protocol lives in the sub-machines:
 * - coordinator.ts (quorum.ts): get/put/delete quorum rounds, read repair;
 * - forward.ts: a put that reached a non-replica goes to one;
 * - replica.ts: merging what coordinators, repairs and batches send;
 * - handoff.ts (hints.ts): sloppy fallbacks, durable hints, delivery;
 * - reaper.ts: two-phase tombstone reaping;
 * - rebalance.ts (ring-view.ts, ring-state.ts, transfer.ts): join, leave, remove;
 * - anti-entropy.ts (merkle.ts): Merkle exchanges;
 * - peers.ts (member-view.ts, swim.ts): which peers are down.
 */
import { AntiEntropy } from './anti-entropy.js';
import { assert } from './assert.js';
import { Coordinator } from './coordinator.js';
import { type Effect, Effects } from './effects.js';
import { Expiry } from './expiry.js';
import { explainKey, type NodeKeyView } from './explain.js';
import { Forwarder } from './forward.js';
import { Handoff } from './handoff.js';
import { LatencyMeter, type WarsLatencies } from './latency-meter.js';
import { LocalStore } from './local-store.js';
import { MemberView } from './member-view.js';
import { type PeerMessage, parseClientRequest, parsePeerMessage } from './messages.js';
import {
  type AfterPersist,
  type CoreLimits,
  contextOver,
  failure,
  NOTHING_AFTER,
  type NodeContext,
} from './node-context.js';
import type { NodeStats } from './node-stats.js';
import { Peers } from './peers.js';
import { Reaper } from './reaper.js';
import { Rebalance, scanLocalData } from './rebalance.js';
import { Replica } from './replica.js';
import type { Ring } from './ring.js';
import type { RingState } from './ring-state.js';
import { RingView, startingRingState } from './ring-view.js';
import type { MemberRecord } from './swim.js';
import { type TimerOwner, Timers } from './timers.js';
import { type ActorId, hintKey, type KeyRecord, type NodeId, type StorageReader } from './types.js';

export type { CoreLimits } from './node-context.js';
export type { NodeStats } from './node-stats.js';
export { RING_META } from './ring-view.js';

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
   * A monotonic clock in ms and a uniform [0, 1) source. Given both (and limits.swim), the node
   * runs gossip membership with SWIM failure detection (member-view.ts).
   */
  readonly now?: () => number;
  readonly random?: () => number;
  /**
   * Measure the WARS latencies of real traffic (latency-meter.ts): `clock` in ms, comparable
   * across nodes as far as their clocks agree (the runtimes pass the system clock with
   * sub-millisecond resolution); counts halve every `halfLifeMs`. Absent: nothing is measured.
   */
  readonly latency?: { readonly clock: () => number; readonly halfLifeMs: number };
  /**
   * Where peers reach this node, gossiped in its membership record (opaque here; the TCP runtime
   * passes host:port). Peers learn it, and any change, through `peer-address` effects.
   */
  readonly address?: string;
  /** The membership incarnation to start at (swim.ts OwnRecord). @default 0 */
  readonly incarnation?: number;
  /**
   * This node's wall clock, Unix ms: it turns a put's ttlMs into a deadline and judges which
   * values expired (expiry.ts). Without it, a put with ttlMs is refused and nothing expires.
   */
  readonly wallClockMs?: () => number;
}

export type Input =
  /** Arms the node's periodic work (ticks, probes). Optional: any first input does too. */
  | { readonly kind: 'start' }
  /** A request from a local client; answered by a `reply` effect with the same reqId. */
  | { readonly kind: 'request'; readonly reqId: number; readonly request: unknown }
  /** A message from a peer, not yet validated. */
  | { readonly kind: 'message'; readonly from: NodeId; readonly message: unknown }
  | { readonly kind: 'timer'; readonly timerId: number }
  /** The persist effect with this token is durable. */
  | { readonly kind: 'persisted'; readonly token: number }
  /** The runtime learned that a peer stopped or started. */
  | { readonly kind: 'peer-status'; readonly peer: NodeId; readonly up: boolean }
  /**
   * This node is out of the ring for good (it left, or was removed) and its process stops: it
   * gossips a final `left` membership record, so peers stop probing it and never take its id
   * back (swim.ts: `left` is final).
   */
  | { readonly kind: 'leave-membership' };

/** Expired keys one tick stores as tombstones when the limits name no other bound. */
const EXPIRY_SWEEP_KEYS_DEFAULT = 1000;

/** How many self-addressed messages one step may process; bounds the local delivery loop. */
const LOCAL_DELIVERIES_MAX = 4096;

/** Each peer message type and the sub-machine that handles it. */
type Handlers = {
  readonly [T in PeerMessage['type']]: (
    from: NodeId,
    message: Extract<PeerMessage, { type: T }>,
    out: Effects,
  ) => void;
};

export class NodeCore {
  readonly id: NodeId;
  private readonly ctx: NodeContext;
  private readonly view: RingView;
  private readonly local: LocalStore<AfterPersist>;
  /** The storage the local view reads through (treesOutOfStep rebuilds from it). */
  private readonly store: StorageReader;
  private readonly latency: LatencyMeter | null;
  /** The monotonic clock (NodeCoreOptions.now), when given. */
  private readonly clock: (() => number) | undefined;
  private readonly timers: Timers;
  private readonly swim: MemberView | null;
  private readonly peers: Peers;
  private readonly forwarder: Forwarder;
  private readonly handoff: Handoff;
  private readonly reaper: Reaper;
  private readonly expiry: Expiry;
  private readonly replica: Replica;
  private readonly coordinator: Coordinator;
  private readonly antiEntropy: AntiEntropy;
  private readonly rebalance: Rebalance;
  private readonly handlers: Handlers;
  private nextId = 1;
  private malformed = 0;
  private tickTimerId: number | null = null;
  private aeTimerId: number | null = null;

  constructor(opts: NodeCoreOptions) {
    assert(opts.n >= 1, 'n is at least 1');
    this.id = opts.id;
    const allocateId = () => this.allocateId();
    this.view = new RingView(
      startingRingState(opts.ring, opts.ringState, opts.store),
      opts.id,
      opts.n,
    );
    this.clock = opts.now;
    this.store = opts.store;
    this.local = new LocalStore(opts.store, allocateId);
    this.latency =
      opts.latency === undefined
        ? null
        : new LatencyMeter(opts.latency.clock, opts.latency.halfLifeMs);
    this.timers = new Timers(allocateId);
    this.swim = this.swimView(opts);
    this.peers = new Peers(opts.id, this.swim);
    this.expiry = this.expiryOf(opts);
    this.ctx = this.context(opts);
    this.forwarder = new Forwarder(this.ctx, opts.forwardSlackMs);
    this.handoff = new Handoff(this.ctx, opts.store);
    this.reaper = new Reaper(this.ctx, (key) => this.mayHoldOlder(key));
    this.replica = new Replica(this.ctx, this.handoff, this.reaper);
    this.coordinator = new Coordinator(this.ctx, this.peers, this.forwarder, this.reaper);
    const scan = scanLocalData(this.view, this.ctx, opts.store, {
      onRecord: (key, record) => this.expiry.noteFound(key, record),
    });
    this.expiry.queueFound();
    this.antiEntropy = new AntiEntropy(this.antiEntropyHost(), scan.index, opts.limits);
    const { view, antiEntropy, replica, handoff } = this;
    const parts = { view, store: opts.store, antiEntropy, replica, handoff };
    this.rebalance = new Rebalance(this.ctx, parts, scan.foreign);
    this.handlers = this.handlerTable();
  }

  private context(opts: NodeCoreOptions): NodeContext {
    const { view, local, peers, timers } = this;
    const fixed = { self: opts.id, actor: opts.actor, n: opts.n, limits: opts.limits };
    return contextOver(
      {
        ...fixed,
        local,
        peers,
        timers,
        writeData: (key, record, then, out) => {
          const stored = this.expiry.beforeWrite(key, record);
          // The tree holds the local view's record (see MerkleIndex.update): read it before
          // the write replaces it.
          this.antiEntropy.index.update(key, local.read(key), stored);
          local.write('data', key, stored, then, out);
        },
        wallNowMs: () => opts.wallClockMs?.() ?? null,
        asOfNow: (record) => this.expiry.asOfNow(record),
        current: (key, out) => this.expiry.current(key, out),
        mergeData: (key, record, out) => this.replica.merge(key, record, out),
        allocateId: () => this.allocateId(),
        latency: this.latency,
      },
      view,
    );
  }

  private expiryOf(opts: NodeCoreOptions): Expiry {
    const host = {
      wallNowMs: () => opts.wallClockMs?.() ?? null,
      read: (key: string) => this.local.read(key),
      write: (key: string, record: KeyRecord, out: Effects) =>
        this.ctx.writeData(key, record, NOTHING_AFTER, out),
      considerTombstones: (key: string, record: KeyRecord, out: Effects) =>
        this.reaper.considerTombstones(key, record, out),
    };
    return new Expiry(host, opts.limits.expirySweepKeysMax ?? EXPIRY_SWEEP_KEYS_DEFAULT);
  }

  private swimView(opts: NodeCoreOptions): MemberView | null {
    const { now, random, limits } = opts;
    if (now === undefined || random === undefined || limits.swim === null) return null;
    const seeds = this.view.nodes;
    const own = {
      ...(opts.address === undefined ? {} : { address: opts.address }),
      ...(opts.incarnation === undefined ? {} : { incarnation: opts.incarnation }),
    };
    return new MemberView({
      self: opts.id,
      seeds,
      config: limits.swim,
      now,
      random,
      timers: this.timers,
      own,
    });
  }

  private antiEntropyHost() {
    const { ctx } = this;
    return {
      self: ctx.self,
      get ring() {
        return ctx.ring;
      },
      timers: ctx.timers,
      allocateId: () => ctx.allocateId(),
      isDown: (peer: NodeId) => ctx.peers.isDown(peer),
      ...(this.clock === undefined ? {} : { now: this.clock }),
      read: (key: string) => {
        const record = ctx.local.read(key);
        return record === undefined ? undefined : ctx.asOfNow(record);
      },
      stored: (key: string) => ctx.local.read(key),
      merge: (key: string, record: KeyRecord, out: Effects) => ctx.mergeData(key, record, out),
    };
  }

  /** Whether anything here could still bring an older version of `key` back (reap checks). */
  private mayHoldOlder(key: string): boolean {
    return (
      this.handoff.holdsKey(key) ||
      this.coordinator.isBusy(key) ||
      this.local.isPending(key) ||
      this.rebalance.holdsKey(key)
    );
  }

  private handlerTable(): Handlers {
    const { coordinator: c, replica: r, handoff: h, reaper, antiEntropy: ae, rebalance: rb } = this;
    return {
      'replica-put': (from, m, out) => r.onPut(from, m.opId, m.key, m.record, m.hintFor, out),
      'replica-put-ack': (from, m, out) => c.onPutAck(from, m.opId, out, m.receivedAtMs),
      'replica-put-nack': (from, m, out) => c.onPutNack(from, m.opId, out),
      'replica-get': (from, m, out) => r.onGet(from, m.opId, m.key, m.hintFor, out),
      'replica-get-reply': (from, m, out) =>
        c.onGetReply(from, m.opId, m.record, out, m.receivedAtMs),
      forward: (from, m, out) =>
        c.coordinate(m.request, { kind: 'peer', from, fwdId: m.fwdId }, out),
      'forward-reply': (_from, m, out) => this.forwarder.onReply(m.fwdId, m.result, out),
      repair: (_from, m, out) => r.onRepair(m.key, m.record, out),
      'reap-check': (from, m, out) => reaper.onCheck(from, m.checkId, m.key, m.dots, out),
      'reap-check-reply': (from, m, out) => reaper.onCheckReply(m.checkId, from, m.ok, out),
      reap: (_from, m, out) => reaper.onReap(m.key, m.dots, out),
      handoff: (from, m, out) => r.receiveBatch(from, m.batchId, m.entries, 'handoff-ack', out),
      'handoff-ack': (from, m, out) => h.onAck(from, m.batchId, out),
      ping: (from, _m, out) => out.send(from, { type: 'pong' }),
      pong: () => {},
      'ae-roots': (from, m, out) => ae.onRoots(from, m.xid, m.partitions, m.roots, out),
      'ae-roots-reply': (from, m, out) => ae.onRootsReply(from, m.xid, m.differing, out),
      'ae-descend': (from, m, out) => ae.onDescend(from, m.xid, m.partition, m.paths, out),
      'ae-descend-reply': (from, m, out) =>
        ae.onDescendReply(from, m.xid, m.partition, m.nodes, out),
      'ae-push': (from, m, out) => ae.onPush(from, m.xid, m.records, m.want, out),
      'ae-push-reply': (from, m, out) => ae.onPushReply(from, m.xid, m.records, out),
      ring: (_from, m, out) => {
        if (!rb.onRingPush(m.state, out)) this.malformed++;
      },
      'ring-version': (from, m, out) => rb.onRingVersion(from, m.version, m.claimant, out),
      transfer: (from, m, out) => rb.onTransfer(from, m, out),
      'transfer-ack': (from, m, out) => rb.onTransferAck(from, m.batchId, out),
      'transfer-done': (from, m, out) => rb.onTransferDone(from, m.version, out),
      departed: (from, _m, out) => rb.onDeparted(from, out),
      member: (from, m, out) => {
        if (m.m.from !== from) this.malformed++;
        else this.swim?.onMessage(m.m, out);
      },
    };
  }

  /** Consumes one input and returns the effects to carry out, in order. */
  step(input: Input): Effect[] {
    const out = new Effects();
    if (this.tickTimerId === null) this.armTick(out);
    if (this.aeTimerId === null) this.armAntiEntropy(out);
    this.swim?.arm(out);
    this.dispatch(input, out);
    this.deliverLocal(out);
    return out.list;
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
        this.timers.fire(input.timerId, out);
        return;
      case 'persisted':
        return this.afterPersist(this.local.onPersisted(input.token), out);
      case 'peer-status':
        return this.peers.onStatus(input.peer, input.up);
      case 'leave-membership':
        return this.swim?.leave(out);
    }
  }

  private onClientRequest(reqId: number, raw: unknown, out: Effects): void {
    const request = parseClientRequest(raw);
    if (request === null) return out.reply(reqId, failure('invalid', 'malformed request'));
    if (request.op === 'ring-change' || request.op === 'ring-status') {
      return this.rebalance.onAdminRequest(reqId, request, out);
    }
    this.coordinator.coordinate(request, { kind: 'client', reqId }, out);
  }

  private onPeerMessage(from: NodeId, raw: unknown, out: Effects): void {
    const message = parsePeerMessage(raw);
    if (message === null) {
      this.malformed++;
      return;
    }
    this.peers.heardFrom(from);
    this.onValidMessage(from, message, out);
  }

  private onValidMessage(from: NodeId, message: PeerMessage, out: Effects): void {
    const handle = this.handlers[message.type] as (
      from: NodeId,
      message: PeerMessage,
      out: Effects,
    ) => void;
    handle(from, message, out);
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

  // --- the periodic timers -------------------------------------------------------------------

  private readonly tickOwner: TimerOwner = { onTimer: (_timerId, out) => this.onTick(out) };
  private readonly aeOwner: TimerOwner = {
    onTimer: (_timerId, out) => {
      this.armAntiEntropy(out);
      this.antiEntropy.onTick(out);
    },
  };

  private armTick(out: Effects): void {
    this.tickTimerId = this.timers.set(this.tickOwner, this.ctx.limits.tickIntervalMs, out);
  }

  private armAntiEntropy(out: Effects): void {
    const intervalMs = this.ctx.limits.antiEntropyIntervalMs;
    this.aeTimerId = this.timers.set(this.aeOwner, intervalMs, out);
  }

  /** Every tick, in this order: membership changes, hints, dead members, suspected peers. */
  private onTick(out: Effects): void {
    this.armTick(out);
    this.latency?.tick();
    this.rebalance.onTick(out);
    this.handoff.rehome(out);
    this.swim?.gossipToDead(this.view.nodes, out);
    this.handoff.tick();
    this.peers.onTick(out);
    this.handoff.deliver(out);
    this.expiry.sweep(out);
  }

  // --- persists ------------------------------------------------------------------------------

  private afterPersist(then: AfterPersist, out: Effects): void {
    switch (then.kind) {
      case 'none':
        return;
      case 'self-ack':
        return this.coordinator.selfDurable(then.fanOut, then.sent, out);
      case 'peer-ack': {
        const { to, opId, receivedAtMs } = then;
        const stamp = receivedAtMs === undefined ? {} : { receivedAtMs };
        return out.send(to, { type: 'replica-put-ack', opId, ...stamp });
      }
      case 'batch-part':
        return Replica.batchPartDurable(then.batch, out);
      case 'reply':
        return out.reply(then.reqId, then.result);
    }
  }

  // --- observation ---------------------------------------------------------------------------

  stats(): NodeStats {
    const rounds = this.coordinator.roundStats;
    return {
      ...rounds,
      lateReplies: rounds.lateReplies + this.forwarder.stats.lateForwardReplies,
      malformedMessages: this.malformed,
      forwarded: this.forwarder.stats.forwarded,
      ...this.replica.stats,
      ...this.coordinator.stats,
      ...this.handoff.stats,
      ...this.reaper.stats,
      ...this.expiry.stats,
      expiringKeys: this.expiry.tracked,
      ...this.antiEntropy.stats,
      ...this.rebalance.stats,
      reapsPending: this.reaper.pending,
      inFlight: this.coordinator.inFlight,
      persistsPending: this.local.persistsPending,
      hintsPending: this.handoff.count(),
      suspected: this.peers.suspectedCount,
      ringVersion: this.view.state.version,
      membersUnhealthy: this.swim?.unhealthy() ?? 0,
      membersDead: this.swim?.dead() ?? 0,
    };
  }

  /** What this node knows about `key` (explain.ts): bounded lookups, no scan. */
  explain(key: string): NodeKeyView {
    const { ctx, local, view } = this;
    return explainKey(key, {
      self: this.id,
      nodes: ctx.ringNodes,
      partitionOf: (k) => view.ring.partitionOf(k),
      replicates: (k) => ctx.replicates(k),
      read: (k) => local.read(k),
      readHint: (owner, k) => local.read(hintKey(owner, k), 'hints'),
      isPending: (k) => local.isPending(k),
      isBusy: (k) => this.coordinator.isBusy(k),
      isReapPending: (k) => this.reaper.isPending(k),
      isDown: (peer) => this.peers.isDown(peer),
      comparisonsOf: (partition) => this.antiEntropy.comparisonsOf(partition),
      now: this.clock,
    });
  }

  /** The WARS latency histograms of this node's traffic; null when it measures none. */
  latencies(): WarsLatencies | null {
    return this.latency?.snapshot() ?? null;
  }

  /** Peer messages dropped as malformed so far (cheaper than stats(); the host logs growth). */
  get malformedMessages(): number {
    return this.malformed;
  }

  /** The ring state this node routes by (the newest it adopted). */
  get ringState(): RingState {
    return this.view.state;
  }

  /** Every member this node's membership view knows (none without SWIM), sorted by id. */
  members(): readonly MemberRecord[] {
    return this.swim?.members() ?? [];
  }

  /** Whether this node's failure detection holds `peer` down (reported, suspected or dead). */
  isPeerDown(peer: NodeId): boolean {
    return this.peers.isDown(peer);
  }

  /**
   * Partitions whose Merkle tree differs (root or key count) from one built afresh from the
   * local view: none while every local write reaches the trees (MerkleIndex.update). O(keys):
   * for the simulator's end-of-run check and tests, not for serving.
   */
  treesOutOfStep(): number[] {
    const kept = this.antiEntropy.index;
    const fresh = scanLocalData(this.view, this.ctx, this.store).index;
    const differing: number[] = [];
    for (let p = 0; p < this.view.ring.partitionCount; p++) {
      const [a, b] = [kept.tree(p), fresh.tree(p)];
      if (a?.root() !== b?.root() || a?.size !== b?.size) differing.push(p);
    }
    return differing;
  }

  /** The local record for a key, including writes not yet durable, as it stands now (expired values as tombstones). */
  read(key: string): KeyRecord | undefined {
    const record = this.local.read(key);
    return record === undefined ? undefined : this.expiry.asOfNow(record);
  }

  private allocateId(): number {
    const id = this.nextId++;
    assert(Number.isSafeInteger(id), 'ids stay safe integers');
    return id;
  }
}
