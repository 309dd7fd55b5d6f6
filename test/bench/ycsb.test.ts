import { describe, expect, it } from 'vitest';
import { nextOp, WORKLOADS, ZipfianGenerator, zeta } from '../../src/bench/ycsb.js';
import { Prng } from '../../src/util/prng.js';

const DRAWS = 200_000;

function counts(items: number, seed: number, draws = DRAWS): Float64Array {
  const zipf = new ZipfianGenerator(items);
  const prng = new Prng(seed);
  const out = new Float64Array(items);
  let outOfRange = 0;
  for (let i = 0; i < draws; i++) {
    const x = zipf.next(prng);
    if (Number.isInteger(x) && x >= 0 && x < items) out[x]!++;
    else outOfRange++;
  }
  expect(outOfRange).toBe(0);
  return out;
}

describe('zeta', () => {
  it('sums 1 / i^theta', () => {
    expect(zeta(1, 0.99)).toBe(1);
    expect(zeta(2, 0.99)).toBeCloseTo(1 + 0.5 ** 0.99, 12);
    expect(zeta(4, 0.5)).toBeCloseTo(1 + 2 ** -0.5 + 3 ** -0.5 + 4 ** -0.5, 12);
  });
});

describe('ZipfianGenerator (YCSB, theta 0.99)', () => {
  it('draws rank 1 and rank 2 with their exact zipfian probabilities', () => {
    const items = 1000;
    const zipf = new ZipfianGenerator(items);
    const c = counts(items, 42);
    const p1 = c[0]! / DRAWS;
    const p2 = c[1]! / DRAWS;
    expect(zipf.probabilityOf(0)).toBeCloseTo(1 / zeta(items, 0.99), 12);
    // Binomial standard error at p ≈ 0.13 and 200k draws is ≈ 0.0008; allow ~4 of them.
    expect(Math.abs(p1 - zipf.probabilityOf(0))).toBeLessThan(0.003);
    expect(Math.abs(p2 - zipf.probabilityOf(1))).toBeLessThan(0.003);
  });

  it('follows the power law in the head and keeps every item in range', () => {
    const items = 10_000;
    const zipf = new ZipfianGenerator(items);
    const c = counts(items, 7);
    // Gray's closed form approximates ranks past 2; the head stays within 15 % of the law.
    for (const rank of [3, 5, 10, 50]) {
      const expected = zipf.probabilityOf(rank - 1) * DRAWS;
      const window = c.slice(rank - 1, rank + 1).reduce((a, b) => a + b, 0) / 2;
      expect(Math.abs(window - expected) / expected).toBeLessThan(0.15);
    }
    expect(c[0]!).toBeGreaterThan(c[9]!);
    expect(c[9]!).toBeGreaterThan(c[99]!);
    // The tail is reached: some draws land in the last tenth of the items.
    expect(c.slice(items * 0.9).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('handles 100 000 keys and tiny key spaces', () => {
    const big = new ZipfianGenerator(100_000);
    const prng = new Prng(3);
    let first = 0;
    for (let i = 0; i < 50_000; i++) if (big.next(prng) === 0) first++;
    expect(Math.abs(first / 50_000 - big.probabilityOf(0))).toBeLessThan(0.006);
    for (const items of [1, 2, 3]) {
      const c = counts(items, 5, 10_000);
      expect(c.reduce((a, b) => a + b, 0)).toBe(10_000);
    }
  });

  it('is reproducible from a seed', () => {
    const zipf = new ZipfianGenerator(5000);
    const draw = (seed: number) => {
      const prng = new Prng(seed);
      return Array.from({ length: 100 }, () => zipf.next(prng));
    };
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9)).not.toEqual(draw(10));
  });
});

describe('workload mix', () => {
  const share = (name: 'a' | 'b' | 'c') => {
    const prng = new Prng(1);
    let reads = 0;
    for (let i = 0; i < 100_000; i++) if (nextOp(WORKLOADS[name], prng) === 'read') reads++;
    return reads / 100_000;
  };

  it('A is 50/50, B is 95/5, C is read only', () => {
    expect(Math.abs(share('a') - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(share('b') - 0.95)).toBeLessThan(0.005);
    expect(share('c')).toBe(1);
  });
});
