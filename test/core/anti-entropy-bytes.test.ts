/**
 * Anti-entropy pushes are bounded in value bytes (batchBytesMax), not only in keys: a push of
 * large values must never exceed what a transport frame carries. What does not fit still
 * differs, so later exchanges repair it.
 */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/effects.js';
import { type NodeId, nodeId } from '../../src/core/types.js';
import { TestNet } from './harness.js';

const LIMITS = { antiEntropyIntervalMs: 100, batchBytesMax: 1_000 };

describe('anti-entropy with large values', () => {
  it('pushes at most batchBytesMax of values per message and still converges', () => {
    const net = new TestNet(3, 3, 8);
    const n1 = nodeId('n1');
    // Five keys with 2 kB values that only n1 holds (written to its disk behind the protocol).
    const value = new Uint8Array(2_000);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    net.stores.get(n1)!.apply(
      keys.map((key, i) => ({
        ns: 'data' as const,
        key,
        record: { siblings: [{ dot: ['n1.a', i + 1] as [string, number], past: [], value }] },
      })),
    );
    // Restarted with the small budget, each node rebuilds its Merkle trees from its disk.
    for (const id of net.ids) net.restart(id, LIMITS);
    const pushed: number[] = [];
    for (const id of net.ids) {
      const core = net.core(id);
      const step = core.step.bind(core);
      core.step = (input) => {
        const effects: Effect[] = step(input);
        for (const e of effects) {
          if (e.kind !== 'send') continue;
          const m = e.message;
          if (m.type === 'ae-push' || m.type === 'ae-push-reply') pushed.push(m.records.length);
        }
        return effects;
      };
    }
    for (const id of net.ids) net.input(id, { kind: 'start' }); // arms the periodic timers
    const holders = (key: string) =>
      net.ids.filter((id: NodeId) => net.stores.get(id)!.get(key) !== undefined).length;
    for (let round = 0; round < 200 && keys.some((k) => holders(k) < 3); round++) {
      net.advance(100, 50);
    }
    expect(keys.map(holders)).toEqual([3, 3, 3, 3, 3]);
    expect(pushed.length).toBeGreaterThan(0);
    expect(Math.max(...pushed)).toBe(1); // one 2 kB record per push under a 1 kB budget
  });
});
