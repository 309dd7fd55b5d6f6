import { describe, expect, it } from 'vitest';
import {
  bucketBounds,
  DecayingHistogram,
  LATENCY_PENDING_IDS,
  LatencyMeter,
  quantileOf,
} from '../../src/core/latency-meter.js';

/** A bucket's upper edge is within 2 % (and 0.01 ms) of the value recorded. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.021 * expected + 0.011);
}

function meterAt(start = 1_000) {
  const clock = { now: start };
  const meter = new LatencyMeter(() => clock.now, 10_000);
  return { clock, meter };
}

describe('DecayingHistogram', () => {
  it.each([0.005, 0.5, 3, 7.7, 250, 59_000])(
    'puts %d ms in a bucket that holds it, within 2 %%',
    (ms) => {
      const h = new DecayingHistogram();
      h.record(ms);
      const snapshot = h.snapshot();
      expect(snapshot.buckets).toHaveLength(1);
      const [low, high] = bucketBounds(snapshot.minMs, snapshot.growth, snapshot.buckets[0]![0]);
      expect(ms).toBeGreaterThanOrEqual(low);
      expect(ms).toBeLessThanOrEqual(high * (1 + 1e-9));
      if (ms > snapshot.minMs) expect(high / low).toBeCloseTo(snapshot.growth, 9);
    },
  );

  it('halves on decay, keeps the sample count, and drops counts that vanish', () => {
    const h = new DecayingHistogram();
    for (let i = 0; i < 8; i++) h.record(5);
    h.decay(0.5);
    expect(h.snapshot().weight).toBe(4);
    expect(h.snapshot().samples).toBe(8);
    h.decay(1e-9);
    expect(h.snapshot().buckets).toEqual([]);
    expect(h.snapshot().weight).toBe(0);
  });

  it('answers quantiles from the buckets', () => {
    const h = new DecayingHistogram();
    for (let i = 1; i <= 100; i++) h.record(i);
    const snapshot = h.snapshot();
    expect(quantileOf(snapshot, 0.5)).toBeGreaterThanOrEqual(50);
    expect(quantileOf(snapshot, 0.5)).toBeLessThanOrEqual(51.1);
    expect(quantileOf(snapshot, 0.99)).toBeLessThanOrEqual(101);
    expect(quantileOf(new DecayingHistogram().snapshot(), 0.5)).toBeNaN();
  });
});

describe('LatencyMeter', () => {
  it('splits a round trip at the replica stamp: w and a, r and s', () => {
    const { clock, meter } = meterAt();
    meter.sentOp(1, 'put');
    meter.sentOp(2, 'get');
    clock.now += 10;
    meter.answered(1, 'put', 1_003); // reached the replica 3 ms after the send: a = 7
    meter.answered(2, 'get', 1_006);
    const s = meter.snapshot();
    expectNear(quantileOf(s.w, 1), 3);
    expectNear(quantileOf(s.a, 1), 7);
    expectNear(quantileOf(s.r, 1), 6);
    expectNear(quantileOf(s.s, 1), 4);
  });

  it.each([
    ['a stamp before the send (skew)', 990, 0, 10],
    ['a stamp after the answer (skew)', 1_050, 10, 0],
    ['no stamp (an older peer)', undefined, 5, 5],
  ])('clamps or halves: %s', (_name, stamp, w, a) => {
    const { clock, meter } = meterAt();
    meter.sentOp(7, 'put');
    clock.now += 10;
    meter.answered(7, 'put', stamp);
    const s = meter.snapshot();
    expect(quantileOf(s.w, 1)).toBeCloseTo(Math.max(w, 0.01), 1);
    expect(quantileOf(s.a, 1)).toBeCloseTo(Math.max(a, 0.01), 1);
  });

  it('measures late answers too, and ignores unknown or mismatched operations', () => {
    const { clock, meter } = meterAt();
    meter.sentOp(1, 'get');
    clock.now += 4;
    meter.answered(1, 'get', 1_002);
    clock.now += 20;
    meter.answered(1, 'get', 1_010); // the slow replica, after the quorum was met
    meter.answered(1, 'put', 1_010);
    meter.answered(99, 'get', 1_010);
    const s = meter.snapshot();
    expect(s.r.samples).toBe(2);
    expect(s.w.samples).toBe(0);
  });

  it('forgets the oldest send times beyond its bound', () => {
    const { clock, meter } = meterAt();
    for (let op = 1; op <= LATENCY_PENDING_IDS + 1; op++) meter.sentOp(op, 'get');
    clock.now += 1;
    meter.answered(1, 'get', undefined);
    meter.answered(2, 'get', undefined);
    expect(meter.snapshot().r.samples).toBe(1);
  });

  it('halves every count once per half-life elapsed, on tick', () => {
    const { clock, meter } = meterAt();
    for (let op = 1; op <= 8; op++) {
      meter.sentOp(op, 'put');
      meter.answered(op, 'put', clock.now);
    }
    meter.tick();
    expect(meter.snapshot().w.weight).toBe(8);
    clock.now += 25_000; // two half-lives
    meter.tick();
    expect(meter.snapshot().w.weight).toBe(2);
    expect(meter.snapshot().w.samples).toBe(8);
  });
});
