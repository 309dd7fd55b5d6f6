/**
 * `npm run sim -- --seed 42`: one run with a verbose summary; exit 1 on a violation.
 * `npm run sim -- --seeds 10000 [--from 1]`: a sweep with a progress bar on stderr and a
 * summary. The only file of src/sim that prints or reads argv; it and sweep-task.ts (the seed as
 * a pool job) read a wall clock, for the report only.
 */

import { POOL_THREADS_MAX } from '../config.js';
import { SEED_MAX } from '../util/prng.js';
import { defaultPoolThreads, mapInOrder } from '../util/task-pool.js';
import type { MembershipMode } from './change-plan.js';
import { formatReport, SweepTotals } from './report.js';
import { runSeed, SWARM_MODE_DEFAULTS, type SwarmModes } from './swarm.js';
import runSeedTask from './sweep-task.js';
import type { TtlMode } from './ttl-plan.js';

const USAGE =
  'usage: npm run sim -- --seed <n> [--trace <key>] | --seeds <count> [--from <n>] [--verbose]\n' +
  '       [--no-probes]  liveness without reads: replicas must converge by anti-entropy alone\n' +
  '       [--membership off|sometimes|always]  membership changes (default: on about half the seeds)\n' +
  '       [--no-gossip]  nodes run without gossip membership and SWIM failure detection (default: with)\n' +
  `       [--threads <n>]  worker threads of a sweep, 1..${POOL_THREADS_MAX} (default: one per core; 1: serial)` +
  '       [--ttl off|sometimes|always]  puts with TTLs and skewed wall clocks (default: on about half the seeds)';
const MEMBERSHIP_MODES: readonly MembershipMode[] = ['off', 'sometimes', 'always'];
const TTL_MODES: readonly TtlMode[] = ['off', 'sometimes', 'always'];
const BAR_WIDTH = 30;

function intArg(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = Number(args[i + 1]);
  if (!Number.isSafeInteger(value) || value < 0 || value > SEED_MAX) {
    throw new Error(`${name} needs an integer in 0..${SEED_MAX}\n${USAGE}`);
  }
  return value;
}

function stringArg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined) throw new Error(`${name} needs a value\n${USAGE}`);
  return value;
}

function membershipArg(args: string[]): MembershipMode {
  const value = stringArg(args, '--membership') ?? SWARM_MODE_DEFAULTS.membership;
  const mode = MEMBERSHIP_MODES.find((m) => m === value);
  if (mode === undefined)
    throw new Error(`--membership needs one of ${MEMBERSHIP_MODES.join(', ')}\n${USAGE}`);
  return mode;
}

function ttlArg(args: string[]): TtlMode {
  const value = stringArg(args, '--ttl') ?? SWARM_MODE_DEFAULTS.ttl;
  const mode = TTL_MODES.find((m) => m === value);
  if (mode === undefined) throw new Error(`--ttl needs one of ${TTL_MODES.join(', ')}\n${USAGE}`);
  return mode;
}

/** `--no-gossip` or `--gossip` (the default, accepted so a reproduce line always replays). */
function gossipArg(args: string[]): boolean {
  const off = args.includes('--no-gossip');
  if (off && args.includes('--gossip'))
    throw new Error(`--gossip and --no-gossip conflict\n${USAGE}`);
  return off ? false : args.includes('--gossip') || SWARM_MODE_DEFAULTS.gossip;
}

const clock = () => performance.now();

interface Modes extends SwarmModes {
  readonly livenessProbes: boolean;
}

function one(seed: number, traceKey: string | undefined, modes: Modes): number {
  const tracer =
    traceKey === undefined
      ? undefined
      : (line: string, key: string | null) => {
          if (key === null || key === traceKey) process.stdout.write(`${line}\n`);
        };
  const report = runSeed(seed, {
    clock,
    ...modes,
    keepHistory: traceKey !== undefined,
    ...(tracer ? { tracer } : {}),
  });
  if (traceKey !== undefined) {
    const mine = report
      .history!.split('\n')
      .filter((line) => line.includes(` ${JSON.stringify(traceKey)} `));
    process.stdout.write(`history of ${traceKey}:\n${mine.join('\n')}\n`);
  }
  process.stdout.write(`${formatReport(report, true)}\n`);
  return report.violations.length === 0 ? 0 : 1;
}

function progress(done: number, count: number, failing: number): void {
  const filled = Math.round((done / count) * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
  process.stderr.write(`\r[${bar}] ${done}/${count} seeds, ${failing} failing`);
}

function threadsArg(args: string[]): number {
  const i = args.indexOf('--threads');
  if (i < 0) return defaultPoolThreads();
  const value = Number(args[i + 1]);
  if (!Number.isSafeInteger(value) || value < 1 || value > POOL_THREADS_MAX) {
    throw new Error(`--threads needs an integer in 1..${POOL_THREADS_MAX}\n${USAGE}`);
  }
  return value;
}

/** Seeds run on a pool of worker threads; reports arrive in seed order, as in a serial loop. */
async function sweep(
  count: number,
  from: number,
  verbose: boolean,
  modes: Modes,
  threads: number,
): Promise<number> {
  const totals = new SweepTotals();
  const step = Math.max(1, Math.floor(count / 200));
  const tasks = Array.from({ length: count }, (_, i) => ({ seed: from + i, ...modes }));
  await mapInOrder(tasks, {
    taskModule: new URL('./sweep-task.js', import.meta.url),
    serial: runSeedTask,
    threads,
    onResult: (report, i) => {
      totals.add(report);
      if (report.violations.length > 0 || verbose) {
        process.stderr.write('\r\x1b[K');
        process.stdout.write(`${formatReport(report, verbose)}\n`);
      }
      if (i % step === 0 || i === count - 1) progress(i + 1, count, totals.failingSeeds.length);
    },
  });
  process.stderr.write('\n');
  process.stdout.write(`${totals.format()}\n`);
  return totals.failingSeeds.length === 0 ? 0 : 1;
}

async function main(args: string[]): Promise<number> {
  const seed = intArg(args, '--seed');
  const seeds = intArg(args, '--seeds');
  const modes = {
    livenessProbes: !args.includes('--no-probes'),
    membership: membershipArg(args),
    gossip: gossipArg(args),
    ttl: ttlArg(args),
  };
  if (seed !== undefined) return one(seed, stringArg(args, '--trace'), modes);
  if (seeds !== undefined)
    return sweep(
      seeds,
      intArg(args, '--from') ?? 1,
      args.includes('--verbose'),
      modes,
      threadsArg(args),
    );
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}
