/**
 * A FIFO of encoded messages bounded both in messages and in bytes. `push` refuses past either
 * bound (the caller counts the drop: tail drop, the newest message is the one lost), so a peer
 * that stops reading can never make its sender hold more than the bounds.
 */
import { assert } from '../core/assert.js';

export class SendQueue {
  private items: Buffer[] = [];
  /** Index of the first live item; the array is compacted when half of it is dead. */
  private head = 0;
  private bytesQueued = 0;

  constructor(
    private readonly messagesMax: number,
    private readonly bytesMax: number,
  ) {
    assert(Number.isSafeInteger(messagesMax) && messagesMax > 0, 'messagesMax must be > 0');
    assert(Number.isSafeInteger(bytesMax) && bytesMax > 0, 'bytesMax must be > 0');
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.bytesQueued;
  }

  /** Appends `item` unless a bound would be passed; false means it was not queued. */
  push(item: Buffer): boolean {
    if (this.length >= this.messagesMax || this.bytesQueued + item.length > this.bytesMax) {
      return false;
    }
    this.items.push(item);
    this.bytesQueued += item.length;
    return true;
  }

  /**
   * Removes and returns the oldest items, as many as fit in `bytesMax` (at least one when the
   * queue is not empty and the first fits) and at most `countMax`.
   */
  take(countMax: number, bytesMax: number): Buffer[] {
    const out: Buffer[] = [];
    let bytes = 0;
    while (out.length < countMax && this.head < this.items.length) {
      const item = this.items[this.head] as Buffer;
      if (bytes + item.length > bytesMax) break;
      out.push(item);
      bytes += item.length;
      this.head++;
    }
    this.bytesQueued -= bytes;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    assert(this.bytesQueued >= 0, 'queued bytes never negative');
    return out;
  }

  /** Drops everything; returns how many messages were dropped. */
  clear(): number {
    const dropped = this.length;
    this.items = [];
    this.head = 0;
    this.bytesQueued = 0;
    return dropped;
  }
}
