/**
 * Storage engines behind one interface (see engine.ts for the contract all of them pass).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StorageEngineName } from '../config.js';
import { isNodeIdText } from '../util/node-id.js';
import { type StorageEngine, StorageError } from './engine.js';
import { LmdbStorage } from './lmdb.js';
import { LogStorage } from './log.js';
import { isLogEngineFile } from './log-dir.js';
import { MemoryStorage } from './memory.js';

export * from './engine.js';
export { LmdbStorage, type LmdbStorageOptions } from './lmdb.js';
export { LogStorage, type LogStorageOptions } from './log.js';
export { MemoryStorage } from './memory.js';

/** Where a node keeps its data. */
export interface OpenStorageOptions {
  /** Parent directory of all nodes' directories; null keeps data in memory (not durable). */
  readonly dataDir: string | null;
  /** The node whose storage to open; its files live in `${dataDir}/${nodeId}`. */
  readonly nodeId: string;
  /** The engine of a node directory that holds no data yet. @default 'log' */
  readonly engine?: StorageEngineName;
  /** Told of trouble the engine survives (a failed log compaction), to log it. */
  readonly onWarning?: (message: string, error: unknown) => void;
}

/**
 * Opens a node's storage: MemoryStorage without a data directory; else the engine the node's
 * directory already holds (lmdb's `data.mdb`, the log's `log-*`/`snapshot-*` files), or
 * `options.engine` for a new one.
 */
export async function openStorage(options: OpenStorageOptions): Promise<StorageEngine> {
  if (options.dataDir === null) return new MemoryStorage();
  // Not `.` or `..` either: the id is used as a directory name below `dataDir`.
  if (!isNodeIdText(options.nodeId) || /^\.+$/.test(options.nodeId)) {
    throw new StorageError(
      `node id ${JSON.stringify(options.nodeId)} is not a safe directory name`,
    );
  }
  const directory = path.join(options.dataDir, options.nodeId);
  const engine = engineHeldIn(directory) ?? options.engine ?? 'log';
  if (engine === 'lmdb') return LmdbStorage.open({ path: directory });
  const { onWarning } = options;
  return LogStorage.open({
    path: directory,
    ...(onWarning === undefined
      ? {}
      : {
          onCompactionFailed: (error: unknown) =>
            onWarning('log compaction failed: the older files stay, tried again later', error),
        }),
  });
}

/** The engine whose files `directory` holds, or null when it holds none (or does not exist). */
export function engineHeldIn(directory: string): StorageEngineName | null {
  let names: string[];
  try {
    names = fs.readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StorageError(`cannot read node directory ${directory}`, { cause: error });
  }
  if (names.includes('data.mdb')) return 'lmdb';
  if (names.some(isLogEngineFile)) return 'log';
  return null;
}
