/**
 * The live staleness advisor: the nodes' WARS latency histograms (core/latency-meter.ts), taken
 * from a cluster snapshot and summed, fitted by the Monte-Carlo model (bench/wars-fit.ts), for
 * every (R, W) with R, W ≤ N; the configuration in use is marked. Bounded in CPU: a fixed trial
 * count, one computation at a time, and its answer served from cache for ADVISOR_CACHE_MS.
 * Deterministic for equal histograms (a fixed seed). The model reads as the cluster does: with
 * its readSpeculateMs from `/status` (targeted reads, or every replica at once for 0; 0 for a
 * node too old to report it, which had only that read path).
 */
import {
  ADVISOR_N_MAX,
  ADVISOR_T_MS,
  ADVISOR_TARGET_P,
  type AdvisorRow,
  fitWars,
  mergeLatencies,
  trialsFor,
} from '../../bench/wars-fit.js';
import {
  ADVISOR_CACHE_MS,
  ADVISOR_SAMPLES_MIN,
  ADVISOR_SEED,
  ADVISOR_TRIALS,
} from '../../config.js';
import { assert } from '../../core/assert.js';
import {
  LATENCY_CLASSES,
  type LatencyClass,
  quantileOf,
  type WarsLatencies,
} from '../../core/latency-meter.js';
import type { SnapshotTaker } from './cluster-snapshot.js';

export interface AdvisorOptions {
  /** @default ADVISOR_TRIALS */
  readonly trials: number;
  /** @default ADVISOR_SEED */
  readonly seed: number;
  /** @default ADVISOR_CACHE_MS */
  readonly cacheMs: number;
  /** @default ADVISOR_SAMPLES_MIN */
  readonly samplesMin: number;
}

export const ADVISOR_DEFAULTS: AdvisorOptions = {
  trials: ADVISOR_TRIALS,
  seed: ADVISOR_SEED,
  cacheMs: ADVISOR_CACHE_MS,
  samplesMin: ADVISOR_SAMPLES_MIN,
};

/** One measured class, summed over the nodes that answered. */
export interface ClassSummary {
  /** Decayed weight (what the fit uses) and samples since the nodes started. */
  readonly weight: number;
  readonly samples: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface AdvisorAnswer {
  /** `Date.now()` when computed. */
  readonly computedAtMs: number;
  readonly n: number;
  /** The cluster's default R and W: the row marked `inUse`. */
  readonly inUse: { readonly r: number; readonly w: number };
  /** The cluster's readSpeculateMs, which the model's reads follow (bench/wars.ts). */
  readonly readSpeculateMs: number;
  readonly topology: 'local-write';
  readonly tMs: readonly number[];
  readonly targetP: number;
  readonly trials: number;
  readonly seed: number;
  readonly halfLifeMs: number | null;
  /** Nodes whose histograms were summed. */
  readonly nodesMeasured: number;
  readonly classes: Readonly<Record<LatencyClass, ClassSummary>>;
  /** Null while there are too few samples (see `reason`). */
  readonly rows: ReadonlyArray<AdvisorRow & { readonly inUse: boolean }> | null;
  readonly reason?: string;
}

export class Advisor {
  private cached: AdvisorAnswer | null = null;
  private inFlight: Promise<AdvisorAnswer> | null = null;
  private readonly options: AdvisorOptions;

  constructor(
    private readonly snapshots: SnapshotTaker,
    options: Partial<AdvisorOptions> = {},
    private readonly nowMs: () => number = Date.now,
  ) {
    this.options = { ...ADVISOR_DEFAULTS, ...options };
    assert(this.options.trials >= 1 && this.options.trials <= 1_000_000, 'trials in 1..1e6');
    assert(this.options.cacheMs >= 0, 'cacheMs is not negative');
  }

  /** The current answer: cached if younger than cacheMs, else computed (one at a time). */
  answer(): Promise<AdvisorAnswer> {
    const cached = this.cached;
    if (cached !== null && this.nowMs() - cached.computedAtMs < this.options.cacheMs) {
      return Promise.resolve(cached);
    }
    if (this.inFlight !== null) return this.inFlight;
    const computing = this.compute().finally(() => {
      this.inFlight = null;
    });
    this.inFlight = computing;
    return computing;
  }

  private async compute(): Promise<AdvisorAnswer> {
    const snapshot = await this.snapshots.take();
    const { n, r, w } = snapshot.status.config;
    const readSpeculateMs = snapshot.status.config.readSpeculateMs ?? 0;
    const measured = [...snapshot.counters.values()]
      .map((stats) => stats?.latency ?? null)
      .filter((latency): latency is WarsLatencies => latency !== null);
    const config = { n, r, w, readSpeculateMs };
    const answer = adviseFrom(measured, config, this.options, this.nowMs());
    this.cached = answer;
    return answer;
  }
}

/** What of the cluster's configuration the advisor models. */
export interface AdvisedConfig {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly readSpeculateMs: number;
}

/** The advisor's answer for these nodes' histograms and configuration (pure but for the clock value). */
export function adviseFrom(
  measured: readonly WarsLatencies[],
  config: AdvisedConfig,
  options: AdvisorOptions,
  computedAtMs: number,
): AdvisorAnswer {
  const merged = mergeLatencies(measured);
  const classes = {} as Record<LatencyClass, ClassSummary>;
  for (const name of LATENCY_CLASSES) {
    const h = merged[name];
    const q = (p: number) => (h.weight > 0 ? Number(quantileOf(h, p).toPrecision(4)) : null);
    classes[name] = {
      weight: Number(h.weight.toFixed(1)),
      samples: h.samples,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
    };
  }
  const base = {
    computedAtMs,
    n: config.n,
    inUse: { r: config.r, w: config.w },
    readSpeculateMs: config.readSpeculateMs,
    topology: 'local-write' as const,
    tMs: ADVISOR_T_MS,
    targetP: ADVISOR_TARGET_P,
    trials: trialsFor(config.n, options.trials),
    seed: options.seed,
    halfLifeMs: measured[0]?.halfLifeMs ?? null,
    nodesMeasured: measured.length,
    classes,
  };
  const reason = notReady(measured.length, classes, config.n, options.samplesMin);
  if (reason !== null) return { ...base, rows: null, reason };
  const { n, readSpeculateMs } = config;
  const rows = fitWars(merged, { n, trials: options.trials, seed: options.seed, readSpeculateMs });
  return {
    ...base,
    rows: rows.map((row) => ({ ...row, inUse: row.r === config.r && row.w === config.w })),
  };
}

function notReady(
  nodes: number,
  classes: Readonly<Record<LatencyClass, ClassSummary>>,
  n: number,
  samplesMin: number,
): string | null {
  if (n === 1) return 'n=1: one copy per key, so every read sees every acknowledged write';
  if (n > ADVISOR_N_MAX)
    return `the advisor models n up to ${ADVISOR_N_MAX}; this cluster has n=${n}`;
  if (nodes === 0) return 'no node reported latency histograms (none answered, or none measures)';
  const thin = LATENCY_CLASSES.filter((name) => classes[name].weight < samplesMin);
  if (thin.length === 0) return null;
  const which = thin.map((name) => `${name} (${classes[name].weight})`).join(', ');
  return `too few recent samples: ${which}; need ${samplesMin} of each — send some reads and writes`;
}
