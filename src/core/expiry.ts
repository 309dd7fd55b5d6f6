/**
 * Expiry of values written with a deadline (a TTL). The deadline is part of the version
 * (Sibling.expiresAtMs), so this file only decides *when* this node turns an expired value into
 * a tombstone (version.ts `expire` decides *what* it turns into, from the version alone):
 *
 * - every data write goes through `beforeWrite`, which stores expired values as tombstones
 *   already and remembers the key's next deadline in a queue;
 * - every tick, `sweep` takes the keys whose deadline passed (at most sweepKeysMax), stores
 *   them expired and hands keys that are now only tombstones to the two-phase reaper, which
 *   removes them only once every node agrees (reaper.ts);
 * - reads (`current`) see a record as it stands at this node's time, expired or not yet swept.
 *
 * A node's clock is the only time it judges by. A node whose clock is behind keeps serving a
 * value until its own clock passes the deadline, but it can never bring the value back to a
 * node that expired it: two copies of one dot merge to the expired one (version.ts sync).
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import { compareStorageKeys } from './key-order.js';
import type { KeyRecord } from './types.js';
import { earliestExpiry, expire, isDeleted } from './version.js';

/**
 * Keys by their earliest deadline: a binary min-heap of (deadline, key) entries with lazy
 * removal (an entry counts only while `deadlines` still holds the same deadline for its key).
 * Rebuilt from `deadlines` when stale entries outnumber live ones, so it stays O(keys).
 */
export class DeadlineQueue {
  private readonly deadlines = new Map<string, number>();
  private heap: Array<readonly [number, string]> = [];

  get size(): number {
    return this.deadlines.size;
  }

  /** Sets `key`'s next deadline (null: nothing of it expires). */
  set(key: string, deadlineMs: number | null): void {
    if (deadlineMs === null) {
      if (this.deadlines.size > 0) this.deadlines.delete(key); // no TTL in use: no lookup
      return;
    }
    if (this.deadlines.get(key) === deadlineMs) return;
    this.deadlines.set(key, deadlineMs);
    this.push([deadlineMs, key]);
    if (this.heap.length > 2 * this.deadlines.size + 1024) this.rebuild();
  }

  /** Removes and returns up to `max` keys whose deadline is at or before `nowMs`, earliest first. */
  takeDue(nowMs: number, max: number): string[] {
    const due: string[] = [];
    while (due.length < max && this.heap.length > 0 && this.heap[0]![0] <= nowMs) {
      const [deadline, key] = this.pop();
      if (this.deadlines.get(key) !== deadline) continue; // stale: the key changed since
      this.deadlines.delete(key);
      due.push(key);
    }
    assert(due.length <= max, 'a sweep takes at most max keys');
    return due;
  }

  private rebuild(): void {
    this.heap = [];
    for (const [key, deadline] of this.deadlines) this.push([deadline, key]);
    assert(this.heap.length === this.deadlines.size, 'a rebuilt heap holds one entry per key');
  }

  private push(entry: readonly [number, string]): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]![0] <= heap[i]![0]) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  private pop(): readonly [number, string] {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && heap[left]![0] < heap[smallest]![0]) smallest = left;
      if (right < heap.length && heap[right]![0] < heap[smallest]![0]) smallest = right;
      if (smallest === i) return top;
      [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
      i = smallest;
    }
  }
}

/** What Expiry needs from its node. */
export interface ExpiryHost {
  /** This node's wall clock (Unix ms), or null when it has none (nothing expires then). */
  wallNowMs(): number | null;
  /** The local record of `key` (durable or pending). */
  read(key: string): KeyRecord | undefined;
  /** Stores a record through the node's one data write path (which calls beforeWrite). */
  write(key: string, record: KeyRecord, out: Effects): void;
  /** `key` is only tombstones now: a reap candidate. */
  considerTombstones(key: string, record: KeyRecord, out: Effects): void;
}

export class Expiry {
  private readonly queue = new DeadlineQueue();
  readonly stats = { valuesExpired: 0 };
  /** Deadlines the start-up scan found (noteFound), until queueFound; then null. */
  private found: Array<[key: string, deadlineMs: number]> | null = [];

  constructor(
    private readonly host: ExpiryHost,
    private readonly sweepKeysMax: number,
  ) {
    assert(Number.isSafeInteger(sweepKeysMax) && sweepKeysMax >= 1, 'a sweep takes keys');
  }

  /** Keys holding a value that will expire. */
  get tracked(): number {
    return this.queue.size;
  }

  /** `record` as it stands now (expired values as tombstones). */
  asOfNow(record: KeyRecord): KeyRecord {
    if (earliestExpiry(record) === null) return record; // nothing to expire: no clock read
    const nowMs = this.host.wallNowMs();
    return nowMs === null ? record : expire(record, nowMs);
  }

  /** The record to store for `key` instead of `record` (expired now); tracks its next deadline. */
  beforeWrite(key: string, record: KeyRecord | null): KeyRecord | null {
    if (record === null) {
      this.queue.set(key, null);
      return null;
    }
    const stored = this.asOfNow(record);
    this.countExpired(record, stored);
    this.queue.set(key, earliestExpiry(stored));
    return stored;
  }

  /** Notes a record the start-up scan found, in any order; `queueFound` queues the deadlines. */
  noteFound(key: string, record: KeyRecord): void {
    assert(this.found !== null, 'records are noted only during the start-up scan');
    const deadline = earliestExpiry(record);
    if (deadline !== null) this.found.push([key, deadline]);
  }

  /**
   * Ends the start-up scan: the deadlines found are queued in key order, so deadlines that tie
   * are taken in the same order whatever order the engine read them in (and most records,
   * without a deadline, cost no sort).
   */
  queueFound(): void {
    assert(this.found !== null, 'the start-up scan ends once');
    this.found.sort(([a], [b]) => compareStorageKeys(a, b));
    for (const [key, deadline] of this.found) this.queue.set(key, deadline);
    this.found = null;
  }

  /**
   * The local record as it stands now; if a value in it expired, the expired record is stored
   * (and a record left with only tombstones goes to the reaper).
   */
  current(key: string, out: Effects): KeyRecord | undefined {
    const record = this.host.read(key);
    if (record === undefined) return undefined;
    const now = this.asOfNow(record);
    if (now === record) {
      this.queue.set(key, earliestExpiry(record)); // a clock that stepped back: keep its deadline
      return record;
    }
    this.countExpired(record, now);
    this.host.write(key, now, out);
    if (isDeleted(now)) this.host.considerTombstones(key, now, out);
    return now;
  }

  /** Every tick: stores the keys whose deadline passed as expired (bounded per tick). */
  sweep(out: Effects): void {
    const nowMs = this.host.wallNowMs();
    if (nowMs === null) return;
    for (const key of this.queue.takeDue(nowMs, this.sweepKeysMax)) this.current(key, out);
  }

  private countExpired(before: KeyRecord, after: KeyRecord): void {
    if (before === after) return;
    for (let i = 0; i < before.siblings.length; i++) {
      if (before.siblings[i]!.value !== null && after.siblings[i]!.value === null) {
        this.stats.valuesExpired++;
      }
    }
  }
}
