/**
 * `ringkv bench matrix` and `ringkv bench report`: the options and their checks. The work
 * itself (starting clusters, rendering) is in bench-matrix-command.ts, loaded only when one
 * of these commands runs, so the rest of the CLI starts fast.
 *
 *   ringkv bench matrix --nodes 5 --n 3 --profile FILE|NAME [--configs 1,1 1,2 2,1 2,2 1,3 3,1]
 *     [--workload a|b|c] [--keys 100000] [--value-size 1024] [--duration 10s]
 *     [--concurrency 64] [--faults] [--json OUT] [--html OUT]
 *   ringkv bench report [--matrix FILE] [--staleness FILE...] --html OUT
 */
import { type Command, Option } from 'commander';
import { DEFAULT_CONFIG, NODES_MAX, TIMEOUT_MS_MAX } from '../config.js';
import type { MatrixFlags, ReportFlags } from './bench-matrix-command.js';
import { EXIT_USAGE } from './exit-codes.js';
import { type CliIo, processCliIo } from './io.js';
import { durationMs } from './units.js';
import { integerIn, nonEmpty, usageError } from './up-options.js';

export const DEFAULT_CONFIG_PAIRS = ['1,1', '1,2', '2,1', '2,2', '1,3', '3,1'] as const;
const KEYS_MAX = 10_000_000;
const CONCURRENCY_MAX = 10_000;
const DURATION_MS_MAX = 3_600_000;
const VALUE_ID_BYTES = 8;

/** Parses `R,W` pairs and checks them against n; throws a usage error naming the bad one. */
export function parseConfigs(pairs: readonly string[], n: number): Array<[number, number]> {
  return pairs.map((pair) => {
    const match = /^([0-9]+),([0-9]+)$/.exec(pair.trim());
    if (match === null) throw usageError(`--configs: "${pair}" is not R,W (e.g. 2,1)`);
    const r = Number(match[1]);
    const w = Number(match[2]);
    if (r < 1 || r > n || w < 1 || w > n) {
      throw usageError(`--configs: R=${r} W=${w} must each be in 1..${n} (--n)`);
    }
    return [r, w];
  });
}

/** Cross-option checks that commander's per-option parsers cannot do. */
export function checkMatrixFlags(flags: MatrixFlags): void {
  if (flags.n > flags.nodes) throw usageError(`--n ${flags.n} exceeds --nodes ${flags.nodes}.`);
  if (!['a', 'b', 'c'].includes(flags.workload)) {
    throw usageError(`--workload must be a, b or c, got ${flags.workload}.`);
  }
  if (flags.faults && flags.nodes < 3)
    throw usageError('--faults kills two nodes: needs --nodes 3 or more.');
  if (flags.duration <= 0) throw usageError('--duration must be positive.');
}

/** Runs `check`; a usage error it throws is reported by commander and exits with code 2. */
function orUsageExit<T>(command: Command, check: () => T): T {
  try {
    return check();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    command.error(`error: ${message}`, {
      exitCode: EXIT_USAGE,
      code: 'commander.invalidArgument',
    });
  }
}

function accumulate(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), nonEmpty(value)];
}

/** Adds `matrix` to the `bench` command group. */
export function addBenchMatrixCommand(bench: Command, io: CliIo = processCliIo): Command {
  return bench
    .command('matrix')
    .description(
      'run a YCSB-style workload on a real worker-thread cluster for each (R, W): throughput, latency percentiles, stale reads, failures',
    )
    .option('--nodes <count>', `storage nodes (1..${NODES_MAX})`, integerIn(1, NODES_MAX), 5)
    .option('--n <count>', 'replicas per key', integerIn(1, NODES_MAX), 3)
    .option(
      '--profile <file|name>',
      'WARS latency profile JSON { w, a, r, s }, or a shipped one: lan-ssd, spinning-disk, wan (default: no delay)',
    )
    .addOption(
      new Option('--configs <pairs...>', 'R,W pairs to run').default(
        [...DEFAULT_CONFIG_PAIRS],
        DEFAULT_CONFIG_PAIRS.join(' '),
      ),
    )
    .option('--workload <a|b|c>', 'YCSB A 50/50 read/update, B 95/5, C read only', 'a')
    .option('--keys <count>', 'keys the zipfian picks from', integerIn(1, KEYS_MAX), 100_000)
    .option(
      '--value-size <bytes>',
      'bytes per value',
      integerIn(VALUE_ID_BYTES, DEFAULT_CONFIG.valueSizeMaxBytes),
      1024,
    )
    .addOption(
      new Option('--duration <time>', 'measured time per run')
        .argParser(durationMs(DURATION_MS_MAX))
        .default(10_000, '10s'),
    )
    .option('--concurrency <count>', 'closed-loop callers', integerIn(1, CONCURRENCY_MAX), 64)
    .option('--faults', 'also run each config with one and with two nodes killed halfway')
    .option('--json <file>', 'write the full results as JSON')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option(
      '--staleness <file>',
      'add a `bench staleness --json` result to the HTML report (repeatable)',
      accumulate,
    )
    .option('--seed <number>', 'seed of the key and operation choice', integerIn(0, 0xffff_ffff), 1)
    .addOption(
      new Option('--preload-max <time>', 'longest time spent preloading keys per run')
        .argParser(durationMs(DURATION_MS_MAX))
        .default(10_000, '10s'),
    )
    .addOption(
      new Option('--warmup <time>', 'unmeasured workload before each measured run')
        .argParser(durationMs(DURATION_MS_MAX))
        .default(1000, '1s'),
    )
    .addOption(
      new Option('--timeout <time>', 'coordinator timeout per request')
        .argParser(durationMs(TIMEOUT_MS_MAX))
        .default(DEFAULT_CONFIG.requestTimeoutMs, `${DEFAULT_CONFIG.requestTimeoutMs}ms`),
    )
    .option(
      '--attempts <count>',
      'client attempts per operation (1 = no retries)',
      integerIn(1, 100),
      DEFAULT_CONFIG.retryAttemptsMax,
    )
    .action(async (flags: MatrixFlags, command: Command) => {
      const configs = orUsageExit(command, () => {
        checkMatrixFlags(flags);
        return parseConfigs(flags.configs, flags.n);
      });
      const { runMatrixCommand } = await import('./bench-matrix-command.js');
      await runMatrixCommand(flags, configs, io);
    });
}

/** Adds `report` to the `bench` command group: renders saved JSON results as HTML. */
export function addBenchReportCommand(bench: Command, io: CliIo = processCliIo): Command {
  return bench
    .command('report')
    .description(
      'render saved `bench matrix` / `bench staleness` JSON results as one offline HTML file',
    )
    .option('--matrix <file>', 'a `bench matrix --json` result')
    .option('--staleness <file>', 'a `bench staleness --json` result (repeatable)', accumulate)
    .requiredOption('--html <file>', 'where to write the report')
    .action(async (flags: ReportFlags, command: Command) => {
      if (flags.matrix === undefined && (flags.staleness ?? []).length === 0) {
        orUsageExit(command, () => {
          throw usageError('give --matrix, --staleness or both.');
        });
      }
      const { runReportCommand } = await import('./bench-matrix-command.js');
      await runReportCommand(flags, io);
    });
}
