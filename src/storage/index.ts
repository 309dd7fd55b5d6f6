/**
 * Storage engines behind one interface (see engine.ts for the contract all of them pass).
 */
import path from 'node:path';
import { type StorageEngine, StorageError } from './engine.js';
import { LmdbStorage } from './lmdb.js';
import { MemoryStorage } from './memory.js';

export * from './engine.js';
export { LmdbStorage, type LmdbStorageOptions } from './lmdb.js';
export { MemoryStorage } from './memory.js';

/** Node ids used as directory names: no separators, so a node cannot escape `dataDir`. */
const SAFE_NODE_ID = /^[A-Za-z0-9._-]{1,128}$/;

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
  if (!SAFE_NODE_ID.test(options.nodeId) || /^\.+$/.test(options.nodeId)) {
    throw new StorageError(
      `node id ${JSON.stringify(options.nodeId)} is not a safe directory name`,
    );
  }
  return LmdbStorage.open({ path: path.join(options.dataDir, options.nodeId) });
}
