/**
 * Membership changes on a running node (join, leave, remove), all of it but the pure state
 * transitions (ring-state.ts) and the batch streams (transfer.ts):
 * - the claimant: an operator's change starts here; the node publishes the transition, acks the
 *   operator once it is durable, collects `transfer-done` from every sender and publishes the
 *   commit — without a sender that stays down longer than changeSenderWaitMs;
 * - takeover: a change whose claimant is dead is taken over by the first live ring node;
 * - every node: adopts newer ring states (pushed, or pulled by gossiping its version each
 *   tick), rebuilds its Merkle trees and keys to drain, and runs its streams — its moves as a
 *   designated sender, and a drain of every partition it no longer replicates — dropping what
 *   every new replica acked;
 * - departure: a node that left reports once it holds nothing more, and until then still
 *   answers reap checks (ring-state.ts explains why).
 */
import type { AntiEntropy } from './anti-entropy.js';
import { MerkleIndex } from './anti-entropy.js';
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import type { Handoff } from './handoff.js';
import { compareStorageKeys } from './key-order.js';
import type { LocalStore } from './local-store.js';
import { versionHash } from './merkle.js';
import type { AdminRequest, ClientResult, Transfer } from './messages.js';
import { type AfterPersist, failure, NOTHING_AFTER, type NodeContext } from './node-context.js';
import type { Replica } from './replica.js';
import {
  abortJoin,
  beginChange,
  commitChange,
  endDeparture,
  isNewerRing,
  isRingState,
  nodesOf,
  type RingChange,
  type RingState,
  supersedesRing,
  takeOver,
} from './ring-state.js';
import { RING_META, type RingView } from './ring-view.js';
import { type StreamSpec, Transfers } from './transfer.js';
import type { KeyRecord, NodeId, StorageReader } from './types.js';
import { sameDots } from './version.js';

/** What a ring state publication waits for: nothing, or the operator's answer once durable. */
type Publication = Extract<AfterPersist, { kind: 'none' } | { kind: 'reply' }>;

/** Keys held here of partitions this node does not replicate, by partition: to drain. */
type Foreign = Map<number, Set<string>>;

export interface RebalanceParts {
  readonly view: RingView;
  readonly store: StorageReader;
  readonly antiEntropy: AntiEntropy;
  readonly replica: Replica;
  readonly handoff: Handoff;
}

