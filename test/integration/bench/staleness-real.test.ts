/**
 * `--mode real`: a worker-thread cluster with per-message-type delays injected into its
 * transport. Assertions leave generous statistical margins and never time the test itself.
 */
import { describe, expect, it } from 'vitest';
import type { LatencyProfile } from '../../../src/bench/profile.js';
import { runRealStaleness } from '../../../src/bench/staleness-real.js';
import { startCluster, ValidationError } from '../../../src/index.js';

describe('staleness on a real worker-thread cluster', () => {
  it('N=3 R=W=1, writes 20 ms slow: most reads at t = 0 are stale, all at t = 40 are fresh', async () => {
    // The coordinator's own replica has the write at once; the other two only after 20 ms.
    // A read at t = 0 returns the first of three replies, fresh only if it is the
    // coordinator's (about 1 in 3); at t = 40 every replica has had the write for 20 ms.
    const profile: LatencyProfile = {
      w: { constant: 20 },
      a: { constant: 1 },
      r: { exp: { rate: 0.5 } },
      s: { exp: { rate: 0.5 } },
    };
    const run = await runRealStaleness({
      n: 3,
      r: 1,
      w: 1,
      profile,
      tMs: [0, 40],
      trialsPerT: 100,
      seed: 5,
    });
    expect(run.failures).toBe(0);
    expect(run.truncated).toBe(false);
    const [atZero, atForty] = run.consistency;
    expect(atZero!.trials).toBe(100);
    expect(atZero!.p).toBeLessThan(0.6);
    expect(atZero!.p).toBeGreaterThan(0.1);
    expect(atForty!.p).toBeGreaterThanOrEqual(0.97);
    expect(atForty!.tActualMs).toBeGreaterThanOrEqual(40);
  });

  it('R + W > N reads the committed value at t = 0 (no sloppy fallbacks)', async () => {
    const profile: LatencyProfile = {
      w: { exp: { rate: 0.2 } },
      a: { constant: 1 },
      r: { exp: { rate: 0.5 } },
      s: { exp: { rate: 0.5 } },
    };
    const run = await runRealStaleness({
      n: 3,
      r: 2,
      w: 2,
      profile,
      tMs: [0],
      trialsPerT: 50,
      seed: 6,
    });
    expect(run.failures).toBe(0);
    expect(run.consistency[0]!.p).toBe(1);
  });

  it('rejects malformed message delays before changing anything', async () => {
    const db = await startCluster({ nodes: 2, n: 2, r: 1, w: 1 });
    try {
      await expect(db.setMessageDelays({ 'replica-put': { exp: { rate: -1 } } })).rejects.toThrow(
        ValidationError,
      );
      await expect(db.get('k', { coordinator: 'n9' })).rejects.toThrow(/unknown node "n9"/);
      await db.setMessageDelays({ 'replica-put': { constant: 1 } }, 3);
      await db.put('k', 'v', { w: 2 });
      expect((await db.get('k', { coordinator: 'n2' })).strings()).toEqual(['v']);
      await db.setMessageDelays(null);
    } finally {
      await db.close();
    }
  });
});
