/**
 * The text report of one staleness run, as `ringkv bench staleness` prints it:
 *
 *   N=3 R=1 W=1  mode sim, topology pbs, read speculate 20 ms, 100000 trials, seed 1, profile lan-ssd
 *     t ms   P(consistent)
 *        0   0.812340
 *      …
 *   t for 99.9%: 1.93 ms
 *   latency ms    p50     p99   p99.9    mean
 *   read        0.412   1.870   3.100   0.500
 *   write       …
 *   k-staleness (closed form)  k=1 0.333333  k=2 0.555556 …
 */
import { describeProfile } from './profile.js';
import type { StalenessResult } from './staleness-result.js';
import type { LatencySummary } from './staleness-stats.js';

/** Formats a probability with 6 decimals, never rounding a value below 1 up to 1. */
export function formatP(p: number): string {
  if (p < 1 && p > 0.9999995) return '0.999999';
  return p.toFixed(6);
}

function ms(value: number): string {
  if (value >= 1000) return value.toFixed(0);
  if (value >= 100) return value.toFixed(1);
  return value.toFixed(value >= 10 ? 2 : 3);
}

function latencyRow(name: string, summary: LatencySummary): string {
  const cells = [summary.p50, summary.p99, summary.p999, summary.mean].map((v) =>
    ms(v).padStart(9),
  );
  return `  ${name.padEnd(10)}${cells.join('')}`;
}

function header(result: StalenessResult): string {
  const { n, r, w, mode, topology, trials, seed } = result;
  const per = mode === 'sim' ? 'trials' : 'trials per t';
  const nodes = result.nodes === null ? '' : `, ${result.nodes} nodes`;
  const quorum = r + w > n ? 'R+W>N' : 'R+W<=N';
  return (
    `N=${n} R=${r} W=${w} (${quorum})  mode ${mode}, topology ${topology}, ` +
    `read speculate ${result.readSpeculateMs} ms${nodes}, ` +
    `${trials} ${per}, seed ${seed}, profile ${result.profile.name}`
  );
}

export function formatStaleness(result: StalenessResult): string {
  const lines = [header(result)];
  for (const line of describeProfile(result.profile)) lines.push(`  ${line}`);
  const real = result.mode === 'real';
  const counted = result.mode !== 'sim';
  lines.push(
    `  ${'t ms'.padStart(8)}  P(consistent)${counted ? '   trials' : ''}${real ? '  t actual ms' : ''}`,
  );
  for (const point of result.consistency) {
    let row = `  ${String(point.t).padStart(8)}  ${formatP(point.p).padStart(13)}`;
    if (counted) row += String(point.trials ?? '').padStart(9);
    if (real) row += ms(point.tActualMs ?? 0).padStart(13);
    lines.push(row);
  }
  const t999 =
    result.t999 === null
      ? 'not reached at any measured t'
      : `${result.t999} ms${result.mode === 'sim' ? '' : ' (smallest measured t)'}`;
  lines.push(`  t for P >= 99.9%: ${t999}`);
  const heads = ['p50', 'p99', 'p99.9', 'mean'].map((h) => h.padStart(9)).join('');
  lines.push(`  ${'latency ms'.padEnd(10)}${heads}`);
  lines.push(latencyRow('read', result.latency.read));
  lines.push(latencyRow('write', result.latency.write));
  const ks = result.kStaleness.map(({ k, p }) => `k=${k} ${formatP(p)}`).join('  ');
  lines.push(`  k-staleness (closed form, P(one of the last k versions)): ${ks}`);
  if (result.failures > 0) lines.push(`  failed trials (not counted): ${result.failures}`);
  lines.push(`  elapsed ${(result.elapsedMs / 1000).toFixed(2)} s`);
  return `${lines.join('\n')}\n`;
}