export class Rebalance {
  private foreign: Foreign;
  /** Version hashes of keys a move stream delivered: unchanged ones need no drain. */
  private readonly moved = new Map<string, number>();
  private readonly transfers: Transfers;
  /** Claimant only: senders that finished the running change. */
  private readonly claimantDone = new Set<NodeId>();
  /** Claimant only: ticks each unfinished sender of the running change has been down. */
  private readonly senderDownTicks = new Map<NodeId, number>();
  /** This node told the claimant it finished its moves (re-sent every tick anyway). */
  private reportedDone = false;
  private ringGossipCursor = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly parts: RebalanceParts,
    foreign: Foreign,
  ) {
    this.foreign = foreign;
    this.transfers = new Transfers(this.transferHost(), ctx.limits);
    this.transfers.reset(this.streamSpecs());
  }

  get stats() {
    return {
      transferKeysSent: this.transfers.stats.keysSent,
      transferKeysReceived: this.transfers.stats.keysReceived,
      keysToDrain: this.keysToDrain(),
    };
  }

  /** Whether `key` is in a batch still waiting for acks (a reap must wait for it). */
  holdsKey(key: string): boolean {
    return this.transfers.holdsKey(key);
  }

  private transferHost() {
    const { ctx } = this;
    return {
      allocateId: () => ctx.allocateId(),
      ringIdentity: () => ctx.ringState,
      isDown: (peer: NodeId) => ctx.peers.isDown(peer),
      read: (key: string) => ctx.local.read(key),
      saveCursor: (name: string, key: string, out: Effects) =>
        ctx.local.writeMeta(name, key, NOTHING_AFTER, out),
      moved: (key: string, record: KeyRecord) => this.moved.set(key, versionHash(record)),
      drained: (key: string, sent: KeyRecord, out: Effects) => this.dropDrained(key, sent, out),
      gone: (key: string) => this.forgetForeign(ctx.ring.partitionOf(key), key),
    };
  }

  /** The streams this node runs for its ring state: its moves, and a drain per foreign partition. */
  private streamSpecs(): StreamSpec[] {
    const { ctx, parts } = this;
    const specs: StreamSpec[] = [];
    const version = ctx.ringState.changeVersion;
    for (const move of parts.view.moves) {
      if (move.sender !== ctx.self) continue;
      const name = cursorMeta(version, move.partition);
      const cursor = parts.store.getMeta(name);
      specs.push({
        partition: move.partition,
        targets: move.incoming,
        keys: () => parts.antiEntropy.index.keysOf(move.partition),
        cursorMeta: name,
        cursor: typeof cursor === 'string' ? cursor : null,
      });
    }
    // A drain goes to every replica of the partition: whichever missed a write this node holds
    // gets it (merging is idempotent; keys a move already delivered were dropped unsent).
    for (const [partition, keys] of this.foreign) {
      const targets = ctx.ring.preferenceListForPartition(partition, ctx.n);
      assert(!targets.includes(ctx.self), 'a foreign partition is replicated elsewhere');
      specs.push({ partition, targets, keys: sortedView(keys), cursorMeta: null, cursor: null });
    }
    return specs;
  }

  /** A drained key every target acked: drop it here unless it changed since it was sent. */
  private dropDrained(key: string, sent: KeyRecord, out: Effects): void {
    const partition = this.ctx.ring.partitionOf(key);
    const current = this.ctx.local.read(key);
    if (current !== undefined && !sameDots(current, sent)) return; // changed: drained again
    this.forgetForeign(partition, key);
    if (current !== undefined) this.ctx.writeData(key, null, NOTHING_AFTER, out);
  }

  /** `key` is drained or gone: no longer counted in keysToDrain. */
  private forgetForeign(partition: number, key: string): void {
    this.foreign.get(partition)?.delete(key);
    if (this.foreign.get(partition)?.size === 0) this.foreign.delete(partition);
  }

  keysToDrain(): number {
    let count = 0;
    for (const keys of this.foreign.values()) count += keys.size;
    return count;
  }

  // --- operator requests (this node becomes the claimant) ----------------------------------

  onAdminRequest(reqId: number, request: AdminRequest, out: Effects): void {
    const { ctx } = this;
    if (request.op === 'ring-status') {
      const transfer = this.transfers.status(this.keysToDrain());
      return out.reply(reqId, { ok: true, op: 'ring-status', state: ctx.ringState, transfer });
    }
    const state = ctx.ringState;
    const { kind, node } = request.change;
    const accepted = (next: RingState): Publication => {
      const result: ClientResult = { ok: true, op: 'ring-change', state: next };
      return { kind: 'reply', reqId, result };
    };
    if (kind === 'remove' && isJoining(state, node)) {
      // A joiner that died mid-change would hold the change up for ever: call the join off.
      const aborted = abortJoin(state, node, ctx.self);
      return this.publish(aborted, ctx.ringNodes, out, accepted(aborted));
    }
    if (state.next !== null) {
      const message = `membership change ${state.version} (claimant ${state.claimant}) is still running`;
      return out.reply(reqId, { ok: false, error: 'busy', message });
    }
    if (kind === 'remove' && !ctx.ring.has(node) && state.departing.includes(node)) {
      // A departing node that died before it drained: stop waiting for it.
      const ended = endDeparture(state, node, ctx.self);
      return this.publish(ended, nodesOf(state), out, accepted(ended));
    }
    const problem = this.changeProblem(request.change);
    if (problem !== null) return out.reply(reqId, failure('invalid', problem));
    let begun: RingState;
    try {
      begun = beginChange(state, request.change, ctx.self);
    } catch (error) {
      return out.reply(reqId, failure('invalid', (error as Error).message));
    }
    this.publish(begun, nodesOf(begun), out, accepted(begun));
  }

  /** Why this node refuses `change` (the ring's own checks come after), or null. */
  private changeProblem({ kind, node }: RingChange): string | null {
    const { ring, peers } = this.ctx;
    if (kind === 'join') return ring.has(node) ? `node ${node} is already in the ring` : null;
    if (!ring.has(node)) return `node ${node} is not in the ring`;
    if (kind === 'leave' && peers.isDown(node)) {
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
    then: Publication = NOTHING_AFTER,
  ): void {
    for (const node of audience)
      if (node !== this.ctx.self) out.send(node, { type: 'ring', state });
    this.adopt(state, out, then);
  }

  // --- ring states from peers ----------------------------------------------------------------

  /** A pushed ring state; false when it is malformed (the node counts it). */
  onRingPush(state: RingState, out: Effects): boolean {
    if (!isRingState(state, this.ctx.ring.partitionCount)) return false;
    this.adopt(state, out);
    return true;
  }

  onRingVersion(from: NodeId, version: number, claimant: NodeId, out: Effects): void {
    const mine = this.ctx.ringState;
    if (version === mine.version && claimant === mine.claimant) return;
    // Theirs is newer: our version makes them push it. Ours is newer: push it.
    if (isNewerRing(version, claimant, mine)) {
      out.send(from, { type: 'ring-version', version: mine.version, claimant: mine.claimant });
    } else out.send(from, { type: 'ring', state: mine });
  }

  /** Every tick: tell the next peer (round robin) which ring version this node has. */
  private gossipRing(out: Effects): void {
    const { ctx } = this;
    const peers = ctx.ringNodes.filter((node) => node !== ctx.self && !ctx.peers.isDown(node));
    if (peers.length === 0) return;
    const peer = peers[this.ringGossipCursor++ % peers.length]!;
    const { version, claimant } = ctx.ringState;
    out.send(peer, { type: 'ring-version', version, claimant });
  }

  /**
   * Switches to a newer ring state: routes by its `owners`, rebuilds the Merkle trees and the
   * set of keys to drain, and restarts the streams (moves resume from their saved cursors).
   */
  private adopt(state: RingState, out: Effects, then: Publication = NOTHING_AFTER) {
    const { view, antiEntropy, store } = this.parts;
    if (!supersedesRing(state, view.state)) {
      if (then.kind === 'reply') out.reply(then.reqId, then.result);
      return;
    }
    const before = view.state;
    // The cursors of this node's moves, named by the change they belong to (read before adopting).
    const cursors = this.cursorNames();
    const ringsChanged = view.adopt(state);
    this.ctx.local.writeMeta(RING_META, state, then, out);
    if (!ringsChanged) return;
    if (before.next !== null && state.next === null) this.dropCursors(cursors, out);
    const scan = scanLocalData(view, this.ctx, store, { previous: antiEntropy.index });
    antiEntropy.replaceIndex(scan.index);
    this.foreign = scan.foreign;
    if (state.next === null) this.dropMovedCopies(out);
    this.moved.clear();
    this.reportedDone = false;
    this.transfers.reset(this.streamSpecs());
    this.transfers.onTick(out);
    this.reportDone(false, out);
    this.maybeCommit(before, out);
  }

  /** The meta entries holding this node's move cursors in the running change (none when none runs). */
  private cursorNames(): string[] {
    const { ctx, parts } = this;
    const version = ctx.ringState.changeVersion;
    return parts.view.moves
      .filter((move) => move.sender === ctx.self)
      .map((move) => cursorMeta(version, move.partition));
  }

  /**
   * The change ended (committed or called off): its move cursors can never be resumed, so they
   * go, or every change would leave one meta entry per moved partition behind for good.
   */
  private dropCursors(names: readonly string[], out: Effects): void {
    for (const name of names) this.ctx.local.writeMeta(name, undefined, NOTHING_AFTER, out);
  }

  /**
   * After a commit: keys this node moved to their new replicas and that have not changed since
   * need no drain; they are dropped here at once.
   */
  private dropMovedCopies(out: Effects): void {
    for (const [partition, keys] of this.foreign) {
      for (const key of keys) {
        const record = this.ctx.local.read(key);
        const sent = this.moved.get(key);
        if (record === undefined || sent === undefined || sent !== versionHash(record)) continue;
        keys.delete(key);
        this.ctx.writeData(key, null, NOTHING_AFTER, out);
      }
      if (keys.size === 0) this.foreign.delete(partition);
    }
  }

  // --- streams -------------------------------------------------------------------------------

  /** A batch of a move stream. */
  onTransfer(from: NodeId, message: Transfer, out: Effects): void {
    const mine = this.ctx.ringState;
    if (isNewerRing(message.version, message.claimant, mine)) {
      // Sent under a ring this node has not seen yet (its push may be lost or late): no ack,
      // so the sender resends; our version makes it push the newer state (sim seed 9).
      return out.send(from, {
        type: 'ring-version',
        version: mine.version,
        claimant: mine.claimant,
      });
    }
    this.transfers.stats.keysReceived += message.entries.length;
    this.parts.replica.receiveBatch(from, message.batchId, message.entries, 'transfer-ack', out);
  }

  onTransferAck(from: NodeId, batchId: number, out: Effects): void {
    this.transfers.onAck(from, batchId, out);
    this.reportDone(false, out);
  }

  // --- every tick ----------------------------------------------------------------------------

  /** Streams, reports to the claimant, takeover, the claimant's commit check, ring gossip. */
  onTick(out: Effects): void {
    this.transfers.onTick(out);
    this.reportDone(true, out);
    this.maybeTakeOver(out);
    this.countDownSenders();
    this.maybeCommit(this.ctx.ringState, out);
    this.reportDeparted(out);
    this.gossipRing(out);
  }

  /** A sender whose moves are finished tells the claimant (again every tick, until the commit). */
  private reportDone(again: boolean, out: Effects): void {
    const state = this.ctx.ringState;
    if (state.next === null || !this.transfers.movesFinished()) return;
    if (!this.parts.view.senders.has(this.ctx.self)) return;
    if (!again && this.reportedDone) return;
    this.reportedDone = true;
    out.send(state.claimant, { type: 'transfer-done', version: state.version });
  }

  /** Claimant, every tick: how long each unfinished sender has been down. */
  private countDownSenders(): void {
    const state = this.ctx.ringState;
    if (state.next === null || state.claimant !== this.ctx.self) {
      this.senderDownTicks.clear();
      return;
    }
    for (const sender of this.parts.view.senders) {
      if (this.ctx.peers.isDown(sender))
        this.senderDownTicks.set(sender, (this.senderDownTicks.get(sender) ?? 0) + 1);
      else this.senderDownTicks.delete(sender);
    }
  }

  /**
   * A running change whose claimant is dead would never commit. The first live node of the
   * ring takes it over: same change, new version, itself as claimant; the senders re-report.
   * Only a claimant the runtime reported down or SWIM declared dead counts, not one that
   * merely let a request time out.
   */
  private maybeTakeOver(out: Effects): void {
    const { ctx } = this;
    const state = ctx.ringState;
    if (state.next === null || state.claimant === ctx.self) return;
    if (!ctx.peers.isDead(state.claimant)) return;
    const heir = ctx.ringNodes.find((node) => node !== state.claimant && !ctx.peers.isDead(node));
    if (heir !== ctx.self) return;
    this.publish(takeOver(state, ctx.self), ctx.ringNodes, out);
  }

  /** A departed node that holds nothing more tells the claimant (every tick, until dropped). */
  private reportDeparted(out: Effects): void {
    const state = this.ctx.ringState;
    if (!state.departing.includes(this.ctx.self) || state.next !== null) return;
    if (this.keysToDrain() > 0 || this.parts.handoff.count() > 0) return;
    if (this.transfers.batchesInFlight > 0) return;
    out.send(state.claimant, { type: 'departed', version: state.version });
  }

  /** Claimant: a departing node drained everything; it no longer answers reap checks. */
  onDeparted(from: NodeId, out: Effects): void {
    const state = this.ctx.ringState;
    if (state.claimant !== this.ctx.self || state.next !== null) return;
    if (!state.departing.includes(from)) return;
    this.publish(endDeparture(state, from, this.ctx.self), nodesOf(state), out);
  }

  onTransferDone(from: NodeId, version: number, out: Effects): void {
    const state = this.ctx.ringState;
    if (state.claimant !== this.ctx.self || state.version !== version || state.next === null) {
      return;
    }
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
    const { ctx } = this;
    const state = ctx.ringState;
    if (state.next === null || state.claimant !== ctx.self) return;
    const waitTicks = Math.ceil(ctx.limits.changeSenderWaitMs / ctx.limits.tickIntervalMs);
    for (const sender of this.parts.view.senders) {
      if (this.claimantDone.has(sender)) continue;
      if (!ctx.peers.isDown(sender) || (this.senderDownTicks.get(sender) ?? 0) < waitTicks) return;
    }
    const audience = new Set([...nodesOf(previous), ...nodesOf(state)]);
    this.claimantDone.clear();
    this.publish(commitChange(state), [...audience].sort(), out);
  }
}

