/**
 * The process runtime's request-lane counters in /metrics (server/monitor/lane-metrics.ts): one
 * series per counter with a `node` label, the close reasons as a second label, read afresh from
 * the source at each scrape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LaneCounters } from '../../../src/client/lane-counters.js';
import { createHttpServer } from '../../../src/server/http.js';
import { FakeCluster, listen, stop } from './monitor-fakes.js';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ringkv_lane_* in GET /metrics', () => {
  const n1 = new LaneCounters('n1');
  const n2 = new LaneCounters('n2');
  let nodes: LaneCounters[] = [n1];
  const server = createHttpServer(new FakeCluster(), {
    bodySizeMaxBytes: 1024,
    requestTimeoutMs: 5_000,
    log: () => {},
    lanes: { laneStats: () => nodes.map((counters) => counters.snapshot()) },
  });
  let base = '';
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    base = await listen(server);
  });
  afterAll(() => stop(server));

  it('exports every counter per node with HELP and TYPE, as it is at each scrape', async () => {
    const types: Array<[string, string]> = [
      ['ringkv_lane_opened_total', 'counter'],
      ['ringkv_lane_closed_total', 'counter'],
      ['ringkv_lane_requests_total', 'counter'],
      ['ringkv_lane_answers_total', 'counter'],
      ['ringkv_lane_calls_down_total', 'counter'],
      ['ringkv_lane_calls_refused_total', 'counter'],
      ['ringkv_lane_frames_written_total', 'counter'],
      ['ringkv_lane_frames_read_total', 'counter'],
      ['ringkv_lane_in_flight', 'gauge'],
    ];
    const first = await scrape();
    for (const [name, type] of types) {
      expect(first).toContain(`# TYPE ${name} ${type}`);
      expect(first).toMatch(new RegExp(`# HELP ${name} \\S`));
    }
    expect(sample(first, 'ringkv_lane_requests_total{node="n1"}')).toBe(0);

    Object.assign(n1, { opened: 2, sent: 40, answered: 37, down: 3, refused: 5 });
    Object.assign(n1, { framesWritten: 4, framesRead: 9 });
    n1.attach({ size: 7 }); // a live lane with 7 calls waiting
    n1.closed.peer = 1;
    n2.sent = 6;
    nodes = [n1, n2];
    const text = await scrape();
    const expected: Array<[string, number]> = [
      ['ringkv_lane_opened_total{node="n1"}', 2],
      ['ringkv_lane_closed_total{node="n1",reason="peer"}', 1],
      ['ringkv_lane_closed_total{node="n1",reason="malformed"}', 0],
      ['ringkv_lane_requests_total{node="n1"}', 40],
      ['ringkv_lane_answers_total{node="n1"}', 37],
      ['ringkv_lane_calls_down_total{node="n1"}', 3],
      ['ringkv_lane_calls_refused_total{node="n1"}', 5],
      ['ringkv_lane_frames_written_total{node="n1"}', 4],
      ['ringkv_lane_frames_read_total{node="n1"}', 9],
      ['ringkv_lane_in_flight{node="n1"}', 7],
      ['ringkv_lane_requests_total{node="n2"}', 6],
      ['ringkv_lane_in_flight{node="n2"}', 0],
    ];
    for (const [series, value] of expected) expect(sample(text, series), series).toBe(value);

    // A node no longer reported (gone from the source) leaves no stale series.
    nodes = [n2];
    const later = await scrape();
    expect(later).not.toMatch(/^ringkv_lane_\S*node="n1"/m);
    expect(sample(later, 'ringkv_lane_requests_total{node="n2"}')).toBe(6);
  });
});
