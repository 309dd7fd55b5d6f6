/**
 * One swarm run: `runSeed(seed)` lets the seed's Prng pick a scenario, runs the workload with
 * faults for the safety phase, runs the liveness phase, and checks the history against the final
 * state. Everything but the optional wall clock is a function of the seed.
 */
import { check, type Violation } from './checker.js';
import { FaultInjector } from './faults.js';
import { runLiveness } from './liveness.js';
import { Prng } from './prng.js';
import { pickScenario, type Scenario } from './scenario.js';
import { SimBudgetError, Simulator, type Tracer } from './simulator.js';
import { Workload } from './workload.js';

export interface RunOptions {
  /** A wall clock in ms for the report (the simulation never reads it). */
  readonly clock?: () => number;
  /** Adjusts the picked scenario (tests shorten runs this way). */
  readonly tweak?: (scenario: Scenario) => Scenario;
  /** Virtual time the liveness phase may take. @default 60_000 */
  readonly livenessMsMax?: number;
  /** Read every key in the liveness phase (read repair, reaping). Off: anti-entropy alone. @default true */
  readonly livenessProbes?: boolean;
  /** Keep the serialized history in the report. @default false */
  readonly keepHistory?: boolean;
  /** Follows the run line by line (see Simulator.tracer). */
  readonly tracer?: Tracer;
}

export interface OpCounts {
  readonly ok: number;
  readonly fail: number;
  readonly unknown: number;
  readonly pending: number;
}

export interface RunReport {
  readonly seed: number;
  readonly scenario: Scenario;
  /** Client operations of the safety phase by outcome, and by kind. */
  readonly ops: OpCounts;
  readonly opsByKind: Readonly<Record<'put' | 'delete' | 'get', number>>;
  /** Fault actions by kind (crash, restart, pause, resume, partition, cut, heal). */
  readonly faults: Readonly<Record<string, number>>;
  readonly network: Readonly<{ sent: number; lost: number; duplicated: number; blocked: number }>;
  readonly violations: readonly Violation[];
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly events: number;
  readonly history?: string;
}

export const LIVENESS_MS_MAX = 60_000;

function countOps(
  sim: Simulator,
  upToOp: number,
): { ops: OpCounts; opsByKind: RunReport['opsByKind'] } {
  const ops = { ok: 0, fail: 0, unknown: 0, pending: 0 };
  const opsByKind = { put: 0, delete: 0, get: 0 };
  for (const op of sim.history.ops.slice(0, upToOp)) {
    ops[op.outcome]++;
    opsByKind[op.kind]++;
  }
  return { ops, opsByKind };
}

function simulate(
  sim: Simulator,
  scenario: Scenario,
  options: RunOptions,
): { violations: Violation[]; safetyOps: number } {
  const workload = new Workload(sim, sim.prng, scenario.workload);
  const faults = new FaultInjector(sim, sim.prng, scenario.faults);
  scenario.timerRates.forEach((rate, i) => {
    sim.node(sim.ids[i]!).timerRate = rate;
  });
  workload.start();
  faults.start();
  sim.runFor(scenario.safetyMs);
  const stop = () => {
    workload.stop();
    faults.stop();
  };
  const liveness = runLiveness(
    sim,
    stop,
    () => workload.idle,
    options.livenessMsMax ?? LIVENESS_MS_MAX,
    options.livenessProbes ?? true,
  );
  const safetyOps = sim.history.ops.filter((op) => op.client !== 'liveness').length;
  const violations: Violation[] = check({
    writes: sim.history.writes(),
    data: sim.dataSnapshot(),
    ring: sim.ring,
    n: sim.options.n,
    reaped: sim.history.reaped(),
  });
  for (const key of liveness.keysUnread) {
    violations.push({
      rule: 'liveness',
      key,
      message: `no r=N read of ${key} succeeded within the liveness budget`,
      ops: [],
    });
  }
  if (liveness.opsUnfinished > 0) {
    const message = `${liveness.opsUnfinished} client operations never finished (a hang)`;
    violations.push({ rule: 'liveness', key: '', message, ops: [] });
  }
  return { violations, safetyOps };
}

function coreFaultViolations(sim: Simulator): Violation[] {
  return sim.coreFaults.map((f) => ({
    rule: 'core-fault' as const,
    key: '',
    message: `node ${f.node} threw at ${f.atMs.toFixed(1)} ms: ${f.message}`,
    ops: [],
  }));
}

export function runSeed(seed: number, options: RunOptions = {}): RunReport {
  const wallStartMs = options.clock?.() ?? 0;
  const prng = new Prng(seed);
  const picked = pickScenario(prng);
  const scenario = options.tweak === undefined ? picked : options.tweak(picked);
  const sim = new Simulator(scenario.sim, prng);
  sim.tracer = options.tracer ?? null;
  let violations: Violation[];
  let safetyOps = sim.history.ops.length;
  try {
    ({ violations, safetyOps } = simulate(sim, scenario, options));
  } catch (error) {
    if (!(error instanceof SimBudgetError)) throw error;
    violations = [{ rule: 'liveness', key: '', message: error.message, ops: [] }];
  }
  violations = [...coreFaultViolations(sim), ...violations];
  return {
    seed,
    scenario,
    ...countOps(sim, safetyOps),
    faults: Object.fromEntries([...sim.faultCounts].sort()),
    network: { ...sim.network.stats },
    violations,
    virtualMs: sim.nowMs(),
    wallMs: (options.clock?.() ?? 0) - wallStartMs,
    events: sim.eventsRun,
    ...(options.keepHistory === true ? { history: sim.history.serialize() } : {}),
  };
}