/**
 * One pass over the local data (durable and pending): the Merkle trees of the partitions this
 * node replicates in the current ring, and the keys it holds of partitions it replicates in
 * neither the current nor the next ring (to drain). Run at start and on every ring change.
 *
 * Durable records are read in whatever order the store yields fastest (a pass sorts nothing
 * but the keys to drain): the trees' sums do not depend on order, and each partition's keys to
 * drain are put in key order, as a sorted read would give them. With `previous` (the index
 * before a ring change) only the trees of partitions new to this node are filled: the others
 * are the same trees, which every local write has kept up to date.
 */
export function scanLocalData(
  view: RingView,
  ctx: { readonly self: NodeId; readonly n: number; readonly local: LocalStore<unknown> },
  store: StorageReader,
  options: {
    /** The index before a ring change: its trees of partitions still replicated are kept. */
    readonly previous?: MerkleIndex;
    /** Called with every local record found, in no particular order (start-up: expiry). */
    readonly onRecord?: (key: string, record: KeyRecord) => void;
  } = {},
): { index: MerkleIndex; foreign: Foreign } {
  const { ring } = view;
  const { previous, onRecord } = options;
  const index = new MerkleIndex(ring, ctx.self, ctx.n, previous);
  const durableForeign = new Map<number, string[]>();
  /** Indexes the record; returns its partition if this node replicates it in neither ring. */
  const visit = (key: string, record: KeyRecord): number | null => {
    const partition = ring.partitionOf(key);
    const tree = index.tree(partition);
    if (tree !== undefined && tree !== previous?.tree(partition)) {
      index.updateIn(partition, key, undefined, record); // a new tree: the key is not in it yet
    }
    onRecord?.(key, record);
    return view.replicatesPartition(partition) ? null : partition;
  };
  for (const [key, record] of store.unordered?.('data') ?? store.entries({ ns: 'data' })) {
    if (ctx.local.isPending(key)) continue;
    const partition = visit(key, record);
    if (partition === null) continue;
    const keys = durableForeign.get(partition) ?? [];
    durableForeign.set(partition, keys);
    keys.push(key);
  }
  const foreign = inKeyOrder(durableForeign);
  for (const key of ctx.local.pendingKeys()) {
    const record = ctx.local.read(key);
    const partition = record === undefined ? null : visit(key, record);
    if (partition === null) continue;
    const keys = foreign.get(partition) ?? new Set<string>();
    foreign.set(partition, keys);
    keys.add(key);
  }
  return { index, foreign };
}

