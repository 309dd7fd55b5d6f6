import { describe, expect, it } from 'vitest';
import {
  quantileMs,
  type Reading,
  TrafficWindow,
} from '../../../src/server/monitor/traffic-window.js';

const BOUNDS = [0.001, 0.01, 0.1];

/** A reading where every op has the same cumulative counts. */
function reading(cumulative: number[]): Reading {
  return { get: cumulative, put: cumulative, delete: cumulative, all: cumulative };
}

describe('quantileMs', () => {
  it.each([
    { delta: [0, 0, 0, 0], q: 0.99, expected: null },
    { delta: [100, 100, 100, 100], q: 0.99, expected: 0.99 },
    { delta: [0, 100, 100, 100], q: 0.5, expected: 5.5 },
    { delta: [50, 100, 100, 100], q: 0.99, expected: 9.82 },
    { delta: [0, 0, 0, 10], q: 0.99, expected: 100 },
  ])('$delta q=$q → $expected ms', ({ delta, q, expected }) => {
    const got = quantileMs(BOUNDS, delta, q);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(expected, 6);
  });

  it('rejects a delta of the wrong length', () => {
    expect(() => quantileMs(BOUNDS, [1, 2], 0.5)).toThrow();
  });
});

describe('TrafficWindow', () => {
  it('computes ops/s and p99 over the readings in its span', () => {
    const window = new TrafficWindow(BOUNDS, 2_000);
    expect(window.push(0, reading([0, 0, 0, 0])).ops.all).toEqual({ perSec: 0, p99Ms: null });
    const view = window.push(1_000, reading([0, 100, 100, 100]));
    expect(view.windowMs).toBe(1_000);
    expect(view.ops.put.perSec).toBe(100);
    expect(view.ops.put.p99Ms).toBeCloseTo(9.91, 6);
  });

  it('forgets readings older than its span', () => {
    const window = new TrafficWindow(BOUNDS, 1_000);
    window.push(0, reading([0, 0, 0, 0]));
    window.push(1_000, reading([0, 0, 0, 1_000]));
    const view = window.push(2_000, reading([0, 0, 0, 1_000]));
    expect(view.windowMs).toBe(1_000);
    expect(view.ops.get.perSec).toBe(0);
    expect(view.ops.get.p99Ms).toBeNull();
  });

  it('after an idle gap reports no figures rather than an average over the gap', () => {
    const window = new TrafficWindow(BOUNDS, 2_000);
    window.push(0, reading([0, 0, 0, 0]));
    expect(window.push(500, reading([0, 0, 0, 500])).ops.all.perSec).toBe(1_000);
    // Nobody watched for a minute; 600 more requests happened in that minute.
    const first = window.push(60_500, reading([0, 0, 0, 1_100]));
    expect(first.windowMs).toBe(0);
    expect(first.ops.all.perSec).toBe(0);
    // The next tick has a window again, and only what happened inside it.
    const next = window.push(61_000, reading([0, 0, 0, 1_150]));
    expect(next.windowMs).toBe(500);
    expect(next.ops.all.perSec).toBe(100);
  });
});
