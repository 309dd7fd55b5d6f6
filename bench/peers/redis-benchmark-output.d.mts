/** One test of a redis-benchmark run: its throughput and its latency summary in ms. */
export interface RedisBenchmarkTest {
  /** As redis-benchmark names it: "SET", "GET", … */
  readonly test: string;
  readonly rps: number;
  readonly avg: number;
  readonly min: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** The text without the \r-terminated progress lines redis-benchmark redraws in place. */
export function stripProgress(out: string): string;

/** The tests of one redis-benchmark run (its output without -q), in the order it ran them. */
export function parseRedisBenchmark(out: string): RedisBenchmarkTest[];