/**
 * The keys of a drain, sorted, for each of its batches. The set only loses keys once its drain
 * runs (drained, gone, or dropped as moved), so the array sorted at the first call is kept and
 * only filtered when the set has shrunk: one sort per drain instead of one per batch.
 */
function sortedView(keys: ReadonlySet<string>): () => readonly string[] {
  let sorted: string[] | null = null;
  return () => {
    if (sorted === null) sorted = [...keys].sort();
    else if (sorted.length !== keys.size) sorted = sorted.filter((key) => keys.has(key));
    assert(sorted.length === keys.size, 'a drain set only shrinks while it drains');
    return sorted;
  };
}

/**
 * Keys to drain, read in any order, put as a read in key order would have met them: each
 * partition's keys in order, and the partitions in the order of their first keys. (Keys that
 * came sorted cost a linear pass: the sort finds one run.)
 */
function inKeyOrder(byPartition: Map<number, string[]>): Foreign {
  const partitions = [...byPartition];
  for (const [, keys] of partitions) keys.sort(compareStorageKeys);
  partitions.sort(([, a], [, b]) => compareStorageKeys(a[0]!, b[0]!));
  return new Map(partitions.map(([partition, keys]) => [partition, new Set(keys)]));
}

/** The meta entry of a move's cursor: keyed by the version the change began at (takeovers keep it). */
function cursorMeta(changeVersion: number, partition: number): string {
  return `transfer:${changeVersion}:${partition}`;
}

/** Whether `node` is joining in the change `state` runs. */
function isJoining(state: RingState, node: NodeId): boolean {
  return state.next?.includes(node) === true && !state.owners.includes(node);
}
