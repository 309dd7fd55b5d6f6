/**
 * What `ringkv bench matrix` and `ringkv bench report` do once their options are checked
 * (bench-matrix.ts): load the profile, run the matrix with a progress bar on stderr, print the
 * table, write the JSON and HTML files. It is a command (flags, exit codes, stdout), so it lives
 * in cli/ and only calls down into bench/; bench-matrix.ts loads it lazily.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  type MatrixOptions,
  type MatrixResult,
  plannedRuns,
  plannedUnits,
  runMatrix,
} from '../bench/matrix.js';
import { type NetworkPlan, networkPlan } from '../bench/matrix-profile.js';
import { formatMatrix } from '../bench/matrix-table.js';
import { ProfileError } from '../bench/profile.js';
import { ProgressBar } from '../bench/progress.js';
import {
  parseMatrixResult,
  parseStalenessReports,
  provenanceNow,
  ReportInputError,
  renderHtmlReport,
  type StalenessReport,
} from '../bench/report-html.js';
import type { WorkloadName } from '../bench/ycsb.js';
import { CliError, EXIT_USAGE } from './exit-codes.js';
import type { CliIo } from './io.js';
import { checkWritable } from './output-path.js';
import { resolveProfile } from './profile-arg.js';
import { packageVersion } from './version.js';

/** Flags of `bench matrix` as commander hands them over, after the per-option parsers. */
export interface MatrixFlags {
  readonly nodes: number;
  readonly n: number;
  readonly profile?: string;
  readonly configs: readonly string[];
  readonly workload: string;
  readonly keys: number;
  readonly valueSize: number;
  readonly duration: number;
  readonly concurrency: number;
  readonly faults?: boolean;
  readonly json?: string;
  readonly html?: string;
  readonly staleness?: readonly string[];
  readonly seed: number;
  readonly preloadMax: number;
  readonly warmup: number;
  readonly timeout: number;
  readonly attempts: number;
}

export interface ReportFlags {
  readonly matrix?: string;
  readonly staleness?: readonly string[];
  readonly html: string;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${(error as Error).message}`, EXIT_USAGE);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${what} ${path} is not JSON: ${(error as Error).message}`, EXIT_USAGE);
  }
}

/** Reads and checks each staleness result file; a bad one is a usage error. */
async function readStaleness(paths: readonly string[]): Promise<StalenessReport[]> {
  const out: StalenessReport[] = [];
  for (const path of paths) {
    try {
      out.push(...parseStalenessReports(await readJson(path, 'staleness result')));
    } catch (error) {
      if (error instanceof ReportInputError)
        throw new CliError(`${path}: ${error.message}`, EXIT_USAGE);
      throw error;
    }
  }
  return out;
}

/** `--profile` is a file or a shipped profile's name (`lan-ssd`), as for bench staleness. */
function networkFor(value: string | undefined, seed: number): NetworkPlan {
  if (value === undefined) return networkPlan(null, null);
  const { name, profile } = resolveProfile(value);
  try {
    return networkPlan(profile, name, seed);
  } catch (error) {
    if (error instanceof ProfileError)
      throw new CliError(`--profile: ${error.message}`, EXIT_USAGE);
    throw error;
  }
}

export async function runMatrixCommand(
  flags: MatrixFlags,
  configs: ReadonlyArray<readonly [number, number]>,
  io: CliIo,
): Promise<void> {
  const network = networkFor(flags.profile, flags.seed);
  const staleness = await readStaleness(flags.staleness ?? []);
  if (flags.json !== undefined) await checkWritable('--json', flags.json);
  if (flags.html !== undefined) await checkWritable('--html', flags.html);
  const options: MatrixOptions = {
    nodes: flags.nodes,
    n: flags.n,
    configs,
    workload: flags.workload as WorkloadName,
    keys: flags.keys,
    valueSizeBytes: flags.valueSize,
    durationMs: flags.duration,
    concurrency: flags.concurrency,
    faults: flags.faults === true,
    seed: flags.seed,
    preloadMsMax: flags.preloadMax,
    warmupMs: flags.warmup,
    requestTimeoutMs: flags.timeout,
    retryAttemptsMax: flags.attempts,
  };
  const total = plannedRuns(options).reduce((sum, plan) => sum + plannedUnits(plan), 0);
  const progress = new ProgressBar({
    total,
    stream: { write: (text: string) => io.err(text), isTTY: process.stderr.isTTY === true },
  });
  progress.log(
    network.planned.profile === null
      ? 'network: no profile, no delay injected'
      : `network: profile ${network.planned.profile}`,
  );
  // Each finished run is saved at once: a run that fails or is stopped later keeps what it got.
  const json = flags.json;
  const onRun =
    json === undefined
      ? undefined
      : (partial: MatrixResult) => writeFile(json, `${JSON.stringify(partial, null, 2)}\n`);
  let result: MatrixResult;
  try {
    result = await runMatrix(options, { network, progress, ...(onRun ? { onRun } : {}) });
  } finally {
    progress.finish();
  }
  io.out(`\n${formatMatrix(result)}`);
  if (flags.json !== undefined) {
    await writeFile(flags.json, `${JSON.stringify(result, null, 2)}\n`);
    io.err(`results written to ${flags.json}\n`);
  }
  if (flags.html !== undefined) {
    await writeFile(
      flags.html,
      renderHtmlReport({ matrix: result, staleness, provenance: provenanceNow(packageVersion()) }),
    );
    io.err(`HTML report written to ${flags.html}\n`);
  }
}

export async function runReportCommand(flags: ReportFlags, io: CliIo): Promise<void> {
  let matrix: ReturnType<typeof parseMatrixResult> | undefined;
  if (flags.matrix !== undefined) {
    try {
      matrix = parseMatrixResult(await readJson(flags.matrix, 'matrix result'));
    } catch (error) {
      if (error instanceof ReportInputError) {
        throw new CliError(`${flags.matrix}: ${error.message}`, EXIT_USAGE);
      }
      throw error;
    }
  }
  const staleness = await readStaleness(flags.staleness ?? []);
  await writeFile(
    flags.html,
    renderHtmlReport({ matrix, staleness, provenance: provenanceNow(packageVersion()) }),
  );
  io.err(`HTML report written to ${flags.html}\n`);
}
