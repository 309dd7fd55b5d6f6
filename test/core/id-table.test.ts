import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../src/core/id-table.js';

/** Adds ids in increasing order and deletes some, as request and timer tables do. */
type Step = { readonly kind: 'add' } | { readonly kind: 'delete'; readonly pick: number };

const steps = fc.array(
  fc.oneof(
    fc.constant<Step>({ kind: 'add' }),
    fc.nat({ max: 1_000 }).map<Step>((pick) => ({ kind: 'delete', pick })),
  ),
  { maxLength: 400 },
);

describe('IdTable', () => {
  it('holds what a Map would, through the ring and its overflow (property, 4 slots)', () => {
    fc.assert(
      fc.property(steps, fc.nat({ max: 2 ** 40 }), (plan, firstId) => {
        const table = new IdTable<string>(4);
        const reference = new Map<number, string>();
        let next = firstId;
        for (const step of plan) {
          if (step.kind === 'add') {
            table.set(next, `v${next}`);
            reference.set(next, `v${next}`);
            next++;
          } else {
            // Any id issued so far, live or not: deleting an absent one changes nothing.
            const id = firstId + (next > firstId ? step.pick % (next - firstId) : 0);
            expect(table.delete(id)).toBe(reference.delete(id));
          }
          expect(table.size).toBe(reference.size);
        }
        for (let id = firstId; id < next; id++) {
          expect(table.get(id)).toBe(reference.get(id));
          expect(table.has(id)).toBe(reference.has(id));
        }
        expect(table.list().sort()).toEqual([...reference.values()].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an id added twice, a negative id and a slot count not a power of two', () => {
    const table = new IdTable<number>(8);
    table.set(3, 1);
    expect(() => table.set(3, 2)).toThrow(/added once/);
    expect(() => table.set(-1, 2)).toThrow(/non-negative/);
    expect(() => new IdTable(6)).toThrow(/power of two/);
  });

  it('clear empties the ring and the overflow', () => {
    const table = new IdTable<number>(2);
    for (let id = 0; id < 5; id++) table.set(id, id); // 0 and 1 in the ring, the rest overflow
    expect(table.size).toBe(5);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.list()).toEqual([]);
    expect(table.get(4)).toBeUndefined();
  });
});
