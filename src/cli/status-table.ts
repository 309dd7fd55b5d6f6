/**
 * `ringkv status` as text: one row per node (state, with `joining` or `leaving` while a
 * membership change runs, partitions, keys, hints pending, anti-entropy, partition group,
 * messages dropped; with node processes, each one's own URL and pid), then the network faults,
 * ring version, quorum and storage.
 */
import type { ClusterStatus, NetworkStatus, NodeStatus } from '../client/types.js';
import { formatRate } from './units.js';

const HEADERS = [
  'node',
  'state',
  'partitions',
  'keys',
  'hints pending',
  'anti-entropy',
  'group',
  'dropped',
];

export function formatStatus(status: ClusterStatus): string {
  const processes = status.nodes.some(
    (node) => node.process !== undefined && node.process !== null,
  );
  const rows = status.nodes.map((node) => [
    node.id,
    node.membership === undefined || node.membership === 'member'
      ? node.state
      : `${node.state} (${node.membership})`,
    String(node.partitions),
    orDash(node.keys),
    orDash(node.hintsPending),
    antiEntropy(node.antiEntropy),
    orDash(node.partitionGroup),
    orDash(node.messagesDropped),
    ...(processes ? [node.process ? `${node.process.url} (pid ${node.process.pid})` : '-'] : []),
  ]);
  const { n, r, w, durable, engine } = status.config;
  return [
    ...table([processes ? [...HEADERS, 'process'] : HEADERS, ...rows]),
    '',
    `network  ${formatNetwork(status.network)}`,
    `ring     version ${status.ring.version ?? 0}, ${status.ring.partitionCount} partitions`,
    `quorum   N=${n} R=${r} W=${w}`,
    `storage  ${durable ? `durable${engine === undefined ? '' : ` (${engine})`}` : 'in memory'}`,
  ].join('\n');
}

/** One line: the partition, if any, and delay, jitter and loss. */
export function formatNetwork(network: NetworkStatus): string {
  const groups =
    network.groups === null
      ? 'no partition'
      : `partitioned ${network.groups.map((group) => `[${group.join(' ')}]`).join(' | ')}`;
  return `${groups}; delay ${network.delayMs} ms, jitter ${network.jitterMs} ms, loss ${formatRate(network.lossRate)}`;
}

/** "12 keys / 40 exchanges (38 in sync)": what anti-entropy repaired, and how often it looked. */
function antiEntropy(ae: NodeStatus['antiEntropy']): string {
  if (ae === undefined || ae === null) return '-';
  return `${ae.keysRepaired} keys / ${ae.exchanges} exchanges (${ae.inSync} in sync)`;
}

function orDash(value: number | null): string {
  return value === null ? '-' : String(value);
}

/** Left-aligned columns, two spaces apart. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}
