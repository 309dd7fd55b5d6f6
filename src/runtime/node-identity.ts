/**
 * Who a node process is, kept in `${dataDir}/node.json`: its id, cluster name, addresses and the
 * initial cluster its first ring was made from. Written on first start; on a restart the stored
 * identity must match the command's (same id, cluster name and initial node ids, or the ring and
 * the data would belong to another node), while a changed address is taken and written back.
 * Written atomically (temporary file renamed over the old one).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import type { PeerAddress } from '../transport/tcp.js';
import { isNodeIdText } from '../util/node-id.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

export const IDENTITY_FILE = 'node.json';
const IDENTITY_VERSION = 1;

export interface NodeIdentity {
  readonly id: string;
  readonly clusterName: string;
  /** Where the node listens for peers, and the address peers are told to dial. */
  readonly listen: string;
  readonly advertise: string;
  /** id → HOST:PORT of every node the cluster was first formed from (this one included). */
  readonly initialCluster: Readonly<Record<string, string>>;
  /** The member a node started with --join asked (empty initialCluster then). */
  readonly join?: string;
}

/** `HOST:PORT` (IPv6 as `[::1]:PORT`); port 0 only where `portZeroOk`. */
export function parseHostPort(text: string, what: string, portZeroOk = false): PeerAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  const low = portZeroOk ? 0 : 1;
  if (match === null || host === undefined || !(port >= low && port <= 65_535)) {
    throw new ValidationError(
      `${what} must be HOST:PORT with a port in ${low}..65535, got ${JSON.stringify(text)}`,
    );
  }
  if (match[1] !== undefined && isIP(host) !== 6) {
    throw new ValidationError(
      `${what}: ${JSON.stringify(host)} in brackets is not an IPv6 address`,
    );
  }
  return { host, port };
}

export function formatHostPort(address: PeerAddress): string {
  return isIP(address.host) === 6
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/**
 * `n1=HOST:PORT,n2=HOST:PORT,…` (etcd's --initial-cluster). Ids must be valid and distinct;
 * the map keeps the order given.
 */
export function parseInitialCluster(text: string): Map<string, PeerAddress> {
  const members = new Map<string, PeerAddress>();
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    const id = item.slice(0, eq).trim();
    if (eq < 0 || !isNodeIdText(id)) {
      throw new ValidationError(
        `--initial-cluster entries are id=HOST:PORT separated by commas, got ${JSON.stringify(item)}`,
      );
    }
    if (members.has(id)) throw new ValidationError(`--initial-cluster names ${id} twice`);
    members.set(id, parseHostPort(item.slice(eq + 1), `--initial-cluster address of ${id}`));
  }
  return members;
}

/**
 * Reads `node.json` and checks it against `wanted`; writes `wanted` when there was none or an
 * address changed. Returns what changed (for the log). Throws a ValidationError when the data
 * dir belongs to another node or cluster.
 */
export function claimIdentity(
  dataDir: string,
  wanted: NodeIdentity,
): { changed: string[]; created: boolean } {
  const file = path.join(dataDir, IDENTITY_FILE);
  const stored = readIdentity(file);
  if (stored === null) {
    writeIdentity(file, wanted);
    return { changed: [], created: true };
  }
  if (stored.id !== wanted.id) {
    throw new ValidationError(
      `${dataDir} holds node ${stored.id} (${file}), not ${wanted.id}: start it with ` +
        `--id ${stored.id}, or give ${wanted.id} its own --data-dir`,
    );
  }
  if (stored.clusterName !== wanted.clusterName) {
    throw new ValidationError(
      `${dataDir} belongs to cluster ${JSON.stringify(stored.clusterName)} (${file}), ` +
        `not ${JSON.stringify(wanted.clusterName)}: pass --cluster-name ${stored.clusterName}`,
    );
  }
  checkSameStart(dataDir, file, stored, wanted);
  const storedIds = Object.keys(stored.initialCluster).sort().join(',');
  const wantedIds = Object.keys(wanted.initialCluster).sort().join(',');
  if (storedIds !== wantedIds) {
    throw new ValidationError(
      `${dataDir} was formed with --initial-cluster ids ${storedIds} (${file}), now ${wantedIds}: ` +
        'the first ring would differ; use the same ids (addresses may change)',
    );
  }
  const changed = changedFields(stored, wanted);
  if (changed.length > 0) writeIdentity(file, wanted);
  return { changed, created: false };
}

/** A node formed with --initial-cluster restarts with it; one that joined restarts with --join. */
function checkSameStart(dataDir: string, file: string, stored: NodeIdentity, wanted: NodeIdentity) {
  const joined = stored.join !== undefined;
  if (joined === (wanted.join !== undefined)) return;
  throw new ValidationError(
    joined
      ? `${dataDir} holds a node that joined with --join ${stored.join} (${file}): restart it with --join, not --initial-cluster`
      : `${dataDir} holds a node formed with --initial-cluster (${file}): restart it with the same --initial-cluster, not --join`,
  );
}

function changedFields(stored: NodeIdentity, wanted: NodeIdentity): string[] {
  const changed: string[] = [];
  if (stored.listen !== wanted.listen) changed.push(`listen ${stored.listen} -> ${wanted.listen}`);
  if (stored.advertise !== wanted.advertise) {
    changed.push(`advertise ${stored.advertise} -> ${wanted.advertise}`);
  }
  if (stored.join !== wanted.join) changed.push(`join ${stored.join} -> ${wanted.join}`);
  for (const [id, address] of Object.entries(wanted.initialCluster)) {
    const before = stored.initialCluster[id];
    if (before !== address) changed.push(`${id} ${before} -> ${address}`);
  }
  return changed;
}

function readIdentity(file: string): NodeIdentity | null {
  const parsed = readJsonFile(file);
  if (parsed === null) return null;
  const record = parsed as Partial<NodeIdentity & { version: number }> | null;
  const members = record?.initialCluster;
  const valid =
    record?.version === IDENTITY_VERSION &&
    isNodeIdText(record.id) &&
    typeof record.clusterName === 'string' &&
    typeof record.listen === 'string' &&
    typeof record.advertise === 'string' &&
    (record.join === undefined || typeof record.join === 'string') &&
    typeof members === 'object' &&
    members !== null &&
    Object.entries(members).every(([id, a]) => isNodeIdText(id) && typeof a === 'string');
  if (!valid) throw new ValidationError(`${file} is not a ringkv node identity: fix or remove it`);
  return record as NodeIdentity;
}

function writeIdentity(file: string, identity: NodeIdentity): void {
  writeJsonFile(file, { version: IDENTITY_VERSION, ...identity });
}
