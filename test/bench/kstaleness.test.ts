import { describe, expect, it } from 'vitest';
import { kStaleness, kStalenessAt, missProbability } from '../../src/bench/kstaleness.js';

describe('k-staleness closed form', () => {
  it('matches hand-computed values', () => {
    // N=3, R=W=1: a read of one replica misses a write on one other with C(2,1)/C(3,1) = 2/3.
    expect(missProbability(3, 1, 1)).toBeCloseTo(2 / 3, 12);
    expect(kStaleness(3, 1, 1, 3).map(({ p }) => p)).toEqual([
      expect.closeTo(1 / 3, 12),
      expect.closeTo(5 / 9, 12),
      expect.closeTo(19 / 27, 12),
    ]);
    // N=5, R=W=2: C(3,2)/C(5,2) = 3/10.
    expect(kStalenessAt(5, 2, 2, 1)).toBeCloseTo(0.7, 12);
    expect(kStalenessAt(5, 2, 2, 2)).toBeCloseTo(0.91, 12);
    // N=5, R=1, W=2: C(3,1)/C(5,1) = 3/5.
    expect(kStalenessAt(5, 1, 2, 3)).toBeCloseTo(1 - 0.216, 12);
  });

  it('is 1 for every k when R + W > N', () => {
    for (const [n, r, w] of [
      [3, 2, 2],
      [3, 1, 3],
      [3, 3, 1],
      [5, 3, 3],
      [1, 1, 1],
    ] as const) {
      expect(kStaleness(n, r, w).every(({ p }) => p === 1)).toBe(true);
    }
  });

  it('grows with k towards 1 and tabulates k = 1..5 by default', () => {
    const table = kStaleness(7, 1, 1);
    expect(table.map(({ k }) => k)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < table.length; i++) expect(table[i]!.p).toBeGreaterThan(table[i - 1]!.p);
  });
});
