/**
 * `ringkv bench matrix`: for every (R, W) of a list, run the YCSB-style workload on a fresh
 * worker-thread cluster (matrix-run.ts) — and with `faults`, twice more with one and with two
 * nodes killed halfway — and collect the results in one JSON-able MatrixResult. Printing is in
 * matrix-table.ts, the HTML report in report-html.ts.
 */
import { availableParallelism } from 'node:os';
import type { Cluster } from '../client/types.js';
import { assert } from '../core/assert.js';
import type { NetworkDescription, NetworkPlan } from './matrix-profile.js';
import {
  type FaultScenario,
  type RunLive,
  type RunPlan,
  type RunResult,
  runOnce,
} from './matrix-run.js';
import { WORKLOADS, type WorkloadName, ZIPFIAN_THETA_DEFAULT } from './ycsb.js';

/** The (R, W) pairs run when none are given: every interesting corner for N = 3. */
export const DEFAULT_CONFIGS: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
  [1, 3],
  [3, 1],
];

export interface MatrixOptions {
  readonly nodes: number;
  readonly n: number;
  /** (R, W) pairs, each in 1..n. */
  readonly configs: ReadonlyArray<readonly [number, number]>;
  readonly workload: WorkloadName;
  readonly keys: number;
  readonly valueSizeBytes: number;
  readonly durationMs: number;
  readonly concurrency: number;
  /** Also run each configuration with one and with two nodes killed halfway. */
  readonly faults: boolean;
  readonly seed: number;
  readonly preloadMsMax: number;
  readonly warmupMs: number;
  readonly requestTimeoutMs: number;
  readonly retryAttemptsMax: number;
}

export interface MatrixResult {
  readonly kind: 'ringkv-bench-matrix';
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly host: { readonly node: string; readonly cpus: number; readonly platform: string };
  readonly nodes: number;
  readonly n: number;
  readonly workload: {
    readonly name: WorkloadName;
    readonly title: string;
    readonly readProportion: number;
  };
  readonly keyChoice: {
    readonly distribution: 'zipfian';
    readonly theta: number;
    readonly keys: number;
  };
  readonly valueSizeBytes: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly requestTimeoutMs: number;
  readonly retryAttemptsMax: number;
  readonly network: NetworkDescription;
  readonly runs: readonly RunResult[];
}

/** What the matrix reports while it runs. */
export interface MatrixProgress {
  /** Work done so far out of `total` (planned milliseconds). */
  update(done: number, detail: string): void;
  log(line: string): void;
}

export interface MatrixDeps {
  readonly network: NetworkPlan;
  readonly progress?: MatrixProgress;
  /** @default runOnce */
  readonly runOnce?: typeof runOnce;
  /** After each run: the result so far (its `runs` hold the runs finished), to save partially. */
  readonly onRun?: (partial: MatrixResult) => Promise<void>;
}

export function checkMatrixOptions(options: MatrixOptions): void {
  assert(options.configs.length > 0, 'at least one (R, W) configuration');
  for (const [r, w] of options.configs) {
    assert(r >= 1 && r <= options.n && w >= 1 && w <= options.n, `R=${r} W=${w} within 1..N`);
  }
  assert(options.n <= options.nodes, 'N does not exceed the node count');
  assert(!options.faults || options.nodes >= 3, 'fault runs kill two nodes and keep one');
}

/** The runs a matrix performs, in order. */
export function plannedRuns(options: MatrixOptions): RunPlan[] {
  const scenarios: FaultScenario[] = options.faults ? ['none', 'kill-1', 'kill-2'] : ['none'];
  return options.configs.flatMap(([r, w]) =>
    scenarios.map((scenario) => ({
      nodes: options.nodes,
      n: options.n,
      r,
      w,
      workload: WORKLOADS[options.workload],
      keys: options.keys,
      valueSizeBytes: options.valueSizeBytes,
      durationMs: options.durationMs,
      concurrency: options.concurrency,
      seed: options.seed,
      preloadMsMax: options.preloadMsMax,
      warmupMs: options.warmupMs,
      scenario,
      requestTimeoutMs: options.requestTimeoutMs,
      retryAttemptsMax: options.retryAttemptsMax,
    })),
  );
}

