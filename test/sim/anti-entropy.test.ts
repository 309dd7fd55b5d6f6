/**
 * Merkle anti-entropy in the simulator: replicas converge without any read.
 */
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/types.js';
import { check } from '../../src/sim/checker.js';
import type { OpHandle } from '../../src/sim/client.js';
import { simOptions } from '../../src/sim/defaults.js';
import { Simulator } from '../../src/sim/simulator.js';
import { runSeed } from '../../src/sim/swarm.js';
import { Prng } from '../../src/util/prng.js';

function finish(s: Simulator, handle: OpHandle): void {
  expect(s.runUntil(() => handle.op.outcome !== 'pending', 20_000)).toBe(true);
}

function replicaDots(s: Simulator, key: string): string[] {
  const data = s.dataSnapshot();
  return s.ring.preferenceList(key, s.options.n).map((node) =>
    JSON.stringify(
      data
        .get(node)
        ?.get(key)
        ?.siblings.map((x) => x.dot) ?? null,
    ),
  );
}

describe('anti-entropy in the simulator', () => {
  it('a node that missed writes while partitioned, its hints lost in a crash, converges by anti-entropy alone', () => {
    const s = new Simulator(simOptions({ w: 2 }), new Prng(4242));
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    const victim = s.ids[0]!;
    s.network.isolate(victim); // partitioned: the others only see timeouts, then suspect it
    const client = s.client('c1');
    for (const key of keys) finish(s, client.put(key, { w: 2 }));
    // Every node holding hints crashes and comes back with its disk wiped: the hints are gone.
    const holders = s.ids.filter((id) => (s.node(id).nodeCore?.stats().hintsPending ?? 0) > 0);
    for (const id of holders) {
      s.crash(id);
      s.restart(id, { wipe: true });
    }
    s.heal();
    const victimKeys = keys.filter((k) =>
      s.ring.preferenceList(k, s.options.n).includes(victim as NodeId),
    );
    expect(victimKeys.some((k) => !s.dataSnapshot().get(victim)?.has(k))).toBe(true);
    s.runFor(60_000); // no client reads at all from here on
    for (const key of keys) expect(new Set(replicaDots(s, key)).size).toBe(1);
    const repaired = s.ids.reduce(
      (sum, id) => sum + (s.node(id).nodeCore?.stats().aeKeysRepaired ?? 0),
      0,
    );
    expect(repaired).toBeGreaterThan(0);
    expect(
      check({
        writes: s.history.writes(),
        data: s.dataSnapshot(),
        ring: s.ring,
        n: s.options.n,
        reaped: s.history.reaped(),
      }),
    ).toEqual([]);
  });

  it('swarm runs converge in the liveness phase with no read probes (anti-entropy only)', () => {
    const failures: string[] = [];
    for (let seed = 8001; seed <= 8060; seed++) {
      const report = runSeed(seed, { livenessProbes: false, membership: 'off', gossip: false });
      for (const v of report.violations) failures.push(`seed ${seed}: [${v.rule}] ${v.message}`);
    }
    expect(failures).toEqual([]);
  });
});
