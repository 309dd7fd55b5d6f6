/**
 * `ringkv bench staleness`: how stale can a read be t ms after a write was acknowledged, for a
 * given N, R, W and latency profile? One entry point, three ways to answer:
 *
 * - `sim`  the WARS Monte-Carlo model (wars.ts): 100 000 trials in well under a second, either
 *          topology — `pbs` (the coordinator is not a replica; every message delayed, the
 *          model of the PBS paper and the default) or `local-write` (ringkv's own shape);
 * - `core` the real NodeCore protocol code on virtual time (staleness-core.ts), `local-write`
 *          only: the check that the model describes ringkv;
 * - `real` a worker-thread cluster with the delays injected into its transport
 *          (staleness-real.ts), `local-write` only, millisecond-scale profiles only.
 *
 * The result (staleness-result.ts) adds the closed-form k-staleness of (N, R, W).
 */
import { performance } from 'node:perf_hooks';
import type { LatencyProfile } from './profile.js';
import { runCoreStalenessPooled } from './staleness-core.js';
import { REAL_REQUEST_TIMEOUT_MS, runRealStaleness } from './staleness-real.js';
import {
  type StalenessMeasured,
  type StalenessMode,
  type StalenessResult,
  stalenessResult,
  tReaching,
} from './staleness-result.js';
import { latencySummary, roundMs } from './staleness-stats.js';
import { consistencyAt, runWars, type Topology, tAtConsistency } from './wars.js';

/** The consistency level whose t the result reports as `t999`. */
export const T999_LEVEL = 0.999;
/**
 * Core mode runs in this thread unless told otherwise: a default run (2 000 trials per t) takes
 * about a second, and two pool workers cost about as much CPU to start (measured: 40 000 trials
 * took 3.4 s of CPU serially, 4.5 s on a pool of 2). `--threads` spreads longer runs.
 */
export const CORE_THREADS_DEFAULT = 1;

export interface StalenessOptions {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly mode: StalenessMode;
  readonly topology: Topology;
  readonly profile: LatencyProfile;
  /** Shown in reports and kept in the JSON: the profile's file or name. */
  readonly profileName: string;
  readonly tMs: readonly number[];
  /** sim: trials in all; core and real: trials per t. */
  readonly trials: number;
  readonly seed: number;
  /** How a get fans out (wars.ts): 0 asks every replica, S > 0 asks R and the rest after S ms. */
  readonly readSpeculateMs: number;
  /** core and real: nodes in the cluster (≥ n + 1). @default n + 1 */
  readonly nodes?: number;
  /** core: worker threads the trials run on (1: this thread). @default CORE_THREADS_DEFAULT */
  readonly threads?: number;
  /** real: trials in flight at once. */
  readonly concurrency?: number;
  /** real: no trial starts after this much wall time. */
  readonly timeLimitMs?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** The options do not fit together (a usage error, not a failure of the run). */
export class StalenessOptionsError extends Error {
  override name = 'StalenessOptionsError';
}

/** Why these options cannot run, or null. */
export function stalenessProblem(options: StalenessOptions): string | null {
  const { n, r, w, mode, topology } = options;
  if (r > n || w > n) return `r (${r}) and w (${w}) must not exceed n (${n})`;
  if (mode !== 'sim' && topology === 'pbs') {
    return (
      `--mode ${mode} runs ringkv itself, whose put coordinator is always a replica writing its ` +
      'own copy without a message: it supports --topology local-write only (pbs is sim-only)'
    );
  }
  const nodes = options.nodes ?? n + 1;
  if (mode !== 'sim' && nodes <= n) {
    return `--nodes must be at least n + 1 = ${n + 1}: reads are coordinated outside the replica set`;
  }
  if (options.tMs.length === 0) return 'give at least one t';
  const speculateMs = options.readSpeculateMs;
  if (!Number.isInteger(speculateMs) || speculateMs < 0) {
    return `--read-speculate-ms must be a whole number of ms ≥ 0, not ${speculateMs}`;
  }
  if (mode === 'real' && speculateMs >= REAL_REQUEST_TIMEOUT_MS) {
    return (
      `--read-speculate-ms must be below real mode's request timeout (${REAL_REQUEST_TIMEOUT_MS} ` +
      'ms): a get whose speculation would come later never speculates, which the model ignores'
    );
  }
  return null;
}

export async function runStaleness(options: StalenessOptions): Promise<StalenessResult> {
  const problem = stalenessProblem(options);
  if (problem !== null) throw new StalenessOptionsError(problem);
  const started = performance.now();
  const measured = await measure(options);
  const { n, r, w, mode, topology, trials, seed, profile, profileName, readSpeculateMs } = options;
  const nodes = mode === 'sim' ? null : (options.nodes ?? n + 1);
  return stalenessResult(
    { n, r, w, mode, topology, trials, nodes, seed, profile, profileName, readSpeculateMs },
    { ...measured, elapsedMs: performance.now() - started },
  );
}

async function measure(options: StalenessOptions): Promise<Omit<StalenessMeasured, 'elapsedMs'>> {
  const { n, r, w, profile, seed, tMs, readSpeculateMs } = options;
  if (options.mode === 'sim') {
    const run = runWars({
      n,
      r,
      w,
      profile,
      topology: options.topology,
      trials: options.trials,
      seed,
      readSpeculateMs,
    });
    options.onProgress?.(options.trials, options.trials);
    return {
      consistency: tMs.map((t) => ({ t, p: consistencyAt(run, t) })),
      t999: roundMs(tAtConsistency(run, T999_LEVEL)),
      read: latencySummary(run.readLatencyMs),
      write: latencySummary(run.writeLatencyMs),
      failures: 0,
    };
  }
  const common = { n, r, w, profile, seed, tMs, trialsPerT: options.trials, readSpeculateMs };
  const nodes = options.nodes === undefined ? {} : { nodes: options.nodes };
  const run =
    options.mode === 'core'
      ? await runCoreStalenessPooled(
          { ...common, ...nodes },
          options.threads ?? CORE_THREADS_DEFAULT,
        )
      : await runRealStaleness({
          ...common,
          ...nodes,
          ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
          ...(options.timeLimitMs === undefined ? {} : { timeLimitMs: options.timeLimitMs }),
          ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        });
  if ('coreFaults' in run && run.coreFaults.length > 0) {
    throw new Error(`NodeCore failed during the run: ${run.coreFaults[0]}`);
  }
  if (run.readLatencyMs.length === 0) throw new Error('no trial finished: nothing to report');
  return {
    consistency: run.consistency,
    t999: tReaching(run.consistency, T999_LEVEL),
    read: latencySummary(run.readLatencyMs),
    write: latencySummary(run.writeLatencyMs),
    failures: run.failures,
  };
}
