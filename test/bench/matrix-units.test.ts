import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/bench/histogram.js';
import { DEFAULT_CONFIGS, plannedRuns, runMatrix } from '../../src/bench/matrix.js';
import { networkPlan, uniformDelayMs } from '../../src/bench/matrix-profile.js';
import type { RunResult } from '../../src/bench/matrix-run.js';
import { alignTable, formatMs } from '../../src/bench/matrix-table.js';
import { parseProfile } from '../../src/bench/profile.js';
import { formatBar, ProgressBar } from '../../src/bench/progress.js';
import { parseConfigs } from '../../src/cli/bench-matrix.js';

describe('LatencyHistogram', () => {
  it('answers percentiles within its 1 % precision', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 100); // 0.01 .. 100 ms, uniform
    const s = h.summary();
    expect(s.count).toBe(10_000);
    for (const [got, exact] of [
      [s.p50, 50],
      [s.p95, 95],
      [s.p99, 99],
      [s.p999, 99.9],
    ] as const) {
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.011);
    }
    expect(s.minMs).toBe(0.01);
    expect(s.maxMs).toBe(100);
    expect(s.meanMs).toBeCloseTo(50, 1);
    expect(s.cdf.at(-1)).toEqual([100, 1]);
    // The CDF is monotone.
    for (let i = 1; i < s.cdf.length; i++)
      expect(s.cdf[i]![0]).toBeGreaterThanOrEqual(s.cdf[i - 1]![0]);
  });

  it('merges, clamps out-of-range values and summarises an empty histogram', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(0);
    b.record(1e9);
    a.merge(b);
    expect(a.count).toBe(2);
    expect(a.quantile(1)).toBe(1e9);
    expect(a.quantile(0.5)).toBeLessThanOrEqual(0.001); // below minMs: the first bucket
    const empty = new LatencyHistogram().summary();
    expect(empty.count).toBe(0);
    expect(Number.isNaN(empty.p99)).toBe(true);
    expect(empty.cdf).toEqual([]);
  });
});

describe('matrix planning', () => {
  const options = {
    nodes: 5,
    n: 3,
    configs: DEFAULT_CONFIGS,
    workload: 'a' as const,
    keys: 1000,
    valueSizeBytes: 1024,
    durationMs: 1000,
    concurrency: 4,
    faults: false,
    seed: 1,
    preloadMsMax: 1000,
    warmupMs: 0,
    requestTimeoutMs: 2000,
    retryAttemptsMax: 3,
  };

  it('hands over the result so far after every run, so a stopped matrix keeps what it got', async () => {
    const partials: number[] = [];
    const runOnce = async (plan: { r: number; w: number }) =>
      ({ r: plan.r, w: plan.w }) as unknown as RunResult;
    const result = await runMatrix(
      {
        ...options,
        configs: [
          [1, 1],
          [2, 2],
        ],
      },
      {
        network: networkPlan(null, null),
        runOnce: runOnce as unknown as typeof import('../../src/bench/matrix-run.js').runOnce,
        onRun: async (partial) => {
          partials.push(partial.runs.length);
        },
      },
    );
    expect(partials).toEqual([1, 2]);
    expect(result.runs.map((r) => `${r.r}${r.w}`)).toEqual(['11', '22']);
  });

  it('runs each (R, W) once, or three times with faults', () => {
    expect(plannedRuns(options).map((p) => `${p.r}${p.w}`)).toEqual([
      '11',
      '12',
      '21',
      '22',
      '13',
      '31',
    ]);
    const faulted = plannedRuns({ ...options, faults: true, configs: [[2, 2]] });
    expect(faulted.map((p) => p.scenario)).toEqual(['none', 'kill-1', 'kill-2']);
  });

  it('parses R,W pairs and rejects bad ones', () => {
    expect(parseConfigs(['1,1', ' 3,2 '], 3)).toEqual([
      [1, 1],
      [3, 2],
    ]);
    expect(() => parseConfigs(['1;1'], 3)).toThrow(/not R,W/);
    expect(() => parseConfigs(['4,1'], 3)).toThrow(/1\.\.3/);
    expect(() => parseConfigs(['0,1'], 3)).toThrow(/1\.\.3/);
  });
});

describe('profile injection', () => {
  const profile = parseProfile({
    w: { constant: 2 },
    a: { constant: 4 },
    r: { exp: { rate: 1 } },
    s: { constant: 1 },
  });

  it('falls back to the mean of the class means as one uniform delay', () => {
    expect(uniformDelayMs(profile)).toBe(2);
    expect(() => uniformDelayMs({ ...profile, w: { pareto: { xm: 1, alpha: 1 } } })).toThrow(
      /infinite mean/,
    );
  });

  it('uses per-class delays when the cluster has them, else setNetwork', async () => {
    const calls: string[] = [];
    const plan = networkPlan(profile, 'p.json', 7);
    const withClasses = {
      setMessageDelays: async (d: object, seed?: number) =>
        void calls.push(`classes ${Object.keys(d).length} ${seed}`),
      setNetwork: async () => void calls.push('network'),
    };
    expect((await plan.apply(withClasses as never)).mode).toBe('per-class');
    const without = {
      setNetwork: async (o: { delayMs: number }) => void calls.push(`network ${o.delayMs}`),
    };
    const fallback = await plan.apply(without as never);
    expect(fallback.mode).toBe('uniform-mean');
    expect(fallback.note).toContain('2 ms');
    expect(calls).toEqual(['classes 4 7', 'network 2']);
    expect((await networkPlan(null, null).apply(without as never)).mode).toBe('none');
  });
});

describe('text output', () => {
  it('formats milliseconds and aligns columns', () => {
    expect(formatMs(0.8412)).toBe('0.84');
    expect(formatMs(12.34)).toBe('12.3');
    expect(formatMs(99.97)).toBe('100');
    expect(formatMs(Number.NaN)).toBe('-');
    expect(
      alignTable(
        [
          ['R', 'ops/s'],
          ['1', '12345'],
        ],
        1,
      ),
    ).toBe('R  ops/s\n1  12345');
  });

  it('draws a progress bar only on a terminal, and logs lines everywhere', () => {
    expect(formatBar(0.5, 10)).toBe('[#####.....]  50%');
    const written: string[] = [];
    let now = 0;
    const pipe = new ProgressBar({
      total: 100,
      stream: { write: (t) => written.push(t) },
      now: () => now,
    });
    pipe.update(50, 'half');
    pipe.log('run 1 done');
    pipe.finish();
    expect(written).toEqual(['run 1 done\n']);
    const tty: string[] = [];
    const bar = new ProgressBar({
      total: 100,
      stream: { write: (t) => tty.push(t), isTTY: true },
      now: () => now,
    });
    bar.update(25, 'quarter');
    now += 1000;
    bar.update(50, 'half');
    bar.finish();
    expect(tty.some((t) => t.includes(' 25%') && t.includes('quarter'))).toBe(true);
    expect(tty.some((t) => t.includes(' 50%') && t.includes('half'))).toBe(true);
    expect(tty.at(-1)).toBe('\r\x1b[2K');
  });
});
