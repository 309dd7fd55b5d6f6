/**
 * The replica side: what a node does with records other nodes send it. A replica-put is merged
 * (`sync`, which also normalizes a peer's record) and acked once durable — or, addressed to a
 * stand-in, kept as a hint (handoff.ts); a replica-get is answered from local data or the hint;
 * a repair or an anti-entropy record is merged; handoff and transfer batches are merged and
 * acked once every changed key is durable. A key this node does not replicate (a sender
 * routing by an older ring) is kept as a hint for the key's replicas instead of as data.
 */
import type { Effects } from './effects.js';
import type { Handoff } from './handoff.js';
import {
  type AfterPersist,
  type BatchReceipt,
  NOTHING_AFTER,
  type NodeContext,
} from './node-context.js';
import type { Reaper } from './reaper.js';
import { hintKey, type KeyRecord, type NodeId } from './types.js';
import { EMPTY_RECORD, isDeleted, sameDots, sync } from './version.js';

type Entries = ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>;

export class Replica {
  readonly stats = { replicaPuts: 0, replicaGets: 0, repairsApplied: 0 };

  constructor(
    private readonly ctx: NodeContext,
    private readonly handoff: Handoff,
    private readonly reaper: Reaper,
  ) {}

  onPut(
    from: NodeId,
    opId: number,
    key: string,
    incoming: KeyRecord,
    hintFor: NodeId | undefined,
    out: Effects,
  ): void {
    this.stats.replicaPuts++;
    if (hintFor !== undefined) {
      return this.handoff.storeHint(from, opId, hintFor, key, incoming, out);
    }
    if (!this.ctx.replicates(key))
      return this.handoff.holdForeignPut(from, opId, key, incoming, out);
    const { local } = this.ctx;
    const current = local.read(key);
    // sync also normalizes a peer's record; asOfNow stores values past their deadline expired.
    const merged = this.ctx.asOfNow(sync(current ?? EMPTY_RECORD, incoming));
    const unchanged = current !== undefined && sameDots(current, merged) && !local.isPending(key);
    const stamp = this.receivedStamp();
    if (unchanged) return out.send(from, { type: 'replica-put-ack', opId, ...stamp });
    this.ctx.writeData(key, merged, { kind: 'peer-ack', to: from, opId, ...stamp }, out);
  }

  onGet(from: NodeId, opId: number, key: string, hintFor: NodeId | undefined, out: Effects): void {
    this.stats.replicaGets++;
    const { local } = this.ctx;
    const hint = hintFor === undefined ? undefined : local.read(hintKey(hintFor, key), 'hints');
    const record =
      hintFor === undefined ? this.ctx.current(key, out) : hint && this.ctx.asOfNow(hint);
    out.send(from, {
      type: 'replica-get-reply',
      opId,
      record: record ?? null,
      ...this.receivedStamp(),
    });
  }

  /** When a request reached this node, for the coordinator's latency split (latency-meter.ts). */
  private receivedStamp(): { receivedAtMs?: number } {
    const meter = this.ctx.latency;
    return meter === undefined || meter === null ? {} : { receivedAtMs: meter.now() };
  }

  onRepair(key: string, incoming: KeyRecord, out: Effects): void {
    if (this.merge(key, incoming, out)) this.stats.repairsApplied++;
  }

  /**
   * Merges a record from a peer (repair, anti-entropy); returns whether anything changed. A
   * merge that leaves only tombstones arms a reap: otherwise a tombstone that anti-entropy or
   * repair carried back onto a replica that had reaped it stays until some read (sim seed 30331).
   */
  merge(key: string, incoming: KeyRecord, out: Effects): boolean {
    if (!this.ctx.replicates(key)) {
      this.handoff.holdForeign(key, incoming, NOTHING_AFTER, out);
      return true;
    }
    const local = this.ctx.local.read(key);
    const merged = this.ctx.asOfNow(sync(local ?? EMPTY_RECORD, incoming));
    if (local !== undefined && sameDots(local, merged)) return false;
    this.ctx.writeData(key, merged, NOTHING_AFTER, out);
    if (merged.siblings.length > 0 && isDeleted(merged)) {
      this.reaper.considerTombstones(key, merged, out);
    }
    return true;
  }

  /**
   * Merges a batch of records handed to this node (hinted handoff, or a membership change's
   * transfer) and acks it once every changed key is durable. Keys this node does not replicate
   * are kept as hints for their replicas (a sender routing by an older ring).
   */
  receiveBatch(
    from: NodeId,
    batchId: number,
    entries: Entries,
    ack: BatchReceipt['ack'],
    out: Effects,
  ): void {
    const receipt: BatchReceipt = { from, batchId, ack, remaining: 0 };
    const then: AfterPersist = { kind: 'batch-part', batch: receipt };
    const { local } = this.ctx;
    for (const { key, record } of entries) {
      if (!this.ctx.replicates(key)) {
        receipt.remaining++;
        this.handoff.holdForeign(key, record, then, out);
        continue;
      }
      const current = local.read(key);
      const merged = this.ctx.asOfNow(sync(current ?? EMPTY_RECORD, record));
      if (current !== undefined && sameDots(current, merged) && !local.isPending(key)) continue;
      receipt.remaining++;
      this.ctx.writeData(key, merged, then, out);
    }
    if (receipt.remaining === 0) out.send(from, { type: ack, batchId });
  }

  /** One part of a batch is durable; the batch is acked with its last part. */
  static batchPartDurable(batch: BatchReceipt, out: Effects): void {
    batch.remaining--;
    if (batch.remaining === 0) out.send(batch.from, { type: batch.ack, batchId: batch.batchId });
  }
}
