import { describe, expect, it } from 'vitest';
import { DecayingHistogram, type WarsLatencies } from '../../../src/core/latency-meter.js';
import { ADVISOR_DEFAULTS, Advisor, adviseFrom } from '../../../src/server/monitor/advisor.js';
import type { SnapshotTaker } from '../../../src/server/monitor/cluster-snapshot.js';

function node(samples: number, ms = 3): WarsLatencies {
  const h = () => {
    const histogram = new DecayingHistogram();
    for (let i = 0; i < samples; i++) histogram.record(ms + (i % 5));
    return histogram.snapshot();
  };
  return { halfLifeMs: 30_000, w: h(), a: h(), r: h(), s: h() };
}

const OPTIONS = { ...ADVISOR_DEFAULTS, trials: 2_000 };

describe('adviseFrom', () => {
  it.each([
    ['no node measured', [], 3, /no node reported/],
    ['too few samples', [node(5), node(5)], 3, /too few recent samples: w \(10\)/],
    ['n = 1', [node(50)], 1, /one copy per key/],
    ['n beyond the model', [node(50)], 17, /models n up to 16/],
  ])('answers no rows, with a reason, when %s', (_name, nodes, n, reason) => {
    const answer = adviseFrom(nodes, { n, r: 1, w: 1, readSpeculateMs: 0 }, OPTIONS, 0);
    expect(answer.rows).toBeNull();
    expect(answer.reason).toMatch(reason);
  });

  it('sums the nodes, marks the configuration in use, and is deterministic', () => {
    const nodes = [node(30), node(30, 8)];
    const answer = adviseFrom(nodes, { n: 3, r: 2, w: 1, readSpeculateMs: 0 }, OPTIONS, 42);
    expect(answer.nodesMeasured).toBe(2);
    expect(answer.classes.w.samples).toBe(60);
    expect(answer.rows).toHaveLength(9);
    expect(answer.rows!.filter((row) => row.inUse).map((row) => [row.r, row.w])).toEqual([[2, 1]]);
    expect(adviseFrom(nodes, { n: 3, r: 2, w: 1, readSpeculateMs: 0 }, OPTIONS, 42)).toEqual(
      answer,
    );
  });
});

describe('Advisor', () => {
  it('computes one answer at a time and serves it from cache for cacheMs', async () => {
    let takes = 0;
    let nowMs = 1_000;
    const snapshots = {
      take: async () => {
        takes++;
        return {
          takenAtMs: nowMs,
          status: { config: { n: 3, r: 2, w: 2 } },
          counters: new Map([['n1', { latency: node(40) }]]),
        };
      },
    } as unknown as SnapshotTaker;
    const advisor = new Advisor(snapshots, { trials: 1_000, cacheMs: 5_000 }, () => nowMs);
    const [a, b] = await Promise.all([advisor.answer(), advisor.answer()]);
    expect(takes).toBe(1);
    expect(b).toBe(a);
    nowMs += 4_999;
    expect(await advisor.answer()).toBe(a);
    expect(takes).toBe(1);
    nowMs += 1;
    const c = await advisor.answer();
    expect(takes).toBe(2);
    expect(c.rows).toEqual(a.rows);
    expect(a.readSpeculateMs).toBe(0); // a status without it: a node before targeted reads
  });

  it("models the cluster's read path: its readSpeculateMs from /status", async () => {
    const answerFor = (config: object) => {
      const snapshots = {
        take: async () => ({
          takenAtMs: 0,
          status: { config },
          counters: new Map([['n1', { latency: node(400, 8) }]]),
        }),
      } as unknown as SnapshotTaker;
      return new Advisor(snapshots, { trials: 2_000, cacheMs: 0 }, () => 0).answer();
    };
    const targeted = await answerFor({ n: 3, r: 1, w: 1, readSpeculateMs: 20 });
    const fanOut = await answerFor({ n: 3, r: 1, w: 1, readSpeculateMs: 0 });
    expect(targeted.readSpeculateMs).toBe(20);
    const p0 = (answer: typeof targeted) =>
      answer.rows!.find((row) => row.r === 1 && row.w === 1)!.consistency[0]![1];
    // R=1 W=1: the targeted read asks the writer (replies of 8..12 ms, well within 20 ms) and
    // is always fresh; asking all three answers with the fastest, often a lagging one.
    expect(p0(targeted)).toBe(1);
    expect(p0(fanOut)).toBeLessThan(0.9);
  });
});
