/**
 * Gossip membership and SWIM failure detection inside the simulated nodes (SimOptions.gossip):
 * a partition that nothing announces is detected, the cut-off node is routed around, and after
 * the heal every view comes back to all-alive by refutation; swarm seeds with gossip on keep
 * every safety and liveness rule.
 */
import { describe, expect, it } from 'vitest';
import { nodeId } from '../../src/core/types.js';
import { runSeed } from '../../src/sim/swarm.js';
import { checkAll, finish, sim } from './helpers.js';

function dead(s: ReturnType<typeof sim>): number[] {
  return s.ids.map((id) => s.node(id).nodeCore!.stats().membersDead);
}

describe('gossip membership in the simulator', () => {
  it('detects an unannounced partition, routes around it, and recovers after the heal', () => {
    const s = sim({ nodes: 5, n: 3, gossip: true }, 21);
    const [n1, n2, n3, n4, n5] = ['n1', 'n2', 'n3', 'n4', 'n5'].map(nodeId) as [
      ReturnType<typeof nodeId>,
      ReturnType<typeof nodeId>,
      ReturnType<typeof nodeId>,
      ReturnType<typeof nodeId>,
      ReturnType<typeof nodeId>,
    ];
    s.runFor(5_000);
    expect(dead(s)).toEqual([0, 0, 0, 0, 0]);
    s.network.partition([[n1, n2, n3, n4], [n5]]);
    s.runFor(40_000);
    expect(dead(s)).toEqual([1, 1, 1, 1, 4]);
    // Writes for keys n5 replicates, coordinated on the majority side, go to stand-ins at once.
    const client = s.client('c');
    client.preferNode = n1;
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`).filter((k) =>
      s.ring.preferenceList(k, 3).includes(n5),
    );
    expect(keys.length).toBeGreaterThan(5);
    for (const key of keys) {
      const handle = client.put(key, { w: 3 });
      expect(finish(s, handle)).toMatchObject({ ok: true, sloppy: true });
      expect(handle.op.attempts).toBe(1); // no timeout on n5 first: gossip had declared it dead
    }
    s.network.heal();
    s.runFor(20_000);
    expect(dead(s)).toEqual([0, 0, 0, 0, 0]);
    expect(checkAll(s)).toEqual([]);
  });

  it('swarm seeds with gossip on (and membership changes) find no violation', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const report = runSeed(seed, { gossip: true, membership: 'sometimes' });
      expect(report.violations, `seed ${seed}`).toEqual([]);
    }
  });
});
