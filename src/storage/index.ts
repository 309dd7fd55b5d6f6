/**
 * Storage engines behind one interface (see engine.ts for the contract all of them pass).
 */
import path from 'node:path';
import { isNodeIdText } from '../util/node-id.js';
import { type StorageEngine, StorageError } from './engine.js';
import { LmdbStorage } from './lmdb.js';
import { MemoryStorage } from './memory.js';

export * from './engine.js';
export { LmdbStorage, type LmdbStorageOptions } from './lmdb.js';
export { MemoryStorage } from './memory.js';

/** Where a node keeps its data. */
export interface OpenStorageOptions {
  /** Parent directory of all nodes' environments; null keeps data in memory (not durable). */
  readonly dataDir: string | null;
  /** The node whose storage to open; its environment lives in `${dataDir}/${nodeId}`. */
  readonly nodeId: string;
}

/** Opens a node's storage: MemoryStorage without a data directory, else LmdbStorage. */
export async function openStorage(options: OpenStorageOptions): Promise<StorageEngine> {
  if (options.dataDir === null) return new MemoryStorage();
  // Not `.` or `..` either: the id is used as a directory name below `dataDir`.
  if (!isNodeIdText(options.nodeId) || /^\.+$/.test(options.nodeId)) {
    throw new StorageError(
      `node id ${JSON.stringify(options.nodeId)} is not a safe directory name`,
    );
  }
  return LmdbStorage.open({ path: path.join(options.dataDir, options.nodeId) });
}
