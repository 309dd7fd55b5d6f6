/**
 * `ringkv advise` (the staleness advisor's table, GET /advisor) and `ringkv explain KEY` (what
 * every node holds for one key and why, GET /explain/:key), against a running cluster's HTTP
 * API at `--url`; `--json` prints the server's JSON as it is.
 */
import type { Command } from 'commander';
import type { KeyExplanation, NodeExplanation, SiblingView } from '../client/key-explain.js';
import type { AdvisorAnswer } from '../server/monitor/advisor.js';
import { addClientOptions, type ClientFlags, targetOf } from './client-options.js';
import { callApi, expectStatus, jsonOf } from './http-client.js';
import type { CliIo } from './io.js';

interface JsonFlags extends ClientFlags {
  readonly json?: boolean;
}

export function addInsightCommands(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('advise')
      .description(
        'for every R, W: P(a read t ms after an acked write sees it) and latency p99, ' +
          'from the latencies the nodes measure',
      )
      .option('--json', 'print the raw /advisor JSON'),
  ).action(async (flags: JsonFlags) => {
    const reply = await callApi(targetOf(flags), 'GET', '/advisor');
    expectStatus(reply, [200], 'advise');
    const answer = jsonOf<AdvisorAnswer>(reply);
    io.out(flags.json ? `${JSON.stringify(answer, null, 2)}\n` : `${formatAdvice(answer)}\n`);
  });
  addClientOptions(
    program
      .command('explain')
      .description("show one key's replicas, versions, hints and repairs, with a verdict")
      .argument('<key>', 'the key')
      .option('--json', 'print the raw /explain JSON'),
  ).action(async (key: string, flags: JsonFlags) => {
    const reply = await callApi(targetOf(flags), 'GET', `/explain/${encodeURIComponent(key)}`);
    expectStatus(reply, [200], 'explain');
    const explanation = jsonOf<KeyExplanation>(reply);
    io.out(
      flags.json
        ? `${JSON.stringify(explanation, null, 2)}\n`
        : `${formatExplanation(explanation)}\n`,
    );
  });
}

const percent = (p: number) => {
  if (p >= 1) return '100 %';
  const digits = p >= 0.999 ? 2 : 1;
  return `${(100 * p).toFixed(digits)} %`;
};

const ms = (x: number) => (x >= 100 ? `${x.toFixed(0)} ms` : `${Number(x.toPrecision(3))} ms`);

/** The advisor's answer as a table, the configuration in use marked with `*`. */
export function formatAdvice(answer: AdvisorAnswer): string {
  const head = [
    `N=${answer.n}, in use R=${answer.inUse.r} W=${answer.inUse.w}; ` +
      `${answer.nodesMeasured} node(s) measured; ${answer.trials} trials, seed ${answer.seed}`,
    `latencies (p50 / p99): ${(['w', 'a', 'r', 's'] as const)
      .map((c) => {
        const s = answer.classes[c];
        return `${c} ${s.p50Ms ?? '-'} / ${s.p99Ms ?? '-'} ms`;
      })
      .join(', ')}`,
  ];
  if (answer.rows === null)
    return [...head, `no advice yet: ${answer.reason ?? 'unknown'}`].join('\n');
  const tHeads = answer.tMs.map((t) => `P(t=${t}ms)`);
  const target = `t @ ${(100 * answer.targetP).toFixed(1)} %`;
  const header = ['', 'R', 'W', ...tHeads, target, 'read p99', 'write p99'];
  const body = answer.rows.map((row) => [
    row.inUse ? '*' : '',
    String(row.r),
    String(row.w),
    ...row.consistency.map(([, p]) => percent(p)),
    ms(row.tAtTargetMs),
    ms(row.readP99Ms),
    ms(row.writeP99Ms),
  ]);
  const note =
    "P(t): a read issued t ms after the write was acknowledged, coordinated outside the key's " +
    'replicas (the worst case; a read through the writing coordinator always sees it).';
  return [...head, table([header, ...body]), note].join('\n');
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** An explanation as text: the verdict first, then each node. */
export function formatExplanation(e: KeyExplanation): string {
  const lines = [
    `key ${JSON.stringify(e.key)}: partition ${e.partition}, preference list ${e.preferenceList.join(', ')}`,
  ];
  if (e.fallbacks.length > 0) {
    lines.push(`stand-ins now: ${e.fallbacks.map((f) => `${f.node} for ${f.for}`).join(', ')}`);
  }
  lines.push('', ...e.verdict.map((v) => `  ${v}`), '');
  for (const node of e.nodes) lines.push(...nodeLines(node));
  return lines.join('\n').trimEnd();
}

function nodeLines(node: NodeExplanation): string[] {
  const role = node.primary ? 'replica' : 'other';
  if (node.state !== 'up') return [`${node.node} (${role}): ${node.state}`];
  const flags = [
    node.writePending ? 'write pending' : null,
    node.coordinating ? 'coordinating an operation on it' : null,
    node.reapPending ? 'reap pending' : null,
  ].filter((x) => x !== null);
  const lines = [`${node.node} (${role})${flags.length > 0 ? `: ${flags.join(', ')}` : ''}`];
  lines.push(`  holds: ${node.siblings === null ? 'nothing' : siblingsText(node.siblings)}`);
  for (const hint of node.hints)
    lines.push(`  hint for ${hint.for}: ${siblingsText(hint.siblings)}`);
  if (node.antiEntropy.length > 0) {
    const compared = node.antiEntropy
      .map((c) => `${c.peer} ${c.msAgo} ms ago${c.differed ? ' (differed)' : ''}`)
      .join(', ');
    lines.push(`  anti-entropy compared the partition with: ${compared}`);
  }
  return lines;
}

function siblingsText(siblings: readonly SiblingView[]): string {
  return siblings
    .map((s) => {
      const what = s.tombstone
        ? 'tombstone'
        : s.text === null
          ? `${s.bytes} bytes`
          : JSON.stringify(s.text);
      const expiry =
        s.expiresAtMs === undefined ? '' : `, expires ${new Date(s.expiresAtMs).toISOString()}`;
      return `${what} (dot ${s.dot[0]}:${s.dot[1]}${expiry})`;
    })
    .join('; ');
}
