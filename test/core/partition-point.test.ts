/** core/partition-point.ts: the first index where a prefix predicate turns false. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partitionPoint } from '../../src/core/partition-point.js';

describe('partitionPoint', () => {
  it('is the count of elements before the target in a sorted array, for any array and target', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 })), fc.integer(), (values, target) => {
        const sorted = [...values].sort((a, b) => a - b);
        const point = partitionPoint(sorted.length, (i) => sorted[i]! < target);
        expect(point).toBe(sorted.filter((v) => v < target).length);
      }),
    );
  });

  it('is 0 for an empty range and the length when the predicate never turns false', () => {
    expect(partitionPoint(0, () => true)).toBe(0);
    expect(partitionPoint(5, () => true)).toBe(5);
    expect(partitionPoint(5, () => false)).toBe(0);
  });
});
