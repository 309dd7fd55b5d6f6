import { writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { ProgressBar } from '../bench/progress.js';
import type { StalenessMode } from '../bench/staleness-result.js';
import type { Topology } from '../bench/wars.js';
import { DEFAULT_CONFIG, NODES_MAX, POOL_THREADS_MAX, TIMEOUT_MS_MAX } from '../config.js';
import { CliError, EXIT_USAGE } from './exit-codes.js';
import type { CliIo } from './io.js';
import { checkWritable } from './output-path.js';
import { resolveProfile } from './profile-arg.js';
import { durationMs } from './units.js';
import { integerIn, usageError } from './up-options.js';

/** Default trials: all of them in sim mode; per t value in core and real mode. */
export const DEFAULT_TRIALS: Readonly<Record<StalenessMode, number>> = {
  sim: 100_000,
  core: 2_000,
  real: 200,
};
export const DEFAULT_T_MS = [0, 1, 2, 5, 10, 20, 50, 100];
const T_MS_MAX = 3_600_000;
const T_VALUES_MAX = 100;
const TRIALS_MAX = 10_000_000;
const TIME_LIMIT_MS_MAX = 24 * 3_600_000;

export interface StalenessFlags {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly profile: string;
  readonly trials?: number;
  readonly t: readonly number[];
  readonly mode: StalenessMode;
  readonly topology?: Topology;
  readonly nodes?: number;
  readonly seed: number;
  readonly readSpeculateMs: number;
  readonly concurrency: number;
  readonly threads?: number;
  readonly timeLimit: number;
  readonly json?: string;
  readonly progress?: boolean;
}

const HELP = `
Modes:
  sim   the WARS Monte-Carlo model on virtual time: 100 000 trials take well under a second.
  core  ringkv's real protocol code (NodeCore) on virtual time, one trial per write/read pair;
        the check that the model describes ringkv. --trials counts trials per t.
  real  a worker-thread cluster of --nodes (default N+1) with the profile's delays injected into
        its MessageChannel transport; --trials counts trials per t. Millisecond-scale profiles
        only: delays are served by timers on whole milliseconds (a delay is rounded up to the
        next millisecond and the event loop adds ~0.1-2 ms), so sub-millisecond profiles
        measure the timers, not the profile. The measured ack-to-get gap is shown as t actual.

Topologies (--topology):
  pbs          the coordinator is not a replica: all N replicas see every delay, as in the PBS
               paper (Bailis et al., VLDB 2012). sim only; the default there.
  local-write  ringkv's shape: the put's coordinator is a replica and writes its own copy with
               no message (w = a = 0 for it); the get is coordinated by a node outside the
               key's replicas. The only choice for core and real. (A get coordinated by the
               writing replica itself is always consistent: its own instant reply counts.)

Read path (--read-speculate-ms S, default the cluster default ${DEFAULT_CONFIG.readSpeculateMs}): a get asks R replicas
in preference order (in local-write the writer first) and the others only when those have not
all answered after S ms; 0 asks every replica at once and answers with the R fastest. core and
real run their clusters with S; sim models the same path (src/bench/wars.ts).

Profiles: a JSON file { "w": DIST, "a": DIST, "r": DIST, "s": DIST } in ms (w write request,
a its ack, r read request, s read reply), DIST one of {"constant": ms}, {"exp": {"rate": r}},
{"pareto": {"xm": ms, "alpha": a}}, {"lognormal": {"mu": m, "sigma": s}},
{"mix": [{"weight": p, "dist": DIST}, ...]}. Shipped: lan-ssd, spinning-disk, wan (bench/profiles).

Example:
  ringkv bench staleness --n 3 --r 1 --w 1 --profile lan-ssd --t 0,1,5,10 --json out.json`;

/** A commander parser: comma-separated non-negative ms values, e.g. `0,1,5,10`. */
export function msList(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  const values = parts.map((part) =>
    /^[0-9]+(\.[0-9]+)?$/.test(part) ? Number(part) : Number.NaN,
  );
  if (values.length > T_VALUES_MAX || values.some((v) => !Number.isFinite(v) || v > T_MS_MAX)) {
    throw usageError(
      `Must be up to ${T_VALUES_MAX} comma-separated times in ms (0..${T_MS_MAX}), such as 0,1,5,10.`,
    );
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw usageError(`Must be one of ${choices.join(', ')}.`);
    }
    return value as T;
  };
}

