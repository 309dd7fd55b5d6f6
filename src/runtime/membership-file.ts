/**
 * Which nodes a durable cluster has, kept in `${dataDir}/membership.json` so a cluster restarted
 * as a whole starts the nodes that joined since and not those that left. The ring itself needs
 * no file: every node stores the last ring state it adopted and starts from it.
 *
 * Written atomically (a temporary file renamed over the old one) after every change to the node
 * list; read once at start. A missing file means the nodes of the configuration.
 */
import path from 'node:path';
import { ValidationError } from '../errors.js';
import { isNodeIdText } from '../util/node-id.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

export interface MembershipRecord {
  /** The nodes the cluster was first started with, in order: they define its first ring. */
  readonly initial: readonly string[];
  /** The cluster's nodes, in the order they were created. */
  readonly nodes: readonly string[];
  /** Ids that left or were removed: never given out again (their data could come back). */
  readonly removed: readonly string[];
}

const FILE_NAME = 'membership.json';

function isIds(x: unknown): x is string[] {
  return Array.isArray(x) && x.every(isNodeIdText);
}

/** The stored node list, or null when there is none yet. Throws on a damaged file. */
export function readMembership(dataDir: string): MembershipRecord | null {
  const file = path.join(dataDir, FILE_NAME);
  const parsed = readJsonFile(file);
  if (parsed === null) return null;
  const record = parsed as Partial<MembershipRecord> | null;
  if (!isIds(record?.nodes) || record.nodes.length === 0 || !isIds(record.removed)) {
    throw new ValidationError(`${file} does not list the cluster's nodes: fix or remove it`);
  }
  if (!isIds(record.initial) || record.initial.length === 0) {
    throw new ValidationError(`${file} does not list the cluster's first nodes: fix or remove it`);
  }
  return { initial: record.initial, nodes: record.nodes, removed: record.removed };
}

export function writeMembership(dataDir: string, record: MembershipRecord): void {
  writeJsonFile(path.join(dataDir, FILE_NAME), record);
}
