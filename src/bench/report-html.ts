/**
 * The offline HTML report of `ringkv bench`: one self-contained file (inline CSS, SVG and a few
 * lines of script; no fonts, images or scripts from anywhere else) that opens from disk.
 *
 * `renderHtmlReport({ matrix, staleness })` takes either or both of
 * - a MatrixResult (`ringkv bench matrix --json`): throughput bars, latency vs stale-read rate
 *   per configuration, read and update latency CDFs, availability under faults, the table;
 * - one or more staleness results (`ringkv bench staleness --json`, shape
 *   `{ n, r, w, consistency: [{ t, p }], t999, latency: { read: { p50, p99, p999 }, write } }`):
 *   P(consistent) against the time since the write committed, and their latency table.
 * Clicking a legend entry hides or shows that series.
 */
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import type { LatencySummary } from './histogram.js';
import type { MatrixResult } from './matrix.js';
import type { RunResult } from './matrix-run.js';
import { formatMs, formatPercent } from './matrix-table.js';
import { barChart, colorAt, esc, lineChart, rangeScatter } from './report-svg.js';

export interface PercentileSet {
  readonly p50?: number;
  readonly p99?: number;
  readonly p999?: number;
}

/** A `ringkv bench staleness` result; fields beyond these are ignored. */
export interface StalenessReport {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly mode?: string;
  readonly trials?: number;
  /** The profile: its name, or an object with a `name` (and its distributions). */
  readonly profile?: string | { readonly name?: unknown };
  readonly consistency: ReadonlyArray<{ readonly t: number; readonly p: number }>;
  readonly t999?: number | null;
  readonly latency?: { readonly read?: PercentileSet; readonly write?: PercentileSet };
  readonly kStaleness?: unknown;
}

/** Where a report came from: printed at its top so a reader can rerun it. */
export interface Provenance {
  /** The command line that wrote the report (secrets redacted), e.g. `ringkv bench matrix …`. */
  readonly command: string;
  /** The ringkv version. */
  readonly version: string;
  /** The machine the report was written on: CPU, cores, memory, OS, Node. */
  readonly machine: string;
}

export interface ReportInput {
  readonly matrix?: MatrixResult;
  readonly staleness?: StalenessReport | readonly StalenessReport[];
  /** @default 'ringkv benchmark report' */
  readonly title?: string;
  /** Command line, version and machine; the report says "not recorded" without it. */
  readonly provenance?: Provenance;
}

/** Flags whose value is never printed (none of the bench commands takes one today). */
const SECRET_FLAGS = /^--?(token|password|secret|key)$/i;

/** The provenance of a report written by this process: its command line, `version`, this machine. */
export function provenanceNow(version: string, argv: readonly string[] = process.argv): Provenance {
  const words = argv.slice(2).map((word, i, all) => {
    const previous = all[i - 1];
    if (previous !== undefined && SECRET_FLAGS.test(previous)) return '***';
    const [flag, value] = word.split('=', 2);
    if (value !== undefined && flag !== undefined && SECRET_FLAGS.test(flag)) return `${flag}=***`;
    return shellQuote(word);
  });
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const gib = (totalmem() / 1024 ** 3).toFixed(1);
  return {
    command: ['ringkv', ...words].join(' '),
    version,
    machine:
      `${cpu}, ${availableParallelism()} cores, ${gib} GiB; ${process.platform} ${release()} ` +
      `${process.arch}; Node ${process.version}`,
  };
}

