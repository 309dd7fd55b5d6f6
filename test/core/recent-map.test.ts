import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentMap } from '../../src/core/recent-map.js';

describe('RecentMap', () => {
  it('holds exactly the keys whose latest set is among the last `capacity` sets (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat({ max: 9 }), { maxLength: 200 }),
        (capacity, keys) => {
          const map = new RecentMap<number, string>(capacity);
          const sets: { key: number; value: string }[] = [];
          keys.forEach((key, i) => {
            map.set(key, `v${i}`);
            sets.push({ key, value: `v${i}` });
            const window = sets.slice(-capacity);
            for (let candidate = 0; candidate <= 9; candidate++) {
              const latest = sets.findLast((s) => s.key === candidate);
              const kept = latest !== undefined && window.includes(latest);
              expect(map.get(candidate)).toBe(kept ? latest.value : undefined);
            }
            expect(map.size).toBe(new Set(window.map((s) => s.key)).size);
          });
        },
      ),
    );
  });

  it('keeps a key set again even when its first set leaves the window', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3); // a's first set (slot 0) is now the one evicted next
    map.set('c', 4); // evicts slot 1: b
    expect(map.get('a')).toBe(3);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('c')).toBe(4);
    expect(map.size).toBe(2);
  });

  it('refuses a capacity below one', () => {
    expect(() => new RecentMap(0)).toThrow(/at least one/);
  });
});
