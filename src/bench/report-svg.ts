/**
 * Small inline-SVG charts for the offline HTML report (report-html.ts): line charts (linear or
 * log x axis; linear or "nines" y axis), a scatter of segments, and grouped bars. Plain strings, no dependencies, no
 * external references; every text is escaped. Series carry a `data-series` attribute so the
 * report's script can toggle them from the legend.
 */

export const PALETTE = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#d55e00',
  '#cc79a7',
  '#56b4e9',
  '#7f7f7f',
  '#f0e442',
  '#000000',
] as const;

export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export function esc(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { top: 36, right: 150, bottom: 48, left: 78 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

interface Axis {
  readonly map: (v: number) => number;
  readonly ticks: readonly number[];
  readonly format: (v: number) => string;
}

/** A compact number: 0.5, 12, 1.2k, 3M. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** About `count` round ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

function linearAxis(lo: number, hi: number, from: number, to: number, fmt = formatTick): Axis {
  const span = hi > lo ? hi - lo : 1;
  return {
    map: (v) => from + ((v - lo) / span) * (to - from),
    ticks: niceTicks(lo, hi),
    format: fmt,
  };
}

function logAxis(lo: number, hi: number, from: number, to: number): Axis {
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi > lo ? hi : lo * 10);
  const ticks: number[] = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return {
    map: (v) => from + ((Math.log10(Math.max(v, lo)) - l0) / (l1 - l0)) * (to - from),
    ticks,
    format: formatTick,
  };
}

/** -log10(1 - p): 90 % → 1, 99 % → 2, 99.9 % → 3. Infinite at p = 1. */
export function ninesOf(p: number): number {
  return -Math.log10(1 - p);
}

/**
 * A "nines" axis for probabilities close to 1: equal steps for 90 %, 99 %, 99.9 %, …, so
 * 99.9 % and 99.99 % are as far apart as 90 % and 99 %, from 0 % (0 nines) to `topNines`.
 * With `withOne`, a band above it holds P = 1 (no miss measured), ticked "100%": such a point
 * is not drawn as if it had measured some finite number of nines.
 */
function ninesAxis(topNines: number, withOne: boolean, from: number, to: number): Axis {
  const ticks: number[] = [];
  for (let k = 0; k <= topNines; k++) ticks.push(1 - 10 ** -k);
  if (withOne) ticks.push(1);
  const span = topNines + (withOne ? ONE_BAND_NINES : 0);
  return {
    map: (p) => {
      const nines =
        p >= 1 && withOne ? span : Math.min(topNines, Math.max(0, ninesOf(Math.max(0, p))));
      return from + (nines / span) * (to - from);
    },
    ticks,
    format: (p) =>
      p >= 1
        ? '100%'
        : `${Number((p * 100).toPrecision(Math.max(2, Math.round(ninesOf(p)) + 1)))}%`,
  };
}

/** Height of the "100%" band above the highest nines tick, in nines. */
const ONE_BAND_NINES = 0.6;

/** Nines shown at most on a nines axis (99.9999 %): past it, points sit on the top edge. */
export const NINES_MAX = 6;

/** Rounds an SVG coordinate to 0.1 px to keep files small. */
const px = (v: number) => Math.round(v * 10) / 10;

function frame(title: string, body: string, xLabel: string, yLabel: string): string {
  const cx = MARGIN.left + PLOT_W / 2;
  const cy = MARGIN.top + PLOT_H / 2;
  return (
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${esc(title)}">` +
    `<text class="title" x="${MARGIN.left}" y="20">${esc(title)}</text>` +
    body +
    `<text class="label" x="${cx}" y="${HEIGHT - 8}" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text class="label" transform="translate(16 ${cy}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>` +
    '</svg>'
  );
}

function axes(x: Axis, y: Axis): string {
  const bottom = MARGIN.top + PLOT_H;
  const right = MARGIN.left + PLOT_W;
  let out = `<g class="grid">`;
  for (const t of y.ticks) {
    const yy = px(y.map(t));
    out += `<line x1="${MARGIN.left}" x2="${right}" y1="${yy}" y2="${yy}"/>`;
    out += `<text class="tick" x="${MARGIN.left - 6}" y="${yy + 4}" text-anchor="end">${esc(y.format(t))}</text>`;
  }
  for (const t of x.ticks) {
    const xx = px(x.map(t));
    out += `<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${bottom}"/>`;
    out += `<text class="tick" x="${xx}" y="${bottom + 16}" text-anchor="middle">${esc(x.format(t))}</text>`;
  }
  out += `</g><rect class="plot" x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}"/>`;
  return out;
}

/** Legend entries longer than this are cut (the full name shows on hover). */
const LEGEND_CHARS_MAX = 20;

function shorten(name: string): string {
  return name.length > LEGEND_CHARS_MAX ? `${name.slice(0, LEGEND_CHARS_MAX - 1)}…` : name;
}

function legend(items: ReadonlyArray<{ name: string; color: string; dashed?: boolean }>): string {
  const x = MARGIN.left + PLOT_W + 14;
  return items
    .map((item, i) => {
      const y = MARGIN.top + 8 + i * 18;
      const dash = item.dashed ? ' stroke-dasharray="5 3"' : '';
      return (
        `<g class="legend" data-series="${esc(item.name)}"><line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${item.color}" stroke-width="3"${dash}/>` +
        `<text x="${x + 24}" y="${y + 4}">${esc(shorten(item.name))}<title>${esc(item.name)}</title></text></g>`
      );
    })
    .join('');
}

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly dashed?: boolean;
  /** Draw a dot at each point, and only there (the measured points). */
  readonly markers?: boolean;
  /** The text of a marker's tooltip after the series name. @default "x, y" */
  readonly markerLabel?: (x: number, y: number) => string;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly xLog?: boolean;
  /** Fixed y range; default: the data's range (from 0 when all are positive). */
  readonly yRange?: readonly [number, number];
  readonly yFormat?: (v: number) => string;
  /** Horizontal reference lines. */
  readonly yRefs?: ReadonlyArray<{ readonly y: number; readonly label: string }>;
  /**
   * `nines`: y values are probabilities, drawn at -log10(1 - p) (ticks 90 %, 99 %, 99.9 %, …)
   * from 0 % up to the data's highest nines below 1 (at least 3, at most NINES_MAX); yRange
   * and yFormat are then ignored. @default 'linear'
   */
  readonly yScale?: 'linear' | 'nines';
}

function extent(values: readonly number[], fallback: readonly [number, number]): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [fallback[0], fallback[1]];
  return [Math.min(...finite), Math.max(...finite)];
}