export function addBenchStalenessCommand(bench: Command, io: CliIo): void {
  bench
    .command('staleness')
    .description('P(a read t ms after a write returns it), latencies and k-staleness for N/R/W')
    .option('--n <count>', 'replicas per key', integerIn(1, NODES_MAX), 3)
    .option('--r <count>', 'replies a read waits for (1..n)', integerIn(1, NODES_MAX), 1)
    .option('--w <count>', 'acks a write waits for (1..n)', integerIn(1, NODES_MAX), 1)
    .option('--profile <file|name>', 'latency profile: a JSON file or a shipped name', 'lan-ssd')
    .option(
      '--trials <count>',
      `trials (sim: in all, default ${DEFAULT_TRIALS.sim}; core/real: per t, default ` +
        `${DEFAULT_TRIALS.core}/${DEFAULT_TRIALS.real})`,
      integerIn(1, TRIALS_MAX),
    )
    .option('--t <ms,...>', 'read delays after the ack, in ms', msList, DEFAULT_T_MS)
    .addOption(
      new Option('--mode <mode>', 'sim, core or real (see below)')
        .argParser(oneOf<StalenessMode>(['sim', 'core', 'real']))
        .default('sim'),
    )
    .addOption(
      new Option(
        '--topology <topology>',
        'pbs or local-write (default: pbs in sim, else local-write)',
      ).argParser(oneOf<Topology>(['pbs', 'local-write'])),
    )
    .option('--nodes <count>', 'core/real: cluster nodes (default n + 1)', integerIn(2, NODES_MAX))
    .option('--seed <n>', 'seed of every random draw', integerIn(0, 0xffff_ffff), 1)
    .option(
      '--read-speculate-ms <ms>',
      'gets ask R replicas, the rest after this many ms (0: all at once)',
      integerIn(0, TIMEOUT_MS_MAX), // CONFIG_RANGES.readSpeculateMs
      DEFAULT_CONFIG.readSpeculateMs,
    )
    .option('--concurrency <count>', 'real: trials in flight at once', integerIn(1, 256), 8)
    .option(
      '--threads <count>',
      'core: worker threads the trials run on (default 1: this thread; pays off for long runs)',
      integerIn(1, POOL_THREADS_MAX),
    )
    .option(
      '--time-limit <duration>',
      'real: start no trial after this long, e.g. 60s',
      durationMs(TIME_LIMIT_MS_MAX),
      60_000,
    )
    .option('--json <file>', 'also write the result as JSON')
    .option('--no-progress', 'real: no progress bar on stderr (drawn only on a terminal)')
    .addHelpText('after', HELP)
    .action(async (flags: StalenessFlags) => {
      await runStalenessCommand(flags, io);
    });
}

export async function runStalenessCommand(flags: StalenessFlags, io: CliIo): Promise<void> {
  const { name, profile } = resolveProfile(flags.profile);
  if (flags.json !== undefined) await checkWritable('--json', flags.json);
  const { runStaleness, StalenessOptionsError } = await import('../bench/staleness.js');
  const { formatStaleness } = await import('../bench/staleness-table.js');
  const mode = flags.mode;
  let bar: ProgressBar | null = null;
  const onProgress = (done: number, total: number) => {
    bar ??= new ProgressBar({ total });
    bar.update(done, `${done}/${total} trials`);
  };
  const options = {
    n: flags.n,
    r: flags.r,
    w: flags.w,
    mode,
    topology: flags.topology ?? (mode === 'sim' ? 'pbs' : 'local-write'),
    profile,
    profileName: name,
    tMs: flags.t,
    trials: flags.trials ?? DEFAULT_TRIALS[mode],
    seed: flags.seed,
    readSpeculateMs: flags.readSpeculateMs,
    concurrency: flags.concurrency,
    timeLimitMs: flags.timeLimit,
    ...(flags.nodes === undefined ? {} : { nodes: flags.nodes }),
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(flags.progress !== false && mode === 'real' ? { onProgress } : {}),
  } as const;
  let result: Awaited<ReturnType<typeof runStaleness>>;
  try {
    result = await runStaleness(options);
  } catch (error) {
    if (error instanceof StalenessOptionsError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  } finally {
    (bar as ProgressBar | null)?.finish();
  }
  io.out(formatStaleness(result));
  if (flags.json !== undefined) {
    await writeFile(flags.json, `${JSON.stringify(result, null, 2)}\n`);
    io.out(`wrote ${flags.json}\n`);
  }
}
