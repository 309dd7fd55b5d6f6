import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/event-queue.js';

describe('EventQueue', () => {
  it('pops in time order, ties in insertion order', () => {
    const queue = new EventQueue<string>();
    queue.push(5, 'c');
    queue.push(1, 'a');
    queue.push(5, 'd');
    queue.push(1, 'b');
    queue.push(3, 'x');
    const out: string[] = [];
    for (let e = queue.pop(); e !== undefined; e = queue.pop()) out.push(e.value);
    expect(out).toEqual(['a', 'b', 'x', 'c', 'd']);
  });

  it('agrees with a stable sort for any schedule (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const queue = new EventQueue<number>();
        times.forEach((t, i) => {
          queue.push(t, i);
        });
        const popped: number[] = [];
        for (let e = queue.pop(); e !== undefined; e = queue.pop()) popped.push(e.value);
        const expected = times
          .map((t, i) => [t, i] as const)
          .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(popped).toEqual(expected.map(([, i]) => i));
      }),
    );
  });

  it('enforces its bound and rejects non-finite times', () => {
    const queue = new EventQueue<number>(2);
    queue.push(1, 1);
    queue.push(2, 2);
    expect(() => queue.push(3, 3)).toThrow('events pending');
    expect(() => new EventQueue<number>().push(Number.NaN, 0)).toThrow('finite');
  });
});