export function lineChart(o: LineChartOptions): string {
  const pts = o.series.flatMap((s) => s.points);
  const xs = pts.map((p) => p[0]).filter((v) => !o.xLog || v > 0);
  let [x0, x1] = extent(xs, o.xLog ? [0.1, 10] : [0, 1]);
  if (!o.xLog) x0 = Math.min(0, x0);
  if (x1 <= x0) x1 = o.xLog ? x0 * 10 : x0 + 1;
  const x = o.xLog
    ? logAxis(x0, x1, MARGIN.left, MARGIN.left + PLOT_W)
    : linearAxis(x0, x1, MARGIN.left, MARGIN.left + PLOT_W);
  const y = o.yScale === 'nines' ? ninesYAxis(pts) : linearYAxis(o, pts);
  let body = axes(x, y);
  for (const ref of o.yRefs ?? []) {
    const yy = px(y.map(ref.y));
    body += `<line class="ref" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${yy}" y2="${yy}"/>`;
    body += `<text class="tick" x="${MARGIN.left + PLOT_W - 4}" y="${yy - 4}" text-anchor="end">${esc(ref.label)}</text>`;
  }
  for (const s of o.series) {
    const usable = s.points.filter(([px0]) => !o.xLog || px0 > 0);
    const d = usable.map(([a, b], i) => `${i === 0 ? 'M' : 'L'}${px(x.map(a))} ${px(y.map(b))}`);
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    body += `<g class="series" data-series="${esc(s.name)}"><title>${esc(s.name)}</title>`;
    body += `<path d="${d.join('')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`;
    if (s.markers) {
      // One marker per measured point, none anywhere else; smaller when there are many.
      const radius = usable.length > 60 ? 1.8 : 3;
      const label =
        s.markerLabel ?? ((a: number, b: number) => `${formatTick(a)}, ${formatTick(b)}`);
      for (const [a, b] of usable) {
        body += `<circle class="marker" cx="${px(x.map(a))}" cy="${px(y.map(b))}" r="${radius}" fill="${s.color}"><title>${esc(`${s.name}: ${label(a, b)}`)}</title></circle>`;
      }
    }
    body += '</g>';
  }
  body += legend(o.series);
  return frame(o.title, body, o.xLabel, o.yLabel);
}

function linearYAxis(o: LineChartOptions, pts: ReadonlyArray<readonly [number, number]>): Axis {
  const [y0, y1] =
    o.yRange ??
    padRange(
      extent(
        pts.map((p) => p[1]),
        [0, 1],
      ),
    );
  return linearAxis(y0, y1, MARGIN.top + PLOT_H, MARGIN.top, o.yFormat);
}

function ninesYAxis(pts: ReadonlyArray<readonly [number, number]>): Axis {
  const finite = pts.map((p) => ninesOf(p[1])).filter((n) => Number.isFinite(n));
  const top = Math.min(NINES_MAX, Math.max(3, Math.ceil(Math.max(0, ...finite) + 0.25)));
  const withOne = pts.some((p) => p[1] >= 1);
  return ninesAxis(top, withOne, MARGIN.top + PLOT_H, MARGIN.top);
}

function padRange([lo, hi]: [number, number]): [number, number] {
  const base = lo > 0 ? 0 : lo;
  if (hi <= base) return [base, base + 1];
  return [base, hi * 1.08];
}

export interface RangePoint {
  readonly name: string;
  readonly color: string;
  /** A point drawn from xLow (hollow) to xHigh (filled), at height y. */
  readonly xLow: number;
  readonly xHigh: number;
  readonly y: number;
  readonly tooltip: string;
}

