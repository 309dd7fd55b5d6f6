/**
 * The report's staleness chart, read back from the rendered SVG: a log t axis when the measured
 * t values span orders of magnitude, a "nines" P axis whose 90 %, 99 %, 99.9 % ticks are equally
 * spaced, markers exactly at the measured points; and the command line, version and machine at
 * the top of the report.
 */
import { describe, expect, it } from 'vitest';
import {
  provenanceNow,
  renderHtmlReport,
  type StalenessReport,
  wantsLogT,
} from '../../src/bench/report-html.js';
import { lineChart, ninesOf } from '../../src/bench/report-svg.js';

function report(consistency: Array<{ t: number; p: number }>): StalenessReport {
  return { n: 3, r: 1, w: 1, mode: 'sim', trials: 100_000, consistency };
}

/** The y of each y-axis tick label (at x = 72, left of the plot; not the reference lines'), by its text. */
function yTicks(svg: string): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const match of svg.matchAll(
    /<text class="tick" x="72" y="([\d.]+)" text-anchor="end">([^<]+)<\/text>/g,
  )) {
    ticks.set(match[2]!, Number(match[1]) - 4);
  }
  return ticks;
}

/** The x-axis tick labels (text-anchor middle), in order. */
function xTicks(svg: string): string[] {
  return [
    ...svg.matchAll(
      /<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]+)<\/text>/g,
    ),
  ].map((m) => m[1]!);
}

function markers(svg: string): Array<{ cx: number; cy: number; title: string }> {
  return [
    ...svg.matchAll(
      /<circle class="marker" cx="([\d.]+)" cy="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g,
    ),
  ].map((m) => ({ cx: Number(m[1]), cy: Number(m[2]), title: m[3]! }));
}

function chartOf(html: string): string {
  const svg = html.match(/<svg class="chart"[\s\S]*?<\/svg>/)?.[0];
  expect(svg).toBeDefined();
  return svg!;
}

const WIDE: Array<{ t: number; p: number }> = [
  { t: 0, p: 0.5 },
  { t: 0.1, p: 0.9 },
  { t: 1, p: 0.99 },
  { t: 10, p: 0.999 },
  { t: 100, p: 0.9999 },
  { t: 1000, p: 1 },
];

describe('staleness chart', () => {
  it('uses a log t axis when t spans orders of magnitude, with a marker per measured t > 0', () => {
    expect(wantsLogT([report(WIDE)])).toBe(true);
    const svg = chartOf(renderHtmlReport({ staleness: report(WIDE) }));
    expect(svg).toContain('log scale; t = 0 in the table');
    expect(xTicks(svg)).toEqual([
      '0.1',
      '0.2',
      '0.5',
      '1',
      '2',
      '5',
      '10',
      '20',
      '50',
      '100',
      '200',
      '500',
      '1000',
    ]);
    const found = markers(svg);
    expect(found).toHaveLength(5); // t = 0 cannot sit on a log axis
    // Equal ratios of t are equal distances.
    const gaps = found.slice(1).map((m, i) => m.cx - found[i]!.cx);
    for (const gap of gaps) expect(gap).toBeCloseTo(gaps[0]!, 0);
    expect(found[2]!.title).toContain('t=1');
  });

  it('keeps a linear t axis (and t = 0) when t spans less than two orders of magnitude', () => {
    const narrow = [
      { t: 0, p: 0.6 },
      { t: 2, p: 0.95 },
      { t: 5, p: 0.995 },
      { t: 20, p: 0.9995 },
    ];
    expect(wantsLogT([report(narrow)])).toBe(false);
    const html = renderHtmlReport({ staleness: report(narrow) });
    const svg = chartOf(html);
    expect(svg).not.toContain('log scale');
    expect(markers(svg)).toHaveLength(4);
    expect(html).toContain('<td>60.000%</td>'); // the "P at t=0" column
  });

  it('draws P on a nines axis: 90 %, 99 %, 99.9 % equally spaced, points on their ticks', () => {
    const svg = chartOf(renderHtmlReport({ staleness: report(WIDE) }));
    const ticks = yTicks(svg);
    const at = ['0%', '90%', '99%', '99.9%', '99.99%'].map((label) => ticks.get(label));
    for (const y of at) expect(y).toBeDefined();
    const steps = at.slice(1).map((y, i) => at[i]! - y!);
    for (const step of steps) expect(step).toBeCloseTo(steps[0]!, 0);
    const found = markers(svg);
    expect(found[0]!.cy).toBeCloseTo(ticks.get('90%')!, 0);
    expect(found[2]!.cy).toBeCloseTo(ticks.get('99.9%')!, 0);
    // P = 1 (no stale read measured) sits in its own "100%" band above the nines ticks.
    expect(found[4]!.cy).toBeCloseTo(ticks.get('100%')!, 0);
    expect(found[4]!.cy).toBeLessThan(ticks.get('99.99%')!);
    expect(found[4]!.title).toContain('no stale read measured');
  });

  it('the nines axis tops out at the data, never beyond NINES_MAX', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      yScale: 'nines',
      series: [{ name: 's', color: '#000', points: [[1, 1 - 1e-9]], markers: true }],
    });
    expect([...yTicks(svg).keys()].at(-1)).toBe('99.9999%');
    expect(ninesOf(0.999)).toBeCloseTo(3, 9);
  });
});

describe('report provenance', () => {
  it('prints the command line (secrets redacted), the version and the machine', () => {
    const provenance = provenanceNow('1.2.3', [
      '/usr/bin/node',
      '/x/bin/ringkv.mjs',
      'bench',
      'matrix',
      '--token',
      's3cret',
      '--password=hunter2',
      '--html',
      'my report.html',
    ]);
    expect(provenance.command).toBe(
      "ringkv bench matrix --token *** --password=*** --html 'my report.html'",
    );
    expect(provenance.machine).toMatch(/\d+ cores, [\d.]+ GiB; \w+ .+; Node v\d+/);
    const html = renderHtmlReport({ staleness: report(WIDE), provenance });
    expect(html).toContain('<dl id="provenance">');
    expect(html).toContain(
      'ringkv bench matrix --token *** --password=*** --html &#39;my report.html&#39;',
    );
    expect(html).toContain('<dt>ringkv</dt><dd><code>1.2.3</code></dd>');
    expect(html).not.toContain('s3cret');
    expect(html).not.toContain('hunter2');
  });

  it('says when the provenance was not recorded', () => {
    expect(renderHtmlReport({ staleness: report(WIDE) })).toContain('not recorded');
  });
});
