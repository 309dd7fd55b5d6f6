/**
 * bench/peers/harness.mjs median: the peer benchmarks report the median of their rounds; of two
 * rounds that is their mean, not the better throughput beside the worse p99.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { median as untyped } from '../../bench/peers/harness.mjs';

const median = untyped as (xs: readonly number[]) => number;

describe('median', () => {
  it('is the middle value of an odd count, in any order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('is the mean of the middle two of an even count', () => {
    expect(median([8939, 7736])).toBe(8337.5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('leaves its input unsorted', () => {
    const rounds = [3, 1, 2];
    median(rounds);
    expect(rounds).toEqual([3, 1, 2]);
  });
});
