/**
 * The worker-thread pools give exactly what the serial runs give for the same seeds: the
 * simulator sweep (every report field but the wall clock) and `bench staleness --mode core`
 * (every figure). Real worker threads, started from sources through the tsx bootstrap.
 */
import { describe, expect, it } from 'vitest';
import type { LatencyProfile } from '../../../src/bench/profile.js';
import {
  CORE_CHUNK_ROUNDS,
  runCoreStaleness,
  runCoreStalenessPooled,
} from '../../../src/bench/staleness-core.js';
import type { RunReport } from '../../../src/sim/swarm.js';
import runSeedTask, { type SeedTask } from '../../../src/sim/sweep-task.js';
import { mapInOrder } from '../../../src/util/task-pool.js';

const SWEEP_TASK = new URL('../../../src/sim/sweep-task.js', import.meta.url);

/** Everything a sweep prints and totals, without the wall time (the one non-seeded figure). */
function seeded(report: RunReport): Omit<RunReport, 'wallMs'> {
  const { wallMs: _wall, ...rest } = report;
  return rest;
}

async function sweep(tasks: SeedTask[], threads: number) {
  const reports: Omit<RunReport, 'wallMs'>[] = [];
  const order: number[] = [];
  await mapInOrder(tasks, {
    taskModule: SWEEP_TASK,
    serial: runSeedTask,
    threads,
    onResult: (report, i) => {
      order.push(i);
      reports.push(seeded(report));
    },
  });
  return { reports, order };
}

describe('task pool', () => {
  it('runs simulator seeds on 2 threads with the serial verdicts and figures, in seed order', async () => {
    const modes = { livenessProbes: true, membership: 'sometimes', gossip: true } as const;
    const tasks = [1, 2, 3, 4, 5].map((seed) => ({ seed, ...modes }));
    const serial = await sweep(tasks, 1);
    const pooled = await sweep(tasks, 2);
    expect(pooled.order).toEqual([0, 1, 2, 3, 4]);
    expect(pooled.reports.map((r) => r.seed)).toEqual([1, 2, 3, 4, 5]);
    expect(pooled.reports).toEqual(serial.reports);
    // Not vacuous: the runs did something, and differ from seed to seed.
    expect(serial.reports[0]!.ops.ok).toBeGreaterThan(0);
    expect(serial.reports[0]!.events).not.toBe(serial.reports[1]!.events);
  }, 120_000);

  it('rejects with the error a job threw, and reports nothing after it', async () => {
    const tasks = [1, -1, 2].map((seed) => ({
      seed,
      livenessProbes: true,
      membership: 'off' as const,
      gossip: true,
    }));
    for (const threads of [1, 2]) {
      const seen: number[] = [];
      await expect(
        mapInOrder(tasks, {
          taskModule: SWEEP_TASK,
          serial: runSeedTask,
          threads,
          onResult: (report) => seen.push(report.seed),
        }),
      ).rejects.toThrow(/seed -1/);
      expect(seen).toEqual([1]);
    }
  }, 120_000);

  it('refuses a pool size out of range', async () => {
    const options = { taskModule: SWEEP_TASK, serial: runSeedTask, onResult: () => {} };
    await expect(mapInOrder([], { ...options, threads: 0 })).rejects.toThrow(/pool threads/);
  });

  it('runs core staleness chunks on 2 threads with the serial figures', async () => {
    const profile: LatencyProfile = {
      w: { exp: { rate: 0.2 } },
      a: { exp: { rate: 1 } },
      r: { exp: { rate: 0.5 } },
      s: { lognormal: { mu: 0, sigma: 0.5 } },
    };
    // Three chunks, the last one short.
    const trialsPerT = 2 * CORE_CHUNK_ROUNDS + 17;
    const options = { n: 3, r: 1, w: 1, profile, tMs: [0, 2, 5], trialsPerT, seed: 11 };
    const serial = runCoreStaleness(options);
    const pooled = await runCoreStalenessPooled(options, 2);
    expect(pooled).toEqual(serial);
    expect(serial.consistency.map((c) => c.trials)).toEqual([trialsPerT, trialsPerT, trialsPerT]);
    expect(serial.consistency[0]!.p).toBeGreaterThan(0);
    expect(serial.consistency[0]!.p).toBeLessThan(1);
    // Another seed gives other figures: the chunks' seeds come from the run's seed.
    const other = runCoreStaleness({ ...options, seed: 12 });
    expect(other.readLatencyMs).not.toEqual(serial.readLatencyMs);
  }, 120_000);
});
