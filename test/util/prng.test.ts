import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/util/prng.js';

function draws(seed: number, count: number): number[] {
  const prng = new Prng(seed);
  return Array.from({ length: count }, () => prng.next01());
}

describe('Prng', () => {
  it('gives the same sequence for the same seed', () => {
    expect(draws(42, 100)).toEqual(draws(42, 100));
  });

  it('gives different sequences for neighbouring seeds, from the first draw', () => {
    const firsts = new Set([0, 1, 2, 3, 4, 5].map((seed) => draws(seed, 1)[0]!.toFixed(6)));
    expect(firsts.size).toBe(6);
    expect(draws(1, 10)).not.toEqual(draws(2, 10));
  });

  it('keeps every helper within its range', () => {
    const prng = new Prng(7);
    for (let i = 0; i < 2000; i++) {
      const x = prng.next01();
      expect(x >= 0 && x < 1).toBe(true);
      const k = prng.int(-3, 3);
      expect(Number.isInteger(k) && k >= -3 && k <= 3).toBe(true);
      expect(['a', 'b', 'c']).toContain(prng.pick(['a', 'b', 'c']));
      expect(prng.pickWeighted([0, 1, 0])).toBe(1);
    }
    expect(prng.chance(0)).toBe(false);
    expect(prng.chance(1)).toBe(true);
    expect(prng.hex(6)).toMatch(/^[0-9a-f]{6}$/);
  });

  it('draws integers roughly uniformly', () => {
    const prng = new Prng(3);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[prng.int(0, 3)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('shuffles into a permutation', () => {
    const prng = new Prng(9);
    const items = Array.from({ length: 20 }, (_, i) => i);
    const shuffled = prng.shuffle(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(shuffled).not.toEqual(items);
  });

  it('rejects seeds that are not unsigned 32-bit integers', () => {
    expect(() => new Prng(-1)).toThrow();
    expect(() => new Prng(2 ** 32)).toThrow();
    expect(() => new Prng(1.5)).toThrow();
  });
});
