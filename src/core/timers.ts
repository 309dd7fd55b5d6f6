/**
 * A node's timers and who owns each. A sub-machine sets a timer through here; when the runtime
 * feeds the timer back, NodeCore hands it straight to its owner instead of asking every
 * sub-machine whether the id is theirs. A fired or cancelled timer is forgotten, so the table
 * holds only armed timers (each owner bounds its own: operations by inFlightMax, reaps, SWIM's
 * TIMERS_MAX, one exchange, the periodic ticks). A timer the runtime fires after it was
 * cancelled finds no owner and is ignored, which is harmless by the effect contract.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import { IdTable } from './id-table.js';

export interface TimerOwner {
  onTimer(timerId: number, out: Effects): void;
}

export class Timers {
  /** By timer id: an IdTable, not a Map (see id-table.ts). */
  private readonly owners = new IdTable<TimerOwner>();

  constructor(private readonly allocateId: () => number) {}

  /** Arms a timer for `owner`; returns its id. */
  set(owner: TimerOwner, delayMs: number, out: Effects): number {
    const timerId = this.allocateId();
    this.arm(timerId, owner, delayMs, out);
    return timerId;
  }

  /** Arms a timer whose id the owner allocated earlier (to keep its ids in a fixed order). */
  arm(timerId: number, owner: TimerOwner, delayMs: number, out: Effects): void {
    assert(!this.owners.has(timerId), 'a timer id is armed once');
    assert(delayMs >= 0, 'timer delays are not negative');
    this.owners.set(timerId, owner);
    out.setTimer(timerId, delayMs);
  }

  cancel(timerId: number, out: Effects): void {
    this.owners.delete(timerId);
    out.cancelTimer(timerId);
  }

  /** Hands a fired timer to its owner; false when none owns it (cancelled, or from a past life). */
  fire(timerId: number, out: Effects): boolean {
    const owner = this.owners.get(timerId);
    if (owner === undefined) return false;
    this.owners.delete(timerId);
    owner.onTimer(timerId, out);
    return true;
  }

  /** Timers armed now. */
  get armed(): number {
    return this.owners.size;
  }
}
