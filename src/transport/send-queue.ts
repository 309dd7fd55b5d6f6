/**
 * A FIFO of encoded messages bounded both in messages and in bytes. `push` refuses past either
 * bound (the caller counts the drop: tail drop, the newest message is the one lost), so a peer
 * that stops reading can never make its sender hold more than the bounds.
 */
import { assert } from '../core/assert.js';

export class SendQueue {
  private items: Buffer[] = [];
  /** Per item: the peer incarnation it was queued for (null: none known then). */
  private tags: Array<string | null> = [];
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
  push(item: Buffer, tag: string | null = null): boolean {
    if (this.length >= this.messagesMax || this.bytesQueued + item.length > this.bytesMax) {
      return false;
    }
    this.items.push(item);
    this.tags.push(tag);
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
      this.tags = this.tags.slice(this.head);
      this.head = 0;
    }
    assert(this.bytesQueued >= 0, 'queued bytes never negative');
    return out;
  }

  /**
   * Drops the items queued for another incarnation than `tag` (items queued with no known
   * incarnation stay); returns how many were dropped.
   */
  dropOtherThan(tag: string): number {
    const items: Buffer[] = [];
    const tags: Array<string | null> = [];
    let bytes = 0;
    for (let i = this.head; i < this.items.length; i++) {
      const itemTag = this.tags[i] ?? null;
      if (itemTag !== null && itemTag !== tag) continue;
      items.push(this.items[i] as Buffer);
      tags.push(itemTag);
      bytes += (this.items[i] as Buffer).length;
    }
    const dropped = this.length - items.length;
    this.items = items;
    this.tags = tags;
    this.head = 0;
    this.bytesQueued = bytes;
    return dropped;
  }

  /** Drops everything; returns how many messages were dropped. */
  clear(): number {
    const dropped = this.length;
    this.items = [];
    this.tags = [];
    this.head = 0;
    this.bytesQueued = 0;
    return dropped;
  }
}
