/**
 * Sloppy quorum and hinted handoff (Dynamo §4.6), all of it:
 * - `targetsFor`: where a request for a key goes — each live primary, and for each down one the
 *   next live node past the preference list as its stand-in (a fallback, never a new owner);
 * - a stand-in keeps the write as a durable hint (`hints` namespace, one merged record per
 *   owner and key) and refuses it with a nack when that owner's queue is full;
 * - a write for a key this node no longer replicates (a coordinator routing by an older ring)
 *   is kept as a hint for each of the key's replicas;
 * - every tick, each reachable owner gets its next bounded batch; a hint is dropped once its
 *   owner acked it unchanged;
 * - hints for a node removed from the ring can never be delivered: they go to the key's
 *   current replicas instead, at most handoffBatchKeysMax per tick.
 * The bookkeeping (which keys per owner, batches in flight, bounds) is hints.ts.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import { HintBook } from './hints.js';
import { type AfterPersist, NOTHING_AFTER, type NodeContext, type Target } from './node-context.js';
import { hintKey, type KeyRecord, type NodeId, type StorageReader } from './types.js';
import { EMPTY_RECORD, sameDots, sync } from './version.js';

/**
 * Where a request for `key` goes: each primary that is up, and for each one that is down the
 * next live node past the preference list on the ring, as its stand-in.
 */
export function targetsFor(
  ctx: NodeContext,
  key: string,
): { primaries: readonly NodeId[]; targets: Target[] } {
  const { ring, n, peers } = ctx;
  const primaries = ring.preferenceList(key, n);
  const targets: Target[] = [];
  // The walk past the preference list is needed only when a primary is down: most requests
  // find every primary up, and walking the whole ring for them was ~1 % of a node's CPU.
  let standIns: NodeId[] | null = null;
  for (const node of primaries) {
    if (!peers.isDown(node)) targets.push({ node, hintFor: null });
    else {
      standIns ??= ring
        .preferenceListForPartition(ring.partitionOf(key), ring.nodes().length)
        .slice(primaries.length)
        .filter((other) => !peers.isDown(other));
      const standIn = standIns.shift();
      if (standIn !== undefined) targets.push({ node: standIn, hintFor: node });
    }
  }
  return { primaries, targets };
}

export class Handoff {
  private readonly book: HintBook;
  readonly stats = { hintsStored: 0, hintsRefused: 0, hintsDelivered: 0 };

  constructor(
    private readonly ctx: NodeContext,
    store: StorageReader,
  ) {
    const { hintsPerTargetMax, handoffBatchKeysMax, batchBytesMax } = ctx.limits;
    this.book = new HintBook(hintsPerTargetMax, handoffBatchKeysMax, batchBytesMax);
    this.book.load(store);
  }

  /** Hinted keys held here. */
  count(): number {
    return this.book.count();
  }

  /** Whether a hint for `key`, for any owner, is held here (a reap must wait for it). */
  holdsKey(key: string): boolean {
    return this.book.holdsKey(key);
  }

  /** A replica-put addressed to this node as stand-in for `owner`. */
  storeHint(
    from: NodeId,
    opId: number,
    owner: NodeId,
    key: string,
    incoming: KeyRecord,
    out: Effects,
  ): void {
    if (owner === this.ctx.self || !this.book.canAccept(owner, key)) {
      this.stats.hintsRefused++;
      const reason = `hint queue for ${owner} is full`;
      return out.send(from, { type: 'replica-put-nack', opId, reason });
    }
    const stored = hintKey(owner, key);
    const merged = sync(this.ctx.local.read(stored, 'hints') ?? EMPTY_RECORD, incoming);
    this.book.noteStored(owner, key);
    this.stats.hintsStored++;
    this.ctx.local.write('hints', stored, merged, { kind: 'peer-ack', to: from, opId }, out);
  }

  /** A replica-put from a coordinator that routes by an older ring: held for the new replicas. */
  holdForeignPut(from: NodeId, opId: number, key: string, record: KeyRecord, out: Effects): void {
    const owners = this.ctx.ring.preferenceList(key, this.ctx.n);
    if (!owners.every((owner) => this.book.canAccept(owner, key))) {
      this.stats.hintsRefused++;
      const reason = `hint queue for a replica of ${key} is full`;
      return out.send(from, { type: 'replica-put-nack', opId, reason });
    }
    this.stats.hintsStored++;
    this.holdForeign(key, record, { kind: 'peer-ack', to: from, opId }, out);
  }

  /**
   * Keeps a record of a key this node does not replicate as a hint for each of the key's
   * replicas, so whichever of them missed it gets it. Persists complete in order, so `then`
   * rides on the last write.
   */
  holdForeign(key: string, record: KeyRecord, then: AfterPersist, out: Effects): void {
    const owners = this.ctx.ring.preferenceList(key, this.ctx.n);
    assert(!owners.includes(this.ctx.self), 'a foreign key is replicated elsewhere');
    owners.forEach((owner, i) => {
      const stored = hintKey(owner, key);
      const merged = sync(this.ctx.local.read(stored, 'hints') ?? EMPTY_RECORD, record);
      this.book.noteStored(owner, key);
      const last = i === owners.length - 1;
      this.ctx.local.write('hints', stored, merged, last ? then : NOTHING_AFTER, out);
    });
  }

  /** A tick passed: a batch unanswered for a whole tick is presumed lost (resent later). */
  tick(): void {
    this.book.tick();
  }

  /** Every tick: each live owner gets its next batch (one in flight per owner). */
  deliver(out: Effects): void {
    for (const owner of this.book.targets()) {
      if (this.ctx.peers.isDown(owner)) continue;
      const batchId = this.ctx.allocateId();
      const entries = this.book.nextBatch(owner, batchId, (key) =>
        this.ctx.local.read(hintKey(owner, key), 'hints'),
      );
      if (entries !== null) out.send(owner, { type: 'handoff', batchId, entries });
    }
  }

  /** The owner made a batch durable: drop each hint that did not change since it was sent. */
  onAck(owner: NodeId, batchId: number, out: Effects): void {
    const delivered = this.book.acked(owner, batchId);
    if (delivered === null) return;
    for (const [key, sent] of delivered) {
      const stored = hintKey(owner, key);
      const current = this.ctx.local.read(stored, 'hints');
      if (current === undefined || !sameDots(current, sent)) continue; // changed: next batch
      this.book.noteRemoved(owner, key);
      this.stats.hintsDelivered++;
      this.ctx.local.write('hints', stored, null, NOTHING_AFTER, out);
    }
  }

  /**
   * Hints for a node that is no longer in the ring (it was removed) can never be handed off:
   * each goes to the key's current replicas instead (merged here if this node is one). At most
   * handoffBatchKeysMax keys per tick, like a handoff batch, so a large queue cannot stall a step.
   */
  rehome(out: Effects): void {
    let budget = this.ctx.limits.handoffBatchKeysMax;
    for (const target of this.book.targets()) {
      if (this.ctx.ringNodes.includes(target)) continue;
      for (const key of this.book.keysFor(target)) {
        if (budget-- <= 0) return;
        const stored = hintKey(target, key);
        const record = this.ctx.local.read(stored, 'hints');
        if (record !== undefined) this.ctx.mergeData(key, record, out);
        this.book.noteRemoved(target, key);
        this.ctx.local.write('hints', stored, null, NOTHING_AFTER, out);
      }
    }
  }
}
