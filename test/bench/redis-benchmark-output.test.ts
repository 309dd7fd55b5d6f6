import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRedisBenchmark, stripProgress } from '../../bench/peers/redis-benchmark-output.mjs';

// `redis-benchmark -t set,get -d 1024 -c 50 -n 20000 -r 100000` (7.0.15) against redis-server,
// as captured: progress lines and all.
const SAMPLE = readFileSync(join(import.meta.dirname, 'fixtures/redis-benchmark-7.0.out'), 'utf8');

describe('parseRedisBenchmark', () => {
  it('reads throughput and the latency summary of each test, in order', () => {
    expect(parseRedisBenchmark(SAMPLE)).toEqual([
      {
        test: 'SET',
        rps: 44543.43,
        avg: 0.759,
        min: 0.16,
        p50: 0.663,
        p95: 1.215,
        p99: 4.599,
        max: 9.135,
      },
      {
        test: 'GET',
        rps: 46403.71,
        avg: 0.704,
        min: 0.168,
        p50: 0.671,
        p95: 1.111,
        p99: 1.631,
        max: 7.551,
      },
    ]);
  });

  it('drops the \\r progress lines, keeping what follows them on the same line', () => {
    const text = stripProgress(
      ' \rSET: rps=0.0 (overall: 0.0)\r    \r====== SET ======\n  20000 requests\n',
    );
    expect(text).toBe('====== SET ======\n  20000 requests\n');
    expect(stripProgress(SAMPLE)).not.toContain('rps=');
  });

  it('refuses output without a test section or without a summary', () => {
    expect(() => parseRedisBenchmark('Could not connect to Redis at 127.0.0.1:1\n')).toThrow(
      /no "====== TEST ======" section/,
    );
    const cut = SAMPLE.slice(0, SAMPLE.indexOf('====== GET ======'));
    expect(() => parseRedisBenchmark(`${cut}====== GET ======\n  1 requests\n`)).toThrow(
      /GET has no throughput summary/,
    );
  });

  it('refuses a latency summary whose columns it does not know', () => {
    const changed = SAMPLE.replace('avg       min       p50', 'avg       min       p90');
    expect(() => parseRedisBenchmark(changed)).toThrow(/SET's latency summary/);
  });
});
