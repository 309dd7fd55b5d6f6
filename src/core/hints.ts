/**
 * Hinted handoff bookkeeping (Dynamo §4.6). A node that stands in for a down replica keeps the
 * write in its `hints` namespace under `hintKey(owner, key)` — one merged record per (owner, key),
 * so repeated writes to a key cost one hint — and hands hints to the owner in bounded batches
 * once it is reachable again. A hint is deleted only after the owner acked the batch and only if
 * the hint did not change meanwhile (a newer write to it goes in a later batch).
 *
 * Bound: at most `hintsPerTargetMax` distinct keys per owner. At the bound the node refuses new
 * keys for that owner (the coordinator gets a nack and counts the stand-in as failed); keys it
 * already holds keep merging, so the bound never drops data already accepted.
 *
 * This class is pure bookkeeping; NodeCore does the reads, persists and sends.
 */
import { assert } from './assert.js';
import type { KeyRecord, NodeId, StorageReader } from './types.js';
import { parseHintKey } from './types.js';
import { recordBytes } from './version.js';

interface BatchInFlight {
  readonly batchId: number;
  readonly records: ReadonlyMap<string, KeyRecord>;
  /** Handoff ticks since the batch was sent; past one, it is presumed lost and resent. */
  ticks: number;
}

export class HintBook {
  private readonly keysByTarget = new Map<NodeId, Set<string>>();
  private readonly inFlight = new Map<NodeId, BatchInFlight>();

  constructor(
    private readonly hintsPerTargetMax: number,
    private readonly batchKeysMax: number,
    /** Value bytes per batch (at least one key goes whatever its size). */
    private readonly batchBytesMax: number = Number.POSITIVE_INFINITY,
  ) {
    assert(hintsPerTargetMax >= 1, 'a node can hold at least one hint per target');
    assert(batchKeysMax >= 1, 'a handoff batch carries at least one key');
  }

  /** Rebuilds the index from durable hints (at start, after a crash). */
  load(store: StorageReader): void {
    for (const [stored] of store.entries({ ns: 'hints' })) {
      const { target, key } = parseHintKey(stored);
      this.noteStored(target, key);
    }
  }

  /** Hinted keys, per target or in all. */
  count(target?: NodeId): number {
    if (target !== undefined) return this.keysByTarget.get(target)?.size ?? 0;
    let total = 0;
    for (const keys of this.keysByTarget.values()) total += keys.size;
    return total;
  }

  /** Whether any hint for `key`, for any owner, is held here. */
  holdsKey(key: string): boolean {
    for (const keys of this.keysByTarget.values()) if (keys.has(key)) return true;
    return false;
  }

  /** The keys hinted for `target`, live (noteRemoved while iterating is safe), not a copy. */
  keysFor(target: NodeId): Iterable<string> {
    return this.keysByTarget.get(target) ?? [];
  }

  targets(): NodeId[] {
    return [...this.keysByTarget.keys()].sort();
  }

  /** Whether a hint for (target, key) fits: the key is already hinted or the queue has room. */
  canAccept(target: NodeId, key: string): boolean {
    const keys = this.keysByTarget.get(target);
    return keys === undefined || keys.has(key) || keys.size < this.hintsPerTargetMax;
  }

  noteStored(target: NodeId, key: string): void {
    let keys = this.keysByTarget.get(target);
    if (keys === undefined) {
      keys = new Set();
      this.keysByTarget.set(target, keys);
    }
    keys.add(key);
  }

  noteRemoved(target: NodeId, key: string): void {
    const keys = this.keysByTarget.get(target);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.keysByTarget.delete(target);
  }

  /**
   * The next batch for `target` — up to batchKeysMax keys with their current records — unless
   * one is still in flight. `read` returns the current hint record for a key.
   */
  nextBatch(
    target: NodeId,
    batchId: number,
    read: (key: string) => KeyRecord | undefined,
  ): Array<{ key: string; record: KeyRecord }> | null {
    if (this.inFlight.has(target)) return null;
    const keys = this.keysByTarget.get(target);
    if (keys === undefined) return null;
    const entries: Array<{ key: string; record: KeyRecord }> = [];
    let bytes = 0;
    for (const key of keys) {
      if (entries.length >= this.batchKeysMax) break;
      const record = read(key);
      if (record === undefined) continue;
      const size = key.length + recordBytes(record);
      if (entries.length > 0 && bytes + size > this.batchBytesMax) break;
      entries.push({ key, record });
      bytes += size;
    }
    if (entries.length === 0) return null;
    this.inFlight.set(target, {
      batchId,
      records: new Map(entries.map((e) => [e.key, e.record])),
      ticks: 0,
    });
    return entries;
  }

  /** The owner acked a batch: returns what it carried, so the caller can drop unchanged hints. */
  acked(target: NodeId, batchId: number): ReadonlyMap<string, KeyRecord> | null {
    const batch = this.inFlight.get(target);
    if (batch === undefined || batch.batchId !== batchId) return null;
    this.inFlight.delete(target);
    return batch.records;
  }

  /** A handoff tick passed: a batch unanswered for a whole tick is presumed lost. */
  tick(): void {
    for (const [target, batch] of this.inFlight) {
      batch.ticks++;
      if (batch.ticks > 1) this.inFlight.delete(target);
    }
  }
}
