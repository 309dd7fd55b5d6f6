/**
 * TTL writes in the swarm: seeds run with TTL puts on every run (`--ttl always`), wall clocks
 * skewed per node (up to ±1 s), crashes, partitions and message loss. The checker's
 * expired-returned rule (a get past a deadline plus the skew returns the value, or a value stays
 * stored live past it at the end) must hold with every other rule.
 */
import { describe, expect, it } from 'vitest';
import { formatReport } from '../../src/sim/report.js';
import { runSeed } from '../../src/sim/swarm.js';
import { clockSkewMs, ttlPrng, withTtl } from '../../src/sim/ttl-plan.js';

const TTL_SEEDS = Array.from({ length: 40 }, (_, i) => 700_001 + i);

describe('swarm with TTL writes and skewed clocks', () => {
  it.each(TTL_SEEDS)('seed %i holds every invariant', (seed) => {
    const report = runSeed(seed, { ttl: 'always', keepHistory: true });
    expect(report.violations.length === 0 ? '' : formatReport(report, true)).toBe('');
    expect(report.scenario.ttl).toBeDefined();
  });

  it('the seeds write with TTLs, skew clocks, and see values expire', () => {
    let ttlPuts = 0;
    let skewed = 0;
    for (const seed of TTL_SEEDS.slice(0, 8)) {
      const report = runSeed(seed, { ttl: 'always', keepHistory: true });
      ttlPuts += (report.history!.match(/ ttl=\d+ /g) ?? []).length;
      if (clockSkewMs(report.scenario.ttl) > 0) skewed++;
    }
    expect(ttlPuts).toBeGreaterThan(100);
    expect(skewed).toBeGreaterThan(0);
  });

  it('a seed without a TTL plan plays out exactly as with TTLs off', () => {
    const seed = TTL_SEEDS.find(
      (s) => withTtl({ sim: { nodes: 3 } } as never, ttlPrng(s), 'sometimes').ttl === undefined,
    )!;
    const off = runSeed(seed, { ttl: 'off', keepHistory: true });
    const sometimes = runSeed(seed, { ttl: 'sometimes', keepHistory: true });
    expect(sometimes.scenario.ttl).toBeUndefined();
    expect(sometimes.history).toBe(off.history);
  });
});
