import { describe, expect, it } from 'vitest';
import {
  type HistoryReading,
  RingBuffer,
  sampleBetween,
} from '../../../src/server/monitor/history.js';
import { LATENCY_BUCKETS_SECONDS } from '../../../src/server/monitor/metrics.js';
import type { Reading } from '../../../src/server/monitor/traffic-window.js';

const SLOTS = LATENCY_BUCKETS_SECONDS.length + 1;

/** A latency reading with `count` requests of `op`, all in the bucket at `index`. */
function latency(
  counts: Partial<Record<'get' | 'put' | 'delete', [index: number, count: number]>>,
): Reading {
  const row = (entry?: [number, number]) => {
    const cumulative = new Array<number>(SLOTS).fill(0);
    if (entry !== undefined) for (let i = entry[0]; i < SLOTS; i++) cumulative[i] = entry[1];
    return cumulative;
  };
  const get = row(counts.get);
  const put = row(counts.put);
  const del = row(counts.delete);
  return { get, put, delete: del, all: get.map((v, i) => v + put[i]! + del[i]!) };
}

function node(coordinated: number, failures = 0, readRepairs = 0, aeKeys = 0, hintsPending = 0) {
  return { coordinated, failures, readRepairs, aeKeys, hintsPending };
}

function reading(atMs: number, parts: Partial<HistoryReading> = {}): HistoryReading {
  return { atMs, latency: latency({}), clientErrors: 0, nodes: new Map(), ...parts };
}

describe('RingBuffer', () => {
  it('keeps the newest `capacity` items, oldest first', () => {
    const buffer = new RingBuffer<number>(3);
    expect(buffer.toArray()).toEqual([]);
    expect(buffer.last()).toBeNull();
    for (let i = 1; i <= 7; i++) buffer.push(i);
    expect(buffer.toArray()).toEqual([5, 6, 7]);
    expect(buffer.size).toBe(3);
    expect(buffer.last()).toBe(7);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new RingBuffer(0)).toThrow();
  });
});

describe('sampleBetween', () => {
  it('turns counter differences into per-second rates, per node and in total', () => {
    const before = reading(1_000, {
      clientErrors: 2,
      nodes: new Map([
        ['n1', node(100, 1, 5, 0, 3)],
        ['n2', node(50)],
      ]),
    });
    const after = reading(3_000, {
      clientErrors: 6,
      nodes: new Map([
        ['n1', node(300, 3, 9, 10, 7)],
        ['n2', node(90)],
      ]),
    });
    const sample = sampleBetween(before, after);
    expect(sample.spanMs).toBe(2_000);
    expect(sample.clientErrorsPerSec).toBe(2);
    expect(sample.nodes.n1).toEqual({
      opsPerSec: 100,
      errorsPerSec: 1,
      hintsPending: 7,
      readRepairsPerSec: 2,
      aeKeysRepairedPerSec: 5,
    });
    expect(sample.total.opsPerSec).toBe(120);
    expect(sample.total.hintsPending).toBe(7);
  });

  it('gives a restarted or down node a gap, never a negative rate', () => {
    const before = reading(0, {
      nodes: new Map([
        ['n1', node(500)],
        ['n2', node(10)],
      ]),
    });
    const after = reading(1_000, {
      nodes: new Map([
        ['n1', node(20)],
        ['n2', null],
      ]),
    });
    const sample = sampleBetween(before, after);
    expect(sample.nodes.n1?.opsPerSec).toBeNull();
    expect(sample.nodes.n2).toMatchObject({ opsPerSec: null, hintsPending: null });
    expect(sample.total.opsPerSec).toBeNull();
  });

  it('computes ops/s and p50/p99 per operation from the latency histograms', () => {
    // 100 gets in the 1..2.5 ms bucket, 10 puts in the 5..10 ms bucket, in one second.
    const before = reading(0, { latency: latency({ get: [2, 50], put: [4, 5] }) });
    const after = reading(1_000, { latency: latency({ get: [2, 150], put: [4, 15] }) });
    const sample = sampleBetween(before, after);
    expect(sample.opsPerSec).toMatchObject({ get: 100, put: 10, delete: 0, all: 110 });
    expect(sample.p50Ms.get).toBeGreaterThan(1);
    expect(sample.p50Ms.get).toBeLessThanOrEqual(2.5);
    expect(sample.p99Ms.put).toBeGreaterThan(5);
    expect(sample.p99Ms.put).toBeLessThanOrEqual(10);
    expect(sample.p99Ms.delete).toBeNull();
  });

  it('refuses a sample of no duration', () => {
    expect(() => sampleBetween(reading(5), reading(5))).toThrow();
  });
});
