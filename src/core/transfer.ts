/**
 * Streams partitions to the nodes that gain them in a membership change (ring-state.ts).
 *
 * Two kinds of stream:
 * - a move (while the change runs): this node is a partition's designated sender; it sends its
 *   keys in key order, in batches, to every incoming node. The position acked by all of them is
 *   saved durably (`cursorMeta`), so a sender that crashes resumes where it stopped, not at zero.
 * - a drain (after the change committed): this node holds keys of a partition it no longer
 *   replicates; it sends them to the partition's new replicas and drops each key once every
 *   target acked it unchanged. Drains need no cursor: what is left to drain is what is held.
 *
 * Throttled: batches of `batchKeysMax` keys, at most `batchesMax` in flight across streams, each
 * stream with one batch in flight; the next goes when the last is acked (ack-clocked). A batch
 * not acked within `RESEND_TICKS` ticks is sent again to the targets still owing an ack; merging
 * is idempotent, so duplicates are harmless. Pure: no I/O, no clock (ticks come from the node).
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import type { TransferStatus } from './messages.js';
import { partitionPoint } from './partition-point.js';
import type { KeyRecord, NodeId } from './types.js';
import { recordBytes } from './version.js';

/** Ticks a batch may wait for its acks before it is sent again. */
const RESEND_TICKS = 2;

export interface TransferLimits {
  readonly transferBatchKeysMax: number;
  readonly transferBatchesMax: number;
  /** Value bytes per batch (at least one key goes whatever its size). */
  readonly batchBytesMax: number;
}

export interface TransferHost {
  allocateId(): number;
  /** The ring state streams run under, sent with every batch. */
  ringIdentity(): { readonly version: number; readonly claimant: NodeId };
  isDown(peer: NodeId): boolean;
  read(key: string): KeyRecord | undefined;
  /** Saves a move's acked position durably (meta entry `name`). */
  saveCursor(name: string, key: string, out: Effects): void;
  /** A moved key every target acked as `record`. */
  moved(key: string, record: KeyRecord): void;
  /** A drained key was acked by every target as `sent`: drop it if it is still that. */
  drained(key: string, sent: KeyRecord, out: Effects): void;
  /**
   * A key to drain that this node no longer holds (a reap removed it: a departing node answers
   * reap checks): nothing is left to send, and the drain must stop counting it (sim seed 1000485).
   */
  gone(key: string): void;
}

interface Batch {
  readonly batchId: number;
  readonly entries: Array<{ readonly key: string; readonly record: KeyRecord }>;
  readonly awaiting: Set<NodeId>;
  /** Targets that acked. */
  acked: number;
  ticks: number;
}

export interface StreamSpec {
  readonly partition: number;
  readonly targets: readonly NodeId[];
  /** The keys to send, ascending (called for every batch: it sees writes since the last). */
  readonly keys: () => readonly string[];
  /** Move: the meta entry of its cursor, and where it stood. Drain: null. */
  readonly cursorMeta: string | null;
  readonly cursor: string | null;
}

interface Stream extends StreamSpec {
  position: string | null;
  batch: Batch | null;
  finished: boolean;
}

export class Transfers {
  private streams: Stream[] = [];
  private readonly byBatch = new Map<number, Stream>();
  /** Keys in a batch in flight, with how many batches hold them (the reaper waits for them). */
  private readonly keysInFlight = new Map<string, number>();
  private nextStream = 0;
  readonly stats = { keysSent: 0, keysDrained: 0, keysReceived: 0, batchesResent: 0 };

  constructor(
    private readonly host: TransferHost,
    private readonly limits: TransferLimits,
  ) {
    assert(limits.transferBatchKeysMax >= 1, 'transfer: a batch holds a key');
    assert(limits.transferBatchesMax >= 1, 'transfer: a batch may be in flight');
  }

  /** Replaces every stream (on a ring change); batches in flight are forgotten. */
  reset(specs: readonly StreamSpec[]): void {
    this.streams = specs.map((spec) => ({
      ...spec,
      position: spec.cursor,
      batch: null,
      finished: false,
    }));
    this.byBatch.clear();
    this.keysInFlight.clear();
    this.nextStream = 0;
  }

  /** Whether every move stream has finished (drains do not count). */
  movesFinished(): boolean {
    return this.streams.every((s) => s.cursorMeta === null || s.finished);
  }

  /** Batches sent and not yet acked by every target. */
  get batchesInFlight(): number {
    return this.byBatch.size;
  }

  /** Whether `key` is in a batch still waiting for acks. */
  holdsKey(key: string): boolean {
    return this.keysInFlight.has(key);
  }

  status(keysToDrain: number): TransferStatus {
    const moving = this.streams.filter((s) => s.cursorMeta !== null && !s.finished);
    return {
      partitionsToSend: moving.length,
      keysToDrain,
      batchesInFlight: this.batchesInFlight,
      keysSent: this.stats.keysSent,
      keysDrained: this.stats.keysDrained,
      keysReceived: this.stats.keysReceived,
    };
  }