export interface RangeScatterOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly RangePoint[];
  readonly yFormat?: (v: number) => string;
  /** The smallest top of the y axis (so an all-zero chart still has a scale). */
  readonly yMin?: number;
}

/** Most rows a point label is lifted by to dodge earlier labels. */
const LABEL_LIFTS_MAX = 6;

/** Lifts a label (in 11 px rows) until it overlaps no label placed before it; records it. */
function labelPosition(
  placed: Array<{ x: number; y: number; w: number }>,
  x: number,
  y: number,
  w: number,
): { x: number; y: number } {
  let lift = 0;
  const clashes = (yy: number) =>
    placed.some((q) => Math.abs(q.y - yy) < 10 && x < q.x + q.w && q.x < x + w);
  while (lift < LABEL_LIFTS_MAX && clashes(y - lift * 11)) lift++;
  const at = { x, y: px(y - lift * 11), w };
  placed.push(at);
  return at;
}

/** A scatter where each point is a segment: e.g. p50 .. p99 latency at one staleness. */
export function rangeScatter(o: RangeScatterOptions): string {
  const xs = o.points.flatMap((p) => [p.xLow, p.xHigh]);
  const [, xMax] = extent(xs, [0, 1]);
  const [, yMax] = extent(
    o.points.map((p) => p.y),
    [0, 1],
  );
  const x = linearAxis(0, xMax > 0 ? xMax * 1.08 : 1, MARGIN.left, MARGIN.left + PLOT_W);
  const yTop = Math.max(yMax * 1.12, o.yMin ?? 0, 1e-9);
  const y = linearAxis(0, yTop, MARGIN.top + PLOT_H, MARGIN.top, o.yFormat);
  let body = axes(x, y);
  const placed: Array<{ x: number; y: number; w: number }> = [];
  for (const p of o.points) {
    const yy = px(y.map(p.y));
    const a = px(x.map(p.xLow));
    const b = px(x.map(p.xHigh));
    body += `<g class="series" data-series="${esc(p.name)}"><title>${esc(p.tooltip)}</title>`;
    body += `<line x1="${a}" x2="${b}" y1="${yy}" y2="${yy}" stroke="${p.color}" stroke-width="2"/>`;
    body += `<circle cx="${a}" cy="${yy}" r="4" fill="#fff" stroke="${p.color}" stroke-width="2"/>`;
    body += `<circle cx="${b}" cy="${yy}" r="5" fill="${p.color}"/>`;
    const label = labelPosition(placed, b + 7, yy - 6, p.name.length * 6);
    body += `<text class="point-label" x="${label.x}" y="${label.y}">${esc(p.name)}</text></g>`;
  }
  body += legend(o.points);
  return frame(o.title, body, o.xLabel, o.yLabel);
}

export interface BarGroup {
  readonly label: string;
  readonly bars: ReadonlyArray<{ readonly series: string; readonly value: number }>;
}

export interface BarChartOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly groups: readonly BarGroup[];
  /** Series names in legend order, with colours. */
  readonly series: ReadonlyArray<{ readonly name: string; readonly color: string }>;
  readonly yRange?: readonly [number, number];
  readonly yFormat?: (v: number) => string;
  readonly valueFormat?: (v: number) => string;
}

export function barChart(o: BarChartOptions): string {
  const values = o.groups.flatMap((g) => g.bars.map((b) => b.value));
  const [lo, hi] = o.yRange ?? padRange([0, Math.max(0, ...values.filter(Number.isFinite))]);
  const y = linearAxis(lo, hi, MARGIN.top + PLOT_H, MARGIN.top, o.yFormat);
  const groupW = PLOT_W / Math.max(1, o.groups.length);
  const barW = Math.max(2, Math.min(36, (groupW * 0.8) / Math.max(1, o.series.length)));
  let body = axes({ map: () => 0, ticks: [], format: formatTick }, y);
  const bottom = MARGIN.top + PLOT_H;
  o.groups.forEach((g, gi) => {
    const left = MARGIN.left + gi * groupW + (groupW - barW * o.series.length) / 2;
    o.series.forEach((s, si) => {
      const bar = g.bars.find((b) => b.series === s.name);
      if (bar === undefined || !Number.isFinite(bar.value)) return;
      const top = px(y.map(Math.min(bar.value, hi)));
      const text = o.valueFormat?.(bar.value) ?? formatTick(bar.value);
      body += `<g class="series" data-series="${esc(s.name)}"><rect x="${px(left + si * barW)}" y="${top}" width="${px(barW - 1)}" height="${px(bottom - top)}" fill="${s.color}"><title>${esc(`${g.label} ${s.name}: ${text}`)}</title></rect></g>`;
    });
    const cx = px(MARGIN.left + gi * groupW + groupW / 2);
    body += `<text class="tick" x="${cx}" y="${bottom + 16}" text-anchor="middle">${esc(g.label)}</text>`;
  });
  body += legend(o.series);
  return frame(o.title, body, '', o.yLabel);
}
