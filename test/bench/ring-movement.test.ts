import { describe, expect, it } from 'vitest';
import { ringMovement } from '../../src/bench/ring-movement.js';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5'].map(nodeId);
const keys = Array.from({ length: 5000 }, (_, i) => `key-${i}`);

describe('ringMovement', () => {
  it('an unchanged ring moves nothing', () => {
    const ring = Ring.create(ids, 256);
    expect(ringMovement(ring, ring, keys, 3)).toEqual({
      keys: 5000,
      preferenceChanged: 0,
      primaryChanged: 0,
    });
  });

  it('a join moves about 1/6 of the primaries and only lists that gained the new node', () => {
    const before = Ring.create(ids, 256);
    const after = before.withNode(nodeId('n6'));
    const moved = ringMovement(before, after, keys, 3);
    expect(moved.primaryChanged).toBeGreaterThan(0.1);
    expect(moved.primaryChanged).toBeLessThan(0.25);
    // Every changed list gained n6: count them directly as a reference.
    const reference = keys.filter((key) => after.preferenceList(key, 3).includes(nodeId('n6')));
    expect(moved.preferenceChanged).toBeCloseTo(reference.length / keys.length, 10);
  });
});
