/**
 * The simulator's agenda: a binary min-heap ordered by (timeMs, seq). `seq` is the insertion
 * order, so events due at the same virtual time run in the order they were scheduled and a
 * seed always replays the same interleaving.
 */
import { assert } from '../core/assert.js';

export interface Scheduled<T> {
  readonly timeMs: number;
  readonly seq: number;
  readonly value: T;
}

/** Default bound on pending events; a run that needs more has a runaway loop. */
export const EVENTS_PENDING_MAX = 1_000_000;

function before<T>(a: Scheduled<T>, b: Scheduled<T>): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}

export class EventQueue<T> {
  private readonly heap: Scheduled<T>[] = [];
  private seqNext = 0;

  constructor(readonly pendingMax = EVENTS_PENDING_MAX) {
    assert(pendingMax >= 1, 'the queue holds at least one event');
  }

  get size(): number {
    return this.heap.length;
  }

  push(timeMs: number, value: T): Scheduled<T> {
    assert(Number.isFinite(timeMs), `event time ${timeMs} is finite`);
    assert(this.heap.length < this.pendingMax, `more than ${this.pendingMax} events pending`);
    const item: Scheduled<T> = { timeMs, seq: this.seqNext++, value };
    this.heap.push(item);
    this.siftUp(this.heap.length - 1);
    return item;
  }

  peek(): Scheduled<T> | undefined {
    return this.heap[0];
  }

  pop(): Scheduled<T> | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(start: number): void {
    const heap = this.heap;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && before(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && before(heap[right]!, heap[least]!)) least = right;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }
}