function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The input is not a result the report understands; the message says what is wrong. */
export class ReportInputError extends Error {
  override name = 'ReportInputError';
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function parseOneStaleness(x: unknown, where: string): StalenessReport {
  if (!isRecord(x)) throw new ReportInputError(`${where} must be an object`);
  for (const field of ['n', 'r', 'w'] as const) {
    if (typeof x[field] !== 'number')
      throw new ReportInputError(`${where}.${field} must be a number`);
  }
  const points = x.consistency;
  if (!Array.isArray(points) || points.length === 0) {
    throw new ReportInputError(`${where}.consistency must be a non-empty array of { t, p }`);
  }
  points.forEach((point: unknown, i) => {
    if (!isRecord(point) || typeof point.t !== 'number' || typeof point.p !== 'number') {
      throw new ReportInputError(`${where}.consistency[${i}] must be { t: number, p: number }`);
    }
  });
  return x as unknown as StalenessReport;
}

/** Validates parsed staleness JSON: one result, an array of them, or `{ results: [...] }`. */
export function parseStalenessReports(json: unknown): StalenessReport[] {
  if (Array.isArray(json)) return json.map((x, i) => parseOneStaleness(x, `staleness[${i}]`));
  if (isRecord(json) && Array.isArray(json.results)) return parseStalenessReports(json.results);
  return [parseOneStaleness(json, 'staleness')];
}

/** Validates parsed matrix JSON (the shape `ringkv bench matrix --json` writes). */
export function parseMatrixResult(json: unknown): MatrixResult {
  if (!isRecord(json) || json.kind !== 'ringkv-bench-matrix' || !Array.isArray(json.runs)) {
    throw new ReportInputError(
      'not a matrix result: expected { "kind": "ringkv-bench-matrix", "runs": [...] }',
    );
  }
  return json as unknown as MatrixResult;
}

const CSS = `
:root{color-scheme:light;--fg:#1d2430;--muted:#5b6472;--line:#d9dee5;--bg:#fff;--band:#f5f7fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0;padding:24px 32px;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
p.meta,.note{color:var(--muted);margin:4px 0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
svg.chart{background:var(--bg);border:1px solid var(--line);border-radius:6px;width:100%;height:auto;font-size:11px}
svg .title{font-size:13px;font-weight:600;fill:var(--fg)}
svg .label{font-size:11px;fill:var(--muted)}
svg .tick{fill:var(--muted);font-size:10px}
svg .grid line{stroke:#eceff3}
svg .plot{fill:none;stroke:#c4cad3}
svg .ref{stroke:#999;stroke-dasharray:2 3}
svg .point-label{font-size:10px;fill:var(--fg)}
svg .legend{cursor:pointer}svg .legend text{fill:var(--fg)}
svg .off{opacity:.12}
table{border-collapse:collapse;margin:8px 0;font-size:13px;font-variant-numeric:tabular-nums}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:right}td{white-space:nowrap}
.scroll{overflow-x:auto}
th{background:var(--band);font-weight:600}td.l,th.l{text-align:left}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dt{color:var(--muted)}dd{margin:0}
`;

const SCRIPT = `
for (const svg of document.querySelectorAll('svg.chart')) {
  for (const item of svg.querySelectorAll('g.legend')) {
    item.addEventListener('click', () => {
      const off = item.classList.toggle('off');
      for (const g of svg.querySelectorAll('g.series')) {
        if (g.dataset.series === item.dataset.series) g.classList.toggle('off', off);
      }
    });
  }
}
`;

function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  leftColumns = 1,
): string {
  const cell = (tag: 'th' | 'td', text: string, i: number) =>
    `<${tag}${i < leftColumns ? ' class="l"' : ''}>${esc(text)}</${tag}>`;
  return (
    `<div class="scroll"><table><thead><tr>${head.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>` +
    rows.map((row) => `<tr>${row.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('') +
    '</tbody></table></div>'
  );
}

const configLabel = (run: RunResult) => `R${run.r} W${run.w}`;
const pct = (v: number) => `${Number((v * 100).toPrecision(3))}%`;

function matrixSummary(m: MatrixResult): string {
  const preloaded = m.runs[0]?.preloaded ?? 0;
  const rows: Array<[string, string]> = [
    ['cluster', `${m.nodes} worker-thread nodes in memory, N=${m.n}`],
    ['workload', `YCSB ${m.workload.title}`],
    [
      'keys',
      `zipfian (theta ${m.keyChoice.theta}) over ${m.keyChoice.keys}, ${preloaded} preloaded`,
    ],
    ['values', `${m.valueSizeBytes} B`],
    [
      'load',
      `${m.concurrency} closed-loop callers, ${m.durationMs / 1000} s per run after a ${m.warmupMs / 1000} s warm-up, seed ${m.seed}`,
    ],
    ['network', `${m.network.profile ?? 'no profile'}: ${m.network.note}`],
    ...(m.network.classes ?? []).map((line): [string, string] => ['', line]),
    ['host', `${m.host.cpus} CPUs, Node ${m.host.node}, ${m.host.platform}; ${m.startedAt}`],
  ];
  return `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function throughputChart(m: MatrixResult): string {
  const scenarios = [...new Set(m.runs.map((r) => r.scenario))];
  const labels = [...new Set(m.runs.map(configLabel))];
  return barChart({
    title: 'Throughput per configuration',
    yLabel: 'successful ops/s',
    series: scenarios.map((s, i) => ({ name: s === 'none' ? 'no faults' : s, color: colorAt(i) })),
    groups: labels.map((label) => ({
      label,
      bars: m.runs
        .filter((run) => configLabel(run) === label)
        .map((run) => ({
          series: run.scenario === 'none' ? 'no faults' : run.scenario,
          value: run.throughput,
        })),
    })),
  });
}

function stalenessScatter(runs: readonly RunResult[]): string {
  const maxRate = Math.max(0, ...runs.map((r) => r.staleReads.rate));
  return rangeScatter({
    title: 'Latency vs stale reads (p50 hollow, p99 filled)',
    xLabel: 'operation latency, reads and updates (ms)',
    yLabel: 'stale reads',
    yFormat: pct,
    yMin: maxRate === 0 ? 0.01 : 0,
    points: runs.map((run, i) => ({
      name: configLabel(run),
      color: colorAt(i),
      xLow: run.latency.all.p50,
      xHigh: run.latency.all.p99,
      y: run.staleReads.rate,
      tooltip:
        `${configLabel(run)}: p50 ${formatMs(run.latency.all.p50)} ms, p99 ` +
        `${formatMs(run.latency.all.p99)} ms, ${run.staleReads.stale} of ` +
        `${run.staleReads.checked} reads stale (${formatPercent(run.staleReads.rate, 3)})`,
    })),
  });
}

function cdfChart(runs: readonly RunResult[], op: 'read' | 'update'): string {
  const series = runs
    .map((run, i) => ({ run, color: colorAt(i) }))
    .filter(({ run }) => run.latency[op].count > 0)
    .map(({ run, color }) => ({
      name: configLabel(run),
      color,
      points: cdfPoints(run.latency[op]),
    }));
  if (series.length === 0) return '';
  return lineChart({
    title: `${op === 'read' ? 'Read' : 'Update'} latency CDF`,
    xLabel: `${op} latency (ms, log scale)`,
    yLabel: 'P(latency ≤ x)',
    series,
    xLog: true,
    yRange: [0, 1],
    yFormat: pct,
  });
}

function cdfPoints(s: LatencySummary): Array<readonly [number, number]> {
  return s.cdf.filter(([ms]) => ms !== null && Number.isFinite(ms) && ms > 0);
}

function availabilityChart(m: MatrixResult): string {
  const faulted = m.runs.filter((run) => run.scenario !== 'none');
  if (faulted.length === 0) return '';
  const scenarios = [...new Set(faulted.map((r) => r.scenario))];
  const labels = [...new Set(faulted.map(configLabel))];
  return barChart({
    title: 'Availability after the kill',
    yLabel: 'operations that succeeded',
    yRange: [0, 1],
    yFormat: pct,
    valueFormat: (v) => formatPercent(v, 2),
    series: scenarios.map((s, i) => ({ name: s, color: colorAt(i + 1) })),
    groups: labels.map((label) => ({
      label,
      bars: faulted
        .filter((run) => configLabel(run) === label)
        .map((run) => ({
          series: run.scenario,
          value: run.availabilityAfterFault ?? run.availability,
        })),
    })),
  });
}

function matrixTable(m: MatrixResult): string {
  const head = [
    'config',
    'fault',
    'R+W>N',
    'ops/s',
    'read p50',
    'p95',
    'p99',
    'p99.9',
    'update p50',
    'p95',
    'p99',
    'p99.9',
    'stale reads',
    'quorum fails',
    'other errors',
    'availability',
  ];
  const rows = m.runs.map((run) => {
    const e = run.errors;
    const other = e.timeout + e.overload + e.siblingLimit + e.unavailable + e.other;
    const lat = (s: LatencySummary) => [s.p50, s.p95, s.p99, s.p999].map(formatMs);
    return [
      configLabel(run),
      run.scenario === 'none' ? '-' : run.scenario,
      run.r + run.w > m.n ? 'yes' : 'no',
      String(run.throughput),
      ...lat(run.latency.read),
      ...lat(run.latency.update),
      `${formatPercent(run.staleReads.rate, 3)} (${run.staleReads.stale})`,
      String(e.quorum),
      String(other),
      formatPercent(run.availabilityAfterFault ?? run.availability, 2),
    ];
  });
  return table(head, rows, 2);
}

function matrixSection(m: MatrixResult): string {
  const normal = m.runs.filter((run) => run.scenario === 'none');
  const charts = [
    throughputChart(m),
    stalenessScatter(normal),
    cdfChart(normal, 'read'),
    cdfChart(normal, 'update'),
    availabilityChart(m),
  ].filter((c) => c !== '');
  return (
    `<section id="matrix"><h2>Quorum matrix: N=${m.n}, YCSB workload ${esc(m.workload.name.toUpperCase())}</h2>` +
    matrixSummary(m) +
    `<div class="charts">${charts.join('')}</div>` +
    `<h3>Results</h3>${matrixTable(m)}` +
    '<p class="note">Latency counts successful operations, client retries included. A read is ' +
    'stale when it missed a write already acknowledged when the read was issued. Availability is ' +
    'the share of operations that succeeded (for fault runs: of those issued after the kill).</p>' +
    errorSamples(m) +
    '</section>'
  );
}

function errorSamples(m: MatrixResult): string {
  const samples = [...new Set(m.runs.flatMap((run) => run.errorSamples))].slice(0, 8);
  if (samples.length === 0) return '';
  return `<h3>Sample errors</h3><ul>${samples.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`;
}

function profileName(s: StalenessReport): string | null {
  if (typeof s.profile === 'string') return s.profile;
  if (isRecord(s.profile) && typeof s.profile.name === 'string') return s.profile.name;
  return null;
}

function stalenessLabel(s: StalenessReport): string {
  const profile = profileName(s);
  const mode = typeof s.mode === 'string' ? ` (${s.mode})` : '';
  return `N${s.n} R${s.r} W${s.w}${profile === null ? '' : ` ${profile}`}${mode}`;
}

/** Chart labels: only the parts that differ between results (the rest goes in the title). */
function shortLabels(results: readonly StalenessReport[]): { labels: string[]; common: string } {
  const parts = results.map((s) => ({
    n: `N=${s.n}`,
    rw: `R${s.r} W${s.w}`,
    profile: profileName(s) ?? '',
    mode: typeof s.mode === 'string' ? s.mode : '',
  }));
  const varies = (key: 'n' | 'profile' | 'mode') => new Set(parts.map((p) => p[key])).size > 1;
  const keys = (['n', 'profile', 'mode'] as const).filter(varies);
  const first = parts[0]!;
  const common = (['n', 'profile', 'mode'] as const)
    .filter((key) => !varies(key) && first[key] !== '')
    .map((key) => first[key])
    .join(', ');
  const labels = parts.map((p) =>
    [p.rw, ...keys.map((key) => p[key])].filter((x) => x !== '').join(' '),
  );
  return { labels, common };
}

/** Positive t values spanning this ratio or more get a log t axis. */
const LOG_T_RATIO_MIN = 100;

/** Whether the results' positive t values span orders of magnitude (then t is drawn on a log axis). */
export function wantsLogT(results: readonly StalenessReport[]): boolean {
  const ts = results.flatMap((s) => s.consistency.map((c) => c.t)).filter((t) => t > 0);
  if (ts.length < 2) return false;
  return Math.max(...ts) / Math.min(...ts) >= LOG_T_RATIO_MIN;
}

/**
 * P(consistent) against t: y on a "nines" axis (90 %, 99 %, 99.9 %, … equally spaced), t on a
 * log axis when the measured t values span orders of magnitude (t = 0 cannot be drawn there: it
 * is the table's "P at t=0" column). A marker at every measured point and nowhere else.
 */
function consistencyChart(results: readonly StalenessReport[]): string {
  const { labels, common } = shortLabels(results);
  const xLog = wantsLogT(results);
  return lineChart({
    title: `P(consistent read) vs t since the write committed${common === '' ? '' : ` (${common})`}`,
    xLabel: xLog ? 't (ms after commit, log scale; t = 0 in the table)' : 't (ms after commit)',
    yLabel: 'P(read returns the latest write)',
    yScale: 'nines',
    yRefs: [{ y: 0.999, label: '99.9%' }],
    xLog,
    series: results.map((s, i) => ({
      name: labels[i]!,
      color: colorAt(i),
      markers: true,
      markerLabel: (t: number, p: number) =>
        `t=${formatMs(t)} ms, P=${p >= 1 ? '100% (no stale read measured)' : formatPercent(p, 4)}`,
      points: s.consistency.map((c) => [c.t, c.p] as const),
    })),
  });
}

function stalenessTable(results: readonly StalenessReport[]): string {
  const cell = (x: number | null | undefined) => formatMs(x ?? null);
  const rows = results.map((s) => [
    stalenessLabel(s),
    s.trials === undefined ? '-' : String(s.trials),
    atZero(s),
    s.t999 === undefined || s.t999 === null ? '-' : `${cell(s.t999)} ms`,
    cell(s.latency?.read?.p50),
    cell(s.latency?.read?.p99),
    cell(s.latency?.read?.p999),
    cell(s.latency?.write?.p50),
    cell(s.latency?.write?.p99),
    cell(s.latency?.write?.p999),
  ]);
  const head = [
    'configuration',
    'trials',
    'P at t=0',
    't for 99.9%',
    'read p50',
    'p99',
    'p99.9',
    'write p50',
    'p99',
    'p99.9',
  ];
  return table(head, rows);
}

function atZero(s: StalenessReport): string {
  const zero = s.consistency.find((c) => c.t === 0);
  return zero === undefined ? '-' : formatPercent(zero.p, 3);
}

/** Most k columns shown. */
const K_COLUMNS_MAX = 10;

function kStalenessTable(results: readonly StalenessReport[]): string {
  const points = (s: StalenessReport) =>
    Array.isArray(s.kStaleness)
      ? (s.kStaleness as unknown[]).filter(
          (e): e is { k: number; p: number } =>
            isRecord(e) && typeof e.k === 'number' && typeof e.p === 'number',
        )
      : [];
  const withK = results.filter((s) => points(s).length > 0);
  if (withK.length === 0) return '';
  const ks = [...new Set(withK.flatMap((s) => points(s).map((e) => e.k)))]
    .sort((a, b) => a - b)
    .slice(0, K_COLUMNS_MAX);
  const rows = withK.map((s) => {
    const byK = new Map(points(s).map((e) => [e.k, e.p]));
    return [stalenessLabel(s), ...ks.map((k) => (byK.has(k) ? pct(byK.get(k)!) : '-'))];
  });
  return (
    '<h3>k-staleness (closed form): P(a read returns one of the last k versions)</h3>' +
    table(['configuration', ...ks.map((k) => `k=${k}`)], rows)
  );
}

function stalenessSection(results: readonly StalenessReport[]): string {
  return (
    '<section id="staleness"><h2>Probabilistically bounded staleness</h2>' +
    `<div class="charts">${consistencyChart(results)}</div>` +
    `<h3>Latency (ms)</h3>${stalenessTable(results)}` +
    kStalenessTable(results) +
    '</section>'
  );
}

function provenanceList(provenance: Provenance | undefined): string {
  const rows: Array<[string, string]> =
    provenance === undefined
      ? [['command', 'not recorded (the report was rendered without its provenance)']]
      : [
          ['command', provenance.command],
          ['ringkv', provenance.version],
          ['machine', provenance.machine],
        ];
  return (
    '<dl id="provenance">' +
    rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd><code>${esc(v)}</code></dd>`).join('') +
    '</dl>'
  );
}

/** The whole report as one HTML document. */
export function renderHtmlReport(input: ReportInput): string {
  const title = input.title ?? 'ringkv benchmark report';
  const staleness =
    input.staleness === undefined
      ? []
      : Array.isArray(input.staleness)
        ? (input.staleness as readonly StalenessReport[])
        : [input.staleness as StalenessReport];
  const sections = [
    input.matrix === undefined ? '' : matrixSection(input.matrix),
    staleness.length === 0 ? '' : stalenessSection(staleness),
  ].join('');
  const body = sections === '' ? '<p class="note">No results were given.</p>' : sections;
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>` +
    `<h1>${esc(title)}</h1><p class="meta">Generated ${esc(new Date().toISOString())}. ` +
    'Self-contained: opens offline. Click a legend entry to hide or show a series.</p>' +
    provenanceList(input.provenance) +
    body +
    `<script>${SCRIPT}</script></body></html>\n`
  );
}
