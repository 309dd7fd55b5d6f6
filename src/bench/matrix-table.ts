/**
 * The matrix result as plain-text tables for the terminal: a header describing the setup, one
 * row per run (throughput, read and update latency percentiles, stale reads, failures,
 * availability), and the notes a reader needs to interpret the numbers.
 */
import type { LatencySummary } from './histogram.js';
import type { MatrixResult } from './matrix.js';
import type { ErrorCounts, RunResult } from './matrix-run.js';

/** Milliseconds with sensible precision: 0.84, 12.3, 154. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '-';
  if (ms < 9.995) return ms.toFixed(2);
  if (ms < 99.95) return ms.toFixed(1);
  return ms.toFixed(0);
}

export function formatPercent(fraction: number, digits = 2): string {
  return `${(100 * fraction).toFixed(digits)}%`;
}

function otherErrors(errors: ErrorCounts): number {
  return errors.timeout + errors.overload + errors.siblingLimit + errors.unavailable + errors.other;
}

function latencyCells(s: LatencySummary): string[] {
  return [formatMs(s.p50), formatMs(s.p95), formatMs(s.p99), formatMs(s.p999)];
}

/** Right-aligns every column except the first `leftColumns`. */
export function alignTable(rows: readonly (readonly string[])[], leftColumns = 0): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function runRow(run: RunResult, n: number, faults: boolean): string[] {
  const row = [
    String(run.r),
    String(run.w),
    run.r + run.w > n ? 'yes' : 'no',
    ...(faults ? [run.scenario === 'none' ? '-' : run.scenario] : []),
    String(run.throughput),
    ...latencyCells(run.latency.read),
    ...latencyCells(run.latency.update),
    formatPercent(run.staleReads.rate),
    String(run.errors.quorum),
    String(otherErrors(run.errors)),
  ];
  if (faults) {
    row.push(formatPercent(run.availability, 1));
    row.push(
      run.availabilityAfterFault === null ? '-' : formatPercent(run.availabilityAfterFault, 1),
    );
  }
  return row;
}

export function formatRunsTable(result: MatrixResult): string {
  const faults = result.runs.some((run) => run.scenario !== 'none');
  const head1 = [
    '',
    '',
    '',
    ...(faults ? [''] : []),
    '',
    'read ms',
    '',
    '',
    '',
    'update ms',
    '',
    '',
    '',
    'stale',
    'quorum',
    'other',
    ...(faults ? ['avail', 'avail'] : []),
  ];
  const head2 = [
    'R',
    'W',
    'R+W>N',
    ...(faults ? ['fault'] : []),
    'ops/s',
    'p50',
    'p95',
    'p99',
    'p99.9',
    'p50',
    'p95',
    'p99',
    'p99.9',
    'reads',
    'fails',
    'errors',
    ...(faults ? ['all', 'after'] : []),
  ];
  const rows = result.runs.map((run) => runRow(run, result.n, faults));
  return alignTable([head1, head2, ...rows]);
}

export function formatMatrixHeader(result: MatrixResult): string {
  const first = result.runs[0];
  const preloaded = first === undefined ? '-' : String(first.preloaded);
  return [
    `ringkv bench matrix: ${result.nodes} nodes, N=${result.n}, workload ${result.workload.title}`,
    `  zipfian(theta ${result.keyChoice.theta}) over ${result.keyChoice.keys} keys ` +
      `(${preloaded} preloaded), ${result.valueSizeBytes} B values, ${result.concurrency} ` +
      `callers, ${result.durationMs / 1000} s per run (after ${result.warmupMs / 1000} s warm-up), seed ${result.seed}, ` +
      `${result.host.cpus} CPUs`,
    `  network: ${result.network.profile ?? 'no profile'} — ${result.network.note}`,
    ...(result.network.classes ?? []).map((line) => `    ${line}`),
  ].join('\n');
}

export function formatMatrixNotes(result: MatrixResult): string {
  const notes = [
    'ops/s: successful operations finished within the run; latency: successful operations, ' +
      'client retries included (up to ' +
      `${result.retryAttemptsMax} attempts, ${result.requestTimeoutMs} ms coordinator timeout).`,
    'stale reads: reads that missed a write already acknowledged when the read was issued.',
    'other errors: timeouts, overload, sibling limit, unavailable.',
  ];
  if (result.runs.some((run) => run.scenario !== 'none')) {
    const killed = result.runs.find((run) => run.scenario === 'kill-2')?.killed.join(', ');
    notes.push(
      `fault runs kill n1 (kill-1) or ${killed ?? 'n1, n2'} (kill-2) halfway; avail: share of ` +
        'operations that succeeded, over the whole run and over those issued after the kill.',
    );
  }
  const samples = [...new Set(result.runs.flatMap((run) => run.errorSamples))].slice(0, 5);
  if (samples.length > 0) notes.push(`sample errors: ${samples.join(' | ')}`);
  return notes.map((note) => `  ${note}`).join('\n');
}

/** Everything the command prints to stdout. */
export function formatMatrix(result: MatrixResult): string {
  return `${formatMatrixHeader(result)}\n\n${formatRunsTable(result)}\n\n${formatMatrixNotes(result)}\n`;
}
