import { describe, expect, it } from 'vitest';
import { GossipSim, roundsToConverge } from '../../src/sim/gossip-sim.js';

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);

function median(xs: number[]): number {
  const sorted = xs.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('gossip membership in the simulator', () => {
  it.each([8, 32, 128])(
    'converges within 2·log2(n) rounds for n = %i (median of 10 seeds)',
    (n) => {
      const goal = Math.ceil(2 * Math.log2(n));
      const rounds = SEEDS.map(
        (seed) => roundsToConverge({ nodes: n, seed }, 10 * goal) ?? Infinity,
      );
      const within = rounds.filter((r) => r <= goal).length;
      console.log(`n=${n} goal ${goal} rounds ${JSON.stringify(rounds)} within ${within}/10`);
      expect(rounds.every(Number.isFinite), `all seeds converge: ${rounds}`).toBe(true);
      expect(median(rounds)).toBeLessThanOrEqual(goal);
      expect(within).toBeGreaterThanOrEqual(8);
    },
  );

  it.each([1, 2, 3])(
    'declares no node dead under 10%% loss over 200 probe intervals (seed %i)',
    (seed) => {
      const sim = new GossipSim({ nodes: 16, seed, lossRate: 0.1 });
      sim.runUntil(200 * sim.config.probeIntervalMs);
      expect(sim.messagesLost).toBeGreaterThan(0);
      expect(sim.falseDeaths(), `seed ${seed}`).toEqual([]);
      expect(sim.converged()).toBe(true);
    },
  );

  it.each([1, 2, 3, 4, 5])(
    'declares a crashed node dead everywhere within a bounded time (seed %i)',
    (seed) => {
      const sim = new GossipSim({ nodes: 16, seed, lossRate: 0.1 });
      sim.runUntil(5_000);
      expect(sim.converged()).toBe(true);
      sim.crash(3);
      const crashedAtMs = sim.nowMs;
      // One full probe cycle to notice, the longest suspicion (lone accuser), then gossip spread.
      const { probeIntervalMs, gossipIntervalMs } = sim.config;
      const boundMs =
        16 * probeIntervalMs + 6 * 4 * Math.log10(16) * probeIntervalMs + 50 * gossipIntervalMs;
      sim.runUntil(crashedAtMs + boundMs, () => sim.crashedDeclaredDead());
      expect(sim.crashedDeclaredDead(), `seed ${seed}`).toBe(true);
      expect(sim.nowMs - crashedAtMs).toBeLessThanOrEqual(boundMs);
      expect(sim.falseDeaths()).toEqual([]);
    },
  );

  it.each([1, 2, 3])('a suspected node that answers again refutes (seed %i)', (seed) => {
    const sim = new GossipSim({ nodes: 16, seed });
    sim.runUntil(5_000);
    const before = sim.members[5]!.record(sim.ids[5]!)!.incarnation;
    sim.isolated.add(5);
    const cutAtMs = sim.nowMs;
    const suspected = () => sim.members.some((_, v) => v !== 5 && sim.statusOf(v, 5) === 'suspect');
    sim.runUntil(cutAtMs + 30_000, suspected);
    expect(suspected(), 'someone suspects the isolated node').toBe(true);
    sim.isolated.delete(5);
    sim.runUntil(sim.nowMs + 20_000);
    const incarnation = sim.members[5]!.record(sim.ids[5]!)!.incarnation;
    expect(incarnation).toBeGreaterThan(before);
    for (let v = 0; v < 16; v++) {
      expect(sim.statusOf(v, 5)).toBe('alive');
      expect(sim.members[v]!.record(sim.ids[5]!)!.incarnation).toBe(incarnation);
    }
    expect(sim.falseDeaths()).toEqual([]);
  });

  it('replays a seed exactly', () => {
    const run = () => {
      const sim = new GossipSim({ nodes: 12, seed: 77, lossRate: 0.1 });
      sim.runUntil(20_000);
      return [sim.prng.draws, sim.messagesSent, JSON.stringify(sim.members[4]!.view())];
    };
    expect(run()).toEqual(run());
  });
});