  /** Every tick: resend overdue batches, then fill free batch slots. */
  onTick(out: Effects): void {
    for (const stream of this.streams) {
      const batch = stream.batch;
      if (batch === null) continue;
      if (this.drainDone(stream, batch)) {
        this.finishBatch(stream, batch, out);
        continue;
      }
      batch.ticks++;
      if (batch.ticks < RESEND_TICKS) continue;
      batch.ticks = 0;
      this.stats.batchesResent++;
      this.sendBatch(stream, batch, out);
    }
    this.pump(out);
  }

  /** A target acked a batch; when the last one does, the stream moves on. */
  onAck(from: NodeId, batchId: number, out: Effects): void {
    const stream = this.byBatch.get(batchId);
    const batch = stream?.batch;
    if (stream === undefined || batch == null || batch.batchId !== batchId) return;
    if (!batch.awaiting.delete(from)) return;
    batch.acked++;
    if (batch.awaiting.size > 0 && !this.drainDone(stream, batch)) return;
    this.finishBatch(stream, batch, out);
    this.pump(out);
  }

  /**
   * A drain batch is done once some target acked it and the others are down: one new replica
   * holding the keys durably is enough to drop them here (anti-entropy spreads them), and a
   * dead replica must not keep them here for ever. A move waits for every target.
   */
  private drainDone(stream: Stream, batch: Batch): boolean {
    if (stream.cursorMeta !== null || batch.acked === 0) return false;
    for (const target of batch.awaiting) if (!this.host.isDown(target)) return false;
    return true;
  }

  private finishBatch(stream: Stream, batch: Batch, out: Effects): void {
    this.byBatch.delete(batch.batchId);
    stream.batch = null;
    for (const { key } of batch.entries) {
      const held = this.keysInFlight.get(key)! - 1;
      if (held === 0) this.keysInFlight.delete(key);
      else this.keysInFlight.set(key, held);
    }
    const last = batch.entries[batch.entries.length - 1]!;
    if (stream.cursorMeta !== null) {
      stream.position = last.key;
      this.host.saveCursor(stream.cursorMeta, last.key, out);
      for (const { key, record } of batch.entries) this.host.moved(key, record);
    } else {
      for (const { key, record } of batch.entries) this.host.drained(key, record, out);
    }
  }

  /** Starts batches on idle streams, round robin, while slots are free. */
  private pump(out: Effects): void {
    let visited = 0;
    while (this.byBatch.size < this.limits.transferBatchesMax && visited < this.streams.length) {
      const stream = this.streams[this.nextStream % this.streams.length]!;
      this.nextStream = (this.nextStream + 1) % this.streams.length;
      visited++;
      if (stream.batch !== null || stream.finished) continue;
      if (stream.targets.every((t) => this.host.isDown(t))) continue;
      if (this.startBatch(stream, out)) visited = 0;
    }
  }

  private startBatch(stream: Stream, out: Effects): boolean {
    const entries = this.nextEntries(stream);
    if (entries.length === 0) {
      stream.finished = stream.cursorMeta !== null; // a drain may get more keys later
      return false;
    }
    const batch: Batch = {
      batchId: this.host.allocateId(),
      entries,
      awaiting: new Set(stream.targets),
      acked: 0,
      ticks: 0,
    };
    stream.batch = batch;
    this.byBatch.set(batch.batchId, stream);
    for (const { key } of entries)
      this.keysInFlight.set(key, (this.keysInFlight.get(key) ?? 0) + 1);
    const copies = entries.length * stream.targets.length;
    if (stream.cursorMeta === null) this.stats.keysDrained += copies;
    else this.stats.keysSent += copies;
    this.sendBatch(stream, batch, out);
    return true;
  }

  private nextEntries(stream: Stream): Array<{ key: string; record: KeyRecord }> {
    const entries: Array<{ key: string; record: KeyRecord }> = [];
    const after = stream.position;
    const keys = stream.keys();
    let bytes = 0;
    for (let i = after === null ? 0 : firstAfter(keys, after); i < keys.length; i++) {
      const key = keys[i]!;
      const record = this.host.read(key);
      if (record === undefined) {
        if (stream.cursorMeta === null) this.host.gone(key);
        continue;
      }
      const size = key.length + recordBytes(record);
      if (entries.length > 0 && bytes + size > this.limits.batchBytesMax) break;
      entries.push({ key, record });
      bytes += size;
      if (entries.length >= this.limits.transferBatchKeysMax) break;
    }
    return entries;
  }

  private sendBatch(stream: Stream, batch: Batch, out: Effects): void {
    const { version, claimant } = this.host.ringIdentity();
    for (const target of batch.awaiting) {
      if (this.host.isDown(target)) continue;
      out.send(target, {
        type: 'transfer',
        version,
        claimant,
        batchId: batch.batchId,
        partition: stream.partition,
        entries: batch.entries,
      });
    }
  }
}

/** The index of the first of the ascending `keys` above `after` (`<` order); length if none. */
function firstAfter(keys: readonly string[], after: string): number {
  const first = partitionPoint(keys.length, (i) => keys[i]! <= after);
  assert(first === keys.length || keys[first]! > after, 'the first key above the position');
  return first;
}
