/**
 * Text forms of run reports for the CLI and test failure messages, and the running totals of a
 * sweep over many seeds. Pure: the caller prints.
 */

import { describeDist } from '../util/distributions.js';
import {
  type ChangeReport,
  type RunReport,
  SWARM_MODE_DEFAULTS,
  type SwarmModes,
} from './swarm.js';
import type { TtlPlan } from './ttl-plan.js';

/** Violations listed per run in a report; the rest are counted. */
const VIOLATIONS_LISTED_MAX = 20;

/** The command that replays a run: the seed, and every mode that differs from the default. */
export function reproduceLine(seed: number, modes: SwarmModes = SWARM_MODE_DEFAULTS): string {
  const membership =
    modes.membership === SWARM_MODE_DEFAULTS.membership ? '' : ` --membership ${modes.membership}`;
  const gossip =
    modes.gossip === SWARM_MODE_DEFAULTS.gossip ? '' : modes.gossip ? ' --gossip' : ' --no-gossip';
  const ttlMode = modes.ttl ?? SWARM_MODE_DEFAULTS.ttl;
  const ttl = ttlMode === SWARM_MODE_DEFAULTS.ttl ? '' : ` --ttl ${ttlMode}`;
  return `reproduce with: npm run sim -- --seed ${seed}${membership}${gossip}${ttl}`;
}

function pairs(record: object): string {
  const entries = Object.entries(record as Record<string, number>).filter(([, count]) => count > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ${v}`).join(', ');
}

export function describeParameters(report: RunReport): string[] {
  const { sim, workload, faults, timerRates, safetyMs } = report.scenario;
  const skewed = timerRates.some((rate) => rate !== 1);
  const kinds = ['crashes', 'partitions', 'pauses'].filter((k) => faults[k as 'crashes']);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `cluster: ${sim.nodes} nodes, N=${sim.n} R=${sim.r} W=${sim.w} (R+W${sim.r + sim.w > sim.n ? '>' : '<='}N), ${sim.partitionCount} partitions`,
    `workload: ${workload.clients} clients, ${workload.keys.length} keys, think ${describeDist(workload.thinkTime)}, hot key ${pct(workload.hotKeyRate)}`,
    `network: latency ${describeDist(sim.network.latency)}, loss ${pct(sim.network.lossRate)}, duplication ${pct(sim.network.duplicateRate)}`,
    `disk ${describeDist(sim.diskLatency)}, failure detection ${describeDist(sim.detectionDelay)}${report.gossip ? ' and SWIM gossip' : ''}, timeout ${sim.requestTimeoutMs}+${sim.clientTimeoutSlackMs}ms`,
    `faults: ${kinds.length === 0 ? 'none' : kinds.join(', ')} every ${describeDist(faults.intervalMs)}, at most ${faults.downMax} down, ${faults.wipesMax ?? 0} disk wipes; clock skew ${skewed ? 'on' : 'off'}`,
    `limits: tick every ${sim.tunables.limits.tickIntervalMs}ms, tombstone grace ${sim.tunables.limits.tombstoneGraceMs}ms, in-flight max ${sim.tunables.limits.inFlightMax}, read speculation ${sim.tunables.limits.readSpeculateMs}ms; safety phase ${safetyMs}ms`,
    ...(report.change === undefined ? [] : [describeChange(report.change)]),
    ...(report.scenario.ttl === undefined ? [] : [describeTtl(report.scenario.ttl)]),
  ];
}

function describeTtl(plan: TtlPlan): string {
  const offsets = plan.clockOffsetsMs.map((ms) => `${ms}`).join(', ');
  return `ttl: ${(plan.putRate * 100).toFixed(0)}% of puts, ${plan.ttlMsMin}..${plan.ttlMsMax}ms; wall clock offsets [${offsets}]ms`;
}

function describeChange(change: ChangeReport): string {
  const accepted =
    change.acceptedAtMs === null
      ? 'never accepted'
      : `accepted at ${change.acceptedAtMs.toFixed(0)}ms`;
  const refused = pairs(change.refusals);
  return `membership: ${change.kind} ${change.node ?? '(not started)'} at ${change.plannedAtMs}ms, ${accepted} after ${change.attempts} attempt(s), refusals: ${refused}`;
}

/** A run's summary; `verbose` adds the scenario parameters. */
export function formatReport(report: RunReport, verbose: boolean): string {
  const lines = [
    `seed ${report.seed}: ${report.violations.length === 0 ? 'ok' : `${report.violations.length} violation(s)`}`,
  ];
  if (verbose) lines.push(...describeParameters(report).map((line) => `  ${line}`));
  lines.push(`  ops: ${pairs(report.ops)} (${pairs(report.opsByKind)})`);
  lines.push(`  faults: ${pairs(report.faults)}; messages: ${pairs(report.network)}`);
  const wall = report.wallMs > 0 ? `, wall ${report.wallMs.toFixed(0)}ms` : '';
  lines.push(`  virtual ${(report.virtualMs / 1000).toFixed(1)}s, ${report.events} events${wall}`);
  for (const v of report.violations.slice(0, VIOLATIONS_LISTED_MAX)) {
    lines.push(`  [${v.rule}]${v.key === '' ? '' : ` key ${JSON.stringify(v.key)}`}: ${v.message}`);
  }
  const rest = report.violations.length - VIOLATIONS_LISTED_MAX;
  if (rest > 0) lines.push(`  … and ${rest} more`);
  if (report.violations.length > 0) lines.push(`  ${reproduceLine(report.seed, report)}`);
  return lines.join('\n');
}

/** Running totals of a sweep. */
export class SweepTotals {
  runs = 0;
  opsChecked = 0;
  faults = 0;
  violations = 0;
  wallMs = 0;
  readonly failingSeeds: number[] = [];
  private modes: SwarmModes = SWARM_MODE_DEFAULTS;
  readonly byRule = new Map<string, number>();

  add(report: RunReport): void {
    this.runs++;
    this.opsChecked += report.ops.ok + report.ops.fail + report.ops.unknown + report.ops.pending;
    this.faults += Object.values(report.faults).reduce((sum, n) => sum + n, 0);
    this.wallMs += report.wallMs;
    this.modes = { membership: report.membership, gossip: report.gossip, ttl: report.ttl };
    if (report.violations.length === 0) return;
    this.violations += report.violations.length;
    this.failingSeeds.push(report.seed);
    for (const v of report.violations) this.byRule.set(v.rule, (this.byRule.get(v.rule) ?? 0) + 1);
  }

  format(): string {
    const speed = this.wallMs > 0 ? Math.round((this.opsChecked / this.wallMs) * 1000) : 0;
    const lines = [
      `runs: ${this.runs}, faults injected: ${this.faults}, operations checked: ${this.opsChecked}`,
      `violations: ${this.violations} in ${this.failingSeeds.length} run(s)${this.byRule.size > 0 ? ` (${[...this.byRule].map(([r, n]) => `${r} ${n}`).join(', ')})` : ''}`,
      `sim speed: ${speed} simulated client ops per wall second (${(this.wallMs / 1000).toFixed(1)}s of runs)`,
    ];
    for (const seed of this.failingSeeds.slice(0, VIOLATIONS_LISTED_MAX))
      lines.push(reproduceLine(seed, this.modes));
    return lines.join('\n');
  }
}
