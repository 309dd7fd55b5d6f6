/**
 * The micro-benchmark harness: a group is a set of tinybench tasks built by one
 * `bench/micro/*.bench.ts` module; `run.ts` runs the groups and prints one table per group.
 *
 * Most operations here take tens of nanoseconds to a few microseconds, below what one timer
 * read around one call can resolve (a timer read itself costs tens of nanoseconds). So each
 * task's function runs a *batch* of `opsPerSample` operations in its own loop, and tinybench
 * times the whole batch: one sample = one batch. The table divides by the batch size, so
 * `mean` is per operation and `p99` is the 99th percentile of the per-batch means (for a batch
 * of 1, a true per-operation p99). Each task writes its own loop rather than handing a callback
 * to a shared helper, so every call site stays monomorphic and the loop costs what the
 * operation costs.
 *
 * Dead-code elimination: every loop folds something from each result (a length, a counter)
 * into a local accumulator and hands it to `consume`, which keeps it in module state that
 * `run.ts` prints at the end, so no result is unobservable.
 */
import { Bench, type Task } from 'tinybench';

/** One benchmark: `fn` performs `opsPerSample` operations per call. */
export interface MicroTask {
  readonly name: string;
  /** Operations one call of `fn` performs (its loop count); the table reports per operation. */
  readonly opsPerSample: number;
  /** Runs one batch; returns a Promise when `async` is set. */
  readonly fn: () => unknown;
  /** The task awaits (each operation is awaited inside `fn`). @default false */
  readonly async?: boolean;
}

/** What a group's setup produces: tasks to run, or the reason the group cannot run. */
export type GroupSetup =
  | {
      readonly tasks: readonly MicroTask[];
      /** Printed under the table: what the data is, caveats. */
      readonly notes?: readonly string[];
      /** Releases what setup acquired (temp directories, open environments). */
      readonly teardown?: () => Promise<void>;
    }
  | { readonly skipped: string };

export interface MicroGroup {
  readonly name: string;
  /** One line saying what the group measures. */
  readonly title: string;
  setup(): Promise<GroupSetup>;
}

export interface RunOptions {
  /** Measuring time per task, ms. */
  readonly timeMs: number;
  /** Warm-up time per task, ms. */
  readonly warmupMs: number;
}

export interface TaskRow {
  readonly name: string;
  readonly opsPerSecond: number | null;
  /** Mean time per operation, ms. */
  readonly meanMs: number | null;
  /** p99 of the per-sample means, ms per operation. */
  readonly p99Ms: number | null;
  readonly rmePercent: number | null;
  readonly samples: number | null;
  readonly opsPerSample: number;
  readonly error?: string;
}

export interface GroupReport {
  readonly name: string;
  readonly rows: readonly TaskRow[];
  readonly elapsedMs: number;
  readonly failed: boolean;
}

let sinkValue = 0;

/** Keeps a value observable so the computation that produced it cannot be eliminated. */
export function consume(value: number): void {
  sinkValue = (sinkValue + value) % 1_000_000_007;
}

/** The accumulated sink (printed by run.ts). */
export function sinkTotal(): number {
  return sinkValue;
}

/** Runs one group: prints its title, table, notes and summary line; returns what it measured. */
export async function runGroup(group: MicroGroup, options: RunOptions): Promise<GroupReport> {
  const started = performance.now();
  console.log(`\n## ${group.name} — ${group.title}`);
  const setup = await group.setup();
  if ('skipped' in setup) {
    console.log(`   not run: ${setup.skipped}`);
    console.log(`${group.name}: skipped (no numbers).`);
    return { name: group.name, rows: [], elapsedMs: performance.now() - started, failed: false };
  }
  const warnings: string[] = [];
  let rows: TaskRow[];
  try {
    const bench = new Bench({
      name: group.name,
      time: options.timeMs,
      warmupTime: options.warmupMs,
      timestampProvider: 'hrtimeNow',
    });
    bench.addEventListener('warning', (event) => {
      warnings.push(`timer saturation on "${event.task.name}": ${event.reason ?? 'unknown'}`);
    });
    for (const task of setup.tasks) {
      bench.add(task.name, task.fn, { async: task.async ?? false });
    }
    await bench.run();
    rows = setup.tasks.map((task) => rowOf(task, bench.getTask(task.name)));
  } finally {
    await setup.teardown?.();
  }
  printTable(rows);
  for (const note of [...(setup.notes ?? []), ...warnings]) console.log(`   note: ${note}`);
  const elapsedMs = performance.now() - started;
  console.log(summaryLine(group.name, rows, elapsedMs));
  return { name: group.name, rows, elapsedMs, failed: rows.some((row) => row.error !== undefined) };
}