/** Time a cluster takes to start and stop, as the progress bar estimates it. */
const CLUSTER_START_STOP_MS = 2000;

/** Planned milliseconds of one run, for the progress bar: start, preload (estimated), loop. */
export function plannedUnits(plan: RunPlan): number {
  const preloadUnits = Math.min(plan.preloadMsMax, plan.keys / 10);
  return CLUSTER_START_STOP_MS + preloadUnits + plan.warmupMs + plan.durationMs;
}

/** How much of a run's planned units `live` has done. */
function unitsDone(plan: RunPlan, live: RunLive): number {
  if (live.phase === 'starting') return 0;
  const preloadUnits = Math.min(plan.preloadMsMax, plan.keys / 10);
  if (live.phase === 'preloading') {
    return CLUSTER_START_STOP_MS + (preloadUnits * live.preloaded) / plan.keys;
  }
  const warmed = live.phase === 'warming' ? 0 : plan.warmupMs;
  return CLUSTER_START_STOP_MS + preloadUnits + warmed + live.elapsedMs;
}

export async function runMatrix(options: MatrixOptions, deps: MatrixDeps): Promise<MatrixResult> {
  checkMatrixOptions(options);
  const startedAt = new Date().toISOString();
  const plans = plannedRuns(options);
  const run = deps.runOnce ?? runOnce;
  const runs: RunResult[] = [];
  let network = deps.network.planned;
  const applyNetwork = async (cluster: Cluster) => {
    network = await deps.network.apply(cluster);
  };
  let unitsBefore = 0;
  for (const [i, plan] of plans.entries()) {
    const label = `R=${plan.r} W=${plan.w}${plan.scenario === 'none' ? '' : ` ${plan.scenario}`}`;
    const onLive = (live: RunLive) => {
      const detail =
        `run ${i + 1}/${plans.length} ${label}: ${live.phase}` +
        (live.phase === 'preloading' ? ` ${live.preloaded} keys` : ` ${live.ops} ops`) +
        (live.failed > 0 ? `, ${live.failed} failed` : '');
      deps.progress?.update(unitsBefore + unitsDone(plan, live), detail);
    };
    const result = await run(plan, { applyNetwork, onLive });
    runs.push(result);
    unitsBefore += plannedUnits(plan);
    deps.progress?.log(
      `run ${i + 1}/${plans.length} ${label}: ${result.throughput} ops/s, ` +
        `${result.ops.failed} failed, stale ${(100 * result.staleReads.rate).toFixed(2)} %`,
    );
    await deps.onRun?.(matrixResult(options, startedAt, network, runs));
  }
  return matrixResult(options, startedAt, network, runs);
}

function matrixResult(
  options: MatrixOptions,
  startedAt: string,
  network: NetworkDescription,
  runs: readonly RunResult[],
): MatrixResult {
  const workload = WORKLOADS[options.workload];
  return {
    kind: 'ringkv-bench-matrix',
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    host: { node: process.version, cpus: availableParallelism(), platform: process.platform },
    nodes: options.nodes,
    n: options.n,
    workload: {
      name: workload.name,
      title: workload.title,
      readProportion: workload.readProportion,
    },
    keyChoice: { distribution: 'zipfian', theta: ZIPFIAN_THETA_DEFAULT, keys: options.keys },
    valueSizeBytes: options.valueSizeBytes,
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
    concurrency: options.concurrency,
    seed: options.seed,
    requestTimeoutMs: options.requestTimeoutMs,
    retryAttemptsMax: options.retryAttemptsMax,
    network,
    runs: [...runs],
  };
}
