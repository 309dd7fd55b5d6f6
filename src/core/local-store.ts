/**
 * A node's view of its own data while writes are in flight: reads see writes that are not yet
 * durable (so two puts in a row never issue the same dot), and each persist carries what to do
 * once it is durable. It also hands out the node-wide dot counter: counters are reserved in
 * blocks, and a reservation travels in the same atomic batch as the first write that needs it,
 * so a dot is never durable unless its reservation is — a restarted node resumes above every
 * counter it ever issued, even for keys whose tombstones were reaped.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import { IdTable } from './id-table.js';
import type { KeyRecord, Namespace, PersistWrite, StorageReader } from './types.js';

/** The meta entry holding the highest counter this node may have issued. */
export const COUNTER_META = 'counterReserved';
/** Counters reserved per meta write. */
const COUNTER_BLOCK = 10_000;

interface OverlayEntry {
  record: KeyRecord | null;
  outstanding: number;
}

interface Pending<T> {
  readonly ns: Namespace | 'meta';
  readonly key: string;
  readonly then: T;
}

export class LocalStore<T> {
  /**
   * The latest record written per key that has persists outstanding (null: a pending removal),
   * with how many are outstanding; the entry goes when the last one is durable.
   */
  private readonly overlay = {
    data: new Map<string, OverlayEntry>(),
    hints: new Map<string, OverlayEntry>(),
  };
  private readonly pending = new IdTable<Pending<T>>();
  private counterNext: number;
  private counterReserved: number;
  /** The highest reservation known durable: a restarted node issues no counter at or below it. */
  private durableReservation: number;
  /** Writes carrying a new reservation, by token, with the counter they reserve up to. */
  private readonly reservations = new Map<number, number>();

  constructor(
    private readonly store: StorageReader,
    private readonly allocateToken: () => number,
  ) {
    const reserved = store.getMeta(COUNTER_META);
    this.counterReserved =
      typeof reserved === 'number' && Number.isSafeInteger(reserved) ? reserved : 0;
    assert(this.counterReserved >= 0, 'a counter reservation is not negative');
    this.counterNext = this.counterReserved + 1;
    this.durableReservation = this.counterReserved;
  }

  get persistsPending(): number {
    return this.pending.size;
  }

  read(key: string, ns: Namespace = 'data'): KeyRecord | undefined {
    const entry = this.overlay[ns].get(key);
    if (entry !== undefined) return entry.record ?? undefined;
    return this.store.get(key, ns);
  }

  /** Bytes of the records the engine holds (StorageReader.bytes); null where it does not say. */
  bytes(): number | null {
    return this.store.bytes?.() ?? null;
  }

  /** Whether a write to this key is still waiting to become durable. */
  isPending(key: string, ns: Namespace = 'data'): boolean {
    return this.overlay[ns].has(key);
  }

  /**
   * The smallest counter the next dot may use; call `counterUsed` with the one actually used.
   * When the counter leaves the reserved block, the next `write` carries a new reservation.
   */
  counterFloor(): number {
    return this.counterNext;
  }

  counterUsed(counter: number): void {
    assert(counter >= this.counterNext, 'counters only grow');
    this.counterNext = counter + 1;
  }

  /**
   * Whether a dot with this counter may leave the node before the write that issued it is
   * durable: a durable reservation covers it, so a restart cannot issue it again.
   */
  counterDurable(counter: number): boolean {
    return counter <= this.durableReservation;
  }

  /** Writes a record (null removes it); `then` comes back from `onPersisted` once durable. */
  write(ns: Namespace, key: string, record: KeyRecord | null, then: T, out: Effects): number {
    const token = this.allocateToken();
    const writes: PersistWrite[] = [];
    if (this.counterNext > this.counterReserved) {
      this.counterReserved = this.counterNext + COUNTER_BLOCK;
      writes.push({ ns: 'meta', name: COUNTER_META, value: this.counterReserved });
      this.reservations.set(token, this.counterReserved);
    }
    writes.push({ ns, key, record });
    const entry = this.overlay[ns].get(key);
    if (entry === undefined) this.overlay[ns].set(key, { record, outstanding: 1 });
    else {
      entry.record = record;
      entry.outstanding++;
    }
    this.pending.set(token, { ns, key, then });
    out.persist(token, writes);
    return token;
  }

  /** Keys of `ns` with a write not yet durable (their records are readable with `read`). */
  pendingKeys(ns: Namespace = 'data'): IterableIterator<string> {
    return this.overlay[ns].keys();
  }

  /** Writes a small metadata value (undefined removes it); `then` comes back once durable. */
  writeMeta(name: string, value: unknown, then: T, out: Effects): number {
    const token = this.allocateToken();
    this.pending.set(token, { ns: 'meta', key: name, then });
    out.persist(token, [{ ns: 'meta', name, value }]);
    return token;
  }

  /** The persist with this token is durable: forget its overlay entry, return its continuation. */
  onPersisted(token: number): T {
    const pending = this.pending.get(token);
    assert(pending !== undefined, 'persisted tokens are ones this store issued');
    this.pending.delete(token);
    const reserved = this.reservations.get(token);
    if (reserved !== undefined) {
      this.reservations.delete(token);
      this.durableReservation = Math.max(this.durableReservation, reserved);
    }
    if (pending.ns === 'meta') return pending.then;
    const overlay = this.overlay[pending.ns];
    const entry = overlay.get(pending.key);
    assert(entry !== undefined && entry.outstanding > 0, 'a pending persist has its overlay entry');
    entry.outstanding--;
    if (entry.outstanding === 0) overlay.delete(pending.key);
    return pending.then;
  }
}
