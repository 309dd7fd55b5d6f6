import { describe, expect, it } from 'vitest';
import {
  confirmationsExpected,
  nodeScale,
  suspicionTimeoutMs,
  suspicionTimeoutMsMin,
} from '../../src/core/suspicion.js';

// Rows computed by hand from min = mult × max(1, log10 n) × interval, max = maxMult × min,
// timeout = max − (max − min) × ln(c + 1) / ln(k + 1), floored to whole ms.
const rows: Array<[string, number, number, number, number, number, number, number]> = [
  // label, nodes, interval, mult, maxMult, c, k, expected
  ['one node, no confirmations: max', 1, 1000, 4, 6, 0, 2, 24_000],
  ['n=10 scale 1, c=0: max', 10, 1000, 4, 6, 0, 2, 24_000],
  ['n=10, c=1 of 2: 24000 − 20000·ln2/ln3', 10, 1000, 4, 6, 1, 2, 11_381],
  ['n=10, c=2 of 2: min', 10, 1000, 4, 6, 2, 2, 4_000],
  ['n=10, c beyond k is capped: min', 10, 1000, 4, 6, 5, 2, 4_000],
  ['n=10, c=1 of 3: 24000 − 20000·ln2/ln4', 10, 1000, 4, 6, 1, 3, 14_000],
  ['n=100 scale 2, c=0: 48000', 100, 1000, 4, 6, 0, 2, 48_000],
  ['n=100, c=1 of 2: 48000 − 40000·ln2/ln3', 100, 1000, 4, 6, 1, 2, 22_762],
  ['n=16 scale log10 16, c=0: 6·4·1.20412·1000', 16, 1000, 4, 6, 0, 2, 28_898],
  ['k=0 means the minimum at once: 4·3·200', 1000, 200, 4, 6, 0, 0, 2_400],
  ['maxMult 1 collapses to the minimum', 10, 500, 3, 1, 0, 2, 1_500],
];

describe('suspicionTimeoutMs', () => {
  it.each(rows)('%s', (_label, nodes, probeIntervalMs, suspicionMult, maxMult, c, k, expected) => {
    expect(
      suspicionTimeoutMs({
        nodes,
        probeIntervalMs,
        suspicionMult,
        suspicionMaxTimeoutMult: maxMult,
        confirmations: c,
        confirmationsExpected: k,
      }),
    ).toBe(expected);
  });

  it('never increases as confirmations arrive', () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let c = 0; c <= 6; c++) {
      const t = suspicionTimeoutMs({
        nodes: 32,
        probeIntervalMs: 1000,
        suspicionMult: 4,
        suspicionMaxTimeoutMult: 6,
        confirmations: c,
        confirmationsExpected: 4,
      });
      expect(t).toBeLessThanOrEqual(previous);
      previous = t;
    }
  });
});

describe('helpers', () => {
  it('nodeScale is max(1, log10 n)', () => {
    expect(nodeScale(0)).toBe(1);
    expect(nodeScale(5)).toBe(1);
    expect(nodeScale(1000)).toBeCloseTo(3, 12);
  });
  it('min timeout', () => {
    expect(suspicionTimeoutMsMin(100, 1000, 4)).toBe(8000);
  });
  it.each([
    [16, 4, 2],
    [4, 4, 2],
    [3, 4, 0],
    [16, 5, 3],
    [16, 2, 0],
  ])('confirmationsExpected(n=%i, mult=%i) = %i', (n, mult, k) => {
    expect(confirmationsExpected(n, mult)).toBe(k);
  });
});