function rowOf(spec: MicroTask, task: Task | undefined): TaskRow {
  const empty = {
    name: spec.name,
    opsPerSecond: null,
    meanMs: null,
    p99Ms: null,
    rmePercent: null,
    samples: null,
    opsPerSample: spec.opsPerSample,
  };
  if (task === undefined) return { ...empty, error: 'task missing after run' };
  const result = task.result;
  if (result.state === 'errored') return { ...empty, error: result.error.message };
  if (result.state !== 'completed' && result.state !== 'aborted-with-statistics') {
    return { ...empty, error: `state ${result.state}` };
  }
  const batch = spec.opsPerSample;
  return {
    name: spec.name,
    // Operations over time: 1 / mean, so the ops/s and mean columns agree. (tinybench's own
    // throughput.mean averages per-sample rates, which weights fast samples up.)
    opsPerSecond: result.latency.mean > 0 ? (1000 * batch) / result.latency.mean : 0,
    meanMs: result.latency.mean / batch,
    p99Ms: result.latency.p99 / batch,
    rmePercent: result.latency.rme,
    samples: result.latency.samplesCount,
    opsPerSample: batch,
  };
}

/** A duration in ms as ns, µs or ms with three significant digits. */
export function formatDuration(ms: number): string {
  const ns = ms * 1e6;
  if (ns < 1_000) return `${ns.toPrecision(3)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toPrecision(3)} µs`;
  return `${ms.toPrecision(3)} ms`;
}

/** Operations per second with thousands separators. */
export function formatOps(ops: number): string {
  return Math.round(ops).toLocaleString('en-US');
}

/** Short form for summaries: 12.3 M, 456 k, 789. */
function formatOpsShort(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toPrecision(3)} M`;
  if (ops >= 1e3) return `${(ops / 1e3).toPrecision(3)} k`;
  return ops.toPrecision(3);
}

const HEADERS = ['task', 'ops/s', '± %', 'mean', 'p99', 'samples', 'ops/sample'] as const;

function printTable(rows: readonly TaskRow[]): void {
  const cells = rows.map((row): string[] => {
    if (row.error !== undefined) {
      return [row.name, 'ERROR', '', row.error, '', '', String(row.opsPerSample)];
    }
    return [
      row.name,
      row.opsPerSecond === null ? '-' : formatOps(row.opsPerSecond),
      row.rmePercent === null ? '-' : row.rmePercent.toFixed(2),
      row.meanMs === null ? '-' : formatDuration(row.meanMs),
      row.p99Ms === null ? '-' : formatDuration(row.p99Ms),
      row.samples === null ? '-' : String(row.samples),
      String(row.opsPerSample),
    ];
  });
  const widths = HEADERS.map((header, i) =>
    Math.max(header.length, ...cells.map((line) => line[i]!.length)),
  );
  // The task name is left-aligned, numbers right-aligned.
  const format = (line: readonly string[]): string =>
    line
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join(' │ ');
  console.log(`   ${format(HEADERS)}`);
  console.log(`   ${widths.map((width) => '─'.repeat(width)).join('─┼─')}`);
  for (const line of cells) console.log(`   ${format(line)}`);
}

function summaryLine(name: string, rows: readonly TaskRow[], elapsedMs: number): string {
  const measured = rows.filter(
    (row): row is TaskRow & { opsPerSecond: number } => row.opsPerSecond !== null,
  );
  const failed = rows.length - measured.length;
  const seconds = (elapsedMs / 1000).toFixed(1);
  if (measured.length === 0) return `${name}: ${rows.length} tasks, none measured (${seconds} s).`;
  const sorted = [...measured].sort((a, b) => b.opsPerSecond - a.opsPerSecond);
  const fastest = sorted[0]!;
  const slowest = sorted[sorted.length - 1]!;
  const failures = failed > 0 ? `, ${failed} FAILED` : '';
  return (
    `${name}: ${measured.length} tasks in ${seconds} s${failures}; fastest "${fastest.name}" ` +
    `${formatOpsShort(fastest.opsPerSecond)} ops/s, slowest "${slowest.name}" ` +
    `${formatOpsShort(slowest.opsPerSecond)} ops/s.`
  );
}
