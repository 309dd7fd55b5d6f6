import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/bench/histogram.js';
import type { MatrixResult } from '../../src/bench/matrix.js';
import type { FaultScenario, RunResult } from '../../src/bench/matrix-run.js';
import {
  parseMatrixResult,
  parseStalenessReports,
  ReportInputError,
  renderHtmlReport,
  type StalenessReport,
} from '../../src/bench/report-html.js';

function summary(scaleMs: number) {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 500; i++) h.record(scaleMs * (1 + (i % 50) / 10));
  return h.summary();
}

function run(r: number, w: number, scenario: FaultScenario = 'none'): RunResult {
  return {
    r,
    w,
    scenario,
    killed: scenario === 'none' ? [] : ['n1'],
    killAtMs: scenario === 'none' ? null : 1000,
    preloaded: 1000,
    preloadMs: 300,
    preloadErrors: 0,
    elapsedMs: 2000,
    ops: { attempted: 1000, succeeded: 990, failed: 10 },
    throughput: 400 + 100 * r + 10 * w,
    latency: { read: summary(r), update: summary(w), all: summary((r + w) / 2) },
    staleReads: { checked: 500, stale: r + w > 3 ? 0 : 5, rate: r + w > 3 ? 0 : 0.01 },
    siblingReads: 3,
    contextReads: 100,
    errors: { quorum: 10, timeout: 0, overload: 0, siblingLimit: 0, unavailable: 0, other: 0 },
    errorSamples: ['quorum: <script>alert(1)</script>'],
    availability: 0.99,
    availabilityAfterFault: scenario === 'none' ? null : 0.98,
  };
}

const matrix: MatrixResult = {
  kind: 'ringkv-bench-matrix',
  version: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:00.000Z',
  host: { node: 'v20.0.0', cpus: 2, platform: 'linux' },
  nodes: 5,
  n: 3,
  workload: { name: 'a', title: 'A: update heavy', readProportion: 0.5 },
  keyChoice: { distribution: 'zipfian', theta: 0.99, keys: 1000 },
  valueSizeBytes: 1024,
  durationMs: 2000,
  warmupMs: 1000,
  concurrency: 16,
  seed: 1,
  requestTimeoutMs: 2000,
  retryAttemptsMax: 3,
  network: {
    profile: 'bench/profiles/lan & <co>.json',
    profileDescription: null,
    classes: ['w  replica-put  exp(mean 1ms)'],
    mode: 'per-class',
    delayMs: 0,
    note: 'per-message-class delays',
  },
  runs: [run(1, 1), run(1, 1, 'kill-1'), run(1, 1, 'kill-2'), run(2, 2), run(3, 1)],
};

const staleness: StalenessReport = {
  n: 3,
  r: 1,
  w: 1,
  mode: 'sim',
  trials: 100_000,
  consistency: [
    { t: 0, p: 0.71 },
    { t: 1, p: 0.9 },
    { t: 5, p: 0.995 },
    { t: 10, p: 0.9995 },
  ],
  t999: 7.5,
  latency: { read: { p50: 1, p99: 4, p999: 9 }, write: { p50: 2, p99: 8, p999: 20 } },
  kStaleness: [
    { k: 1, p: 0.33 },
    { k: 2, p: 0.11 },
  ],
};

/** The document is standalone: no external scripts, styles, images, fonts or frames. */
function expectStandalone(html: string): void {
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect(html).toContain('</html>');
  expect(html).not.toMatch(/https?:\/\//i);
  expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
  expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
  expect(html).not.toMatch(/@import|url\(/i);
  // Tags balance for the elements the report emits.
  for (const tag of ['svg', 'table', 'section', 'script', 'style']) {
    const open = html.match(new RegExp(`<${tag}[\\s>]`, 'g'))?.length ?? 0;
    expect(html.match(new RegExp(`</${tag}>`, 'g'))?.length ?? 0).toBe(open);
  }
}

describe('renderHtmlReport', () => {
  it('renders a matrix result with its charts', () => {
    const html = renderHtmlReport({ matrix });
    expectStandalone(html);
    // Throughput, latency vs staleness, read and update CDFs, availability.
    expect(html.match(/<svg[\s>]/g)?.length).toBe(5);
    expect(html).toContain('Latency vs stale reads');
    expect(html).toContain('Read latency CDF');
    expect(html).toContain('Availability after the kill');
    expect(html).toContain('R2 W2');
    // User-controlled text is escaped.
    expect(html).toContain('lan &amp; &lt;co&gt;.json');
    expect(html).not.toContain('<co>');
    expect(html).not.toContain('<script>alert');
  });

  it('renders staleness results, alone or next to a matrix', () => {
    const alone = renderHtmlReport({ staleness });
    expectStandalone(alone);
    expect(alone.match(/<svg[\s>]/g)?.length).toBe(1);
    expect(alone).toContain('P(consistent read)');
    expect(alone).toContain('N3 R1 W1 (sim)');
    expect(alone).toContain('<th>k=2</th>');
    expect(alone).toContain('<td>11%</td>');
    const both = renderHtmlReport({
      matrix,
      staleness: [staleness, { ...staleness, r: 2, w: 2, profile: { name: 'disk' } }],
    });
    expectStandalone(both);
    expect(both.match(/<svg[\s>]/g)?.length).toBe(6);
    expect(both).toContain('N3 R2 W2 disk (sim)');
  });

  it('says so when given nothing', () => {
    const html = renderHtmlReport({});
    expectStandalone(html);
    expect(html).toContain('No results were given');
  });
});

describe('report input parsing', () => {
  it('accepts one staleness result, an array, or { results }', () => {
    expect(parseStalenessReports(staleness)).toHaveLength(1);
    expect(parseStalenessReports([staleness, staleness])).toHaveLength(2);
    expect(parseStalenessReports({ results: [staleness] })).toHaveLength(1);
  });

  it('rejects malformed input with a message naming the field', () => {
    expect(() => parseStalenessReports({ n: 3, r: 1, w: 1 })).toThrow(/consistency/);
    expect(() => parseStalenessReports({ ...staleness, consistency: [{ t: 'x', p: 1 }] })).toThrow(
      ReportInputError,
    );
    expect(() => parseStalenessReports([{ ...staleness, n: '3' }])).toThrow(/staleness\[0\]\.n/);
    expect(() => parseMatrixResult({ runs: [] })).toThrow(/matrix result/);
    expect(parseMatrixResult(JSON.parse(JSON.stringify(matrix))).runs).toHaveLength(5);
  });
});
