/**
 * The files of a log engine's directory (log.ts) and what a crash can leave there.
 *
 * Generation g has a log file `log-g` (appended batches) and, once compaction finished it, a
 * snapshot file `snapshot-g` holding every record and meta value as of some moment after `log-g`
 * was started. The state is always: the newest snapshot (or nothing), then every log of that
 * generation or later, replayed in order. A snapshot is written as `snapshot-g.tmp` and renamed
 * when complete, so a crash during compaction leaves a `.tmp` to delete and an older snapshot
 * plus its logs that still hold everything.
 */
import fs from 'node:fs';
import path from 'node:path';

const LOG_FILE = /^log-(\d{8})$/;
const SNAPSHOT_FILE = /^snapshot-(\d{8})$/;
const TEMPORARY_FILE = /^snapshot-\d{8}\.tmp$/;

/** Whether `name` is a log or snapshot file of this engine (how a node directory is recognised). */
export function isLogEngineFile(name: string): boolean {
  return LOG_FILE.test(name) || SNAPSHOT_FILE.test(name);
}

/** Highest generation the 8-digit file names can hold. */
export const GENERATION_MAX = 99_999_999;

export function logFileName(generation: number): string {
  return `log-${pad(generation)}`;
}

export function snapshotFileName(generation: number): string {
  return `snapshot-${pad(generation)}`;
}

export function temporarySnapshotName(generation: number): string {
  return `${snapshotFileName(generation)}.tmp`;
}

function pad(generation: number): string {
  if (!Number.isInteger(generation) || generation < 1 || generation > GENERATION_MAX) {
    throw new RangeError(`log generation ${generation} is out of range`);
  }
  return String(generation).padStart(8, '0');
}

/** What a directory holds, sorted out. */
export interface LogDirectory {
  /** Generation of the newest complete snapshot, or 0 when there is none. */
  readonly snapshot: number;
  /** Generations of the logs to replay after the snapshot, ascending (all ≥ `snapshot`). */
  readonly logs: readonly number[];
  /** Files a finished compaction or a crash left behind: older snapshots and logs, `.tmp`s. */
  readonly obsolete: readonly string[];
}

/** Reads the directory's file names and sorts them into state and leftovers. */
export function scanLogDirectory(directory: string): LogDirectory {
  const names = fs.readdirSync(directory);
  const snapshots = generations(names, SNAPSHOT_FILE);
  const snapshot = snapshots.at(-1) ?? 0;
  const allLogs = generations(names, LOG_FILE);
  const obsolete = [
    ...names.filter((name) => TEMPORARY_FILE.test(name)),
    ...snapshots.filter((g) => g < snapshot).map(snapshotFileName),
    ...allLogs.filter((g) => g < snapshot).map(logFileName),
  ];
  return { snapshot, logs: allLogs.filter((g) => g >= snapshot), obsolete };
}

function generations(names: readonly string[], pattern: RegExp): number[] {
  return names
    .map((name) => pattern.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Deletes what a finished compaction or a crash left behind (older snapshots and logs, `.tmp`
 * files) and says what remains.
 */
export async function removeObsoleteFiles(directory: string): Promise<LogDirectory> {
  const found = scanLogDirectory(directory);
  for (const name of found.obsolete) {
    await fs.promises.rm(filePath(directory, name), { force: true });
  }
  return found;
}

/** Makes the directory's entries (a created, renamed or removed file) durable. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.promises.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function filePath(directory: string, name: string): string {
  return path.join(directory, name);
}
