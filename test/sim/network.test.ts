import { describe, expect, it } from 'vitest';
import { type NodeId, nodeId } from '../../src/core/types.js';
import { Network, type NetworkOptions } from '../../src/sim/network.js';
import { Prng } from '../../src/util/prng.js';

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId];
const QUIET: NetworkOptions = {
  lossRate: 0,
  duplicateRate: 0,
  latency: { constant: 3 },
  latencyMsMax: 100,
};

function net(options: Partial<NetworkOptions> = {}, seed = 1): Network {
  return new Network(new Prng(seed), { ...QUIET, ...options });
}

describe('Network', () => {
  it('delivers one copy after the sampled latency on a quiet network', () => {
    expect(net().plan(a, b)).toEqual([3]);
  });

  it('partitions: different groups cannot talk, one group can, unlisted nodes share a group', () => {
    const network = net();
    network.partition([[a, b], [c]]);
    expect(network.plan(a, b)).toEqual([3]);
    expect(network.plan(a, c)).toEqual([]);
    expect(network.plan(c, a)).toEqual([]);
    expect(network.canReach(d, c)).toBe(false);
    expect(network.canReach(d, a)).toBe(false);
    network.partition([[a]]);
    expect(network.canReach(b, d)).toBe(true);
    expect(network.canReach(a, b)).toBe(false);
    expect(network.stats.blocked).toBe(2);
    network.heal();
    expect(network.plan(a, c)).toEqual([3]);
  });

  it('cuts one direction only, until healed', () => {
    const network = net();
    network.cut(a, b);
    expect(network.plan(a, b)).toEqual([]);
    expect(network.plan(b, a)).toEqual([3]);
    expect(network.isPartitioned).toBe(true);
    network.heal();
    expect(network.plan(a, b)).toEqual([3]);
    expect(network.isPartitioned).toBe(false);
  });

  it('loses about lossRate of the messages', () => {
    const network = net({ lossRate: 0.2 });
    let delivered = 0;
    for (let i = 0; i < 10_000; i++) delivered += network.plan(a, b).length;
    expect(Math.abs(delivered / 10_000 - 0.8)).toBeLessThan(0.02);
    expect(network.stats.lost).toBe(10_000 - delivered);
  });

  it('duplicates about duplicateRate of the messages', () => {
    const network = net({ duplicateRate: 0.1 });
    let twice = 0;
    for (let i = 0; i < 10_000; i++) if (network.plan(a, b).length === 2) twice++;
    expect(Math.abs(twice / 10_000 - 0.1)).toBeLessThan(0.015);
    expect(network.stats.duplicated).toBe(twice);
  });

  it('reorders through random latency and clamps the tail', () => {
    const network = net({ latency: { pareto: { xm: 1, alpha: 0.5 } }, latencyMsMax: 50 });
    const delays = Array.from({ length: 1000 }, () => network.plan(a, b)[0]!);
    expect(Math.max(...delays)).toBe(50);
    expect(delays.some((x, i) => i > 0 && x < delays[i - 1]!)).toBe(true);
  });

  it('is deterministic per seed', () => {
    const run = () => {
      const network = net({ lossRate: 0.3, duplicateRate: 0.2, latency: { exp: { rate: 0.2 } } });
      return Array.from({ length: 100 }, () => network.plan(a, b));
    };
    expect(run()).toEqual(run());
  });
});
