/**
 * Items pushed in one event-loop turn, handed on together: at the end of the turn
 * (setImmediate), or as soon as `max` have gathered, so one batch is never larger than `max`.
 * Per turn, not per microtask: every socket or port event is its own callback, so a microtask
 * flush would hand items on one at a time. The thread runtime posts client requests and replies
 * through one of these each way, and nodes sharing a thread pass peer messages through one.
 *
 * At most one flush is scheduled at a time, whether or not `max` cut a batch early. The batch
 * handed to `flush` is the batcher's no longer: the callee may keep it.
 */
import { assert } from '../core/assert.js';

export class TurnBatcher<T> {
  private batch: T[] = [];
  private scheduled = false;
  private readonly onTurn = (): void => {
    this.scheduled = false;
    this.flushNow();
  };

  constructor(
    private readonly max: number,
    private readonly flush: (batch: T[]) => void,
  ) {
    assert(max >= 1, 'a batch holds at least one item');
  }

  push(item: T): void {
    this.batch.push(item);
    if (this.batch.length >= this.max) this.flushNow();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onTurn);
    }
  }

  /** Items waiting for the end of the turn. */
  get size(): number {
    return this.batch.length;
  }

  private flushNow(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.flush(batch);
  }
}
