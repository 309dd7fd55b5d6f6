/**
 * A durable StorageEngine on lmdb-js (LMDB): one environment per node directory holding two
 * named databases, `records` (key -> msgpack-encoded KeyRecord) and `meta` (name -> msgpack).
 *
 * Durability (node_modules/lmdb/README.md, "db.put" and "Overlapping Sync Options"; checked in
 * write.js and with strace): lmdb-js queues writes and commits them on its own write thread;
 * the promise from `put`/`batch` resolves when the transaction commits. With lmdb-js's default
 * `overlappingSync` (on for non-Windows) the fsync happens *after* the commit, so the promise may
 * resolve before the data is on disk (a separate `flushed` promise reports that). We open the
 * environment with `overlappingSync: false`, LMDB's classic mode: the commit itself calls
 * fdatasync before it returns, so `write()` resolving means the batch is durable, and a failed
 * commit rejects the promise instead of leaving a flush promise pending forever. Measured on a
 * 2-core VM this costs nothing noticeable (about 0.5 ms per single awaited write either way).
 *
 * Atomicity: each `write()` goes through one `batch()` call, whose operations lmdb-js commits in
 * one transaction (possibly together with other batches of the same event turn; LMDB commits are
 * atomic). Keys are validated and records encoded before the batch starts, so nothing can throw
 * halfway through it.
 *
 * Encoding: keys are stored as their UTF-8 bytes (`keyEncoding: 'binary'`), so LMDB's memcmp
 * order is code point order, as the contract requires. Values are packed by our own msgpackr
 * instance (`encoding: 'binary'`), without shared structures: lmdb-js's built-in msgpack would
 * add a hidden structures entry to the database and skew `count()`/`entries()`.
 */
import fs from 'node:fs';
import { type Database, open, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import type { KeyRecord, Sibling } from '../core/types.js';
import {
  type EntriesOptions,
  StorageClosedError,
  type StorageEngine,
  StorageError,
  type StorageWrite,
  storageKeyProblem,
  validateBatch,
  validateEntriesOptions,
} from './engine.js';

/** Options of `LmdbStorage.open`. */
export interface LmdbStorageOptions {
  /** Directory of this node's environment; created (with parents) when missing. */
  readonly path: string;
}

/**
 * msgpack without records/shared structures (self-describing, stable across versions), copying
 * binary values out of the source buffer because `getBinaryFast` reuses its buffer.
 */
const packr = new Packr({ useRecords: false, copyBuffers: true });

type BinaryDatabase = Database<Buffer, Buffer>;

export class LmdbStorage implements StorageEngine {
  readonly kind = 'lmdb';
  readonly durable = true;
  readonly #root: RootDatabase;
  readonly #records: BinaryDatabase;
  readonly #meta: Database<Buffer, string>;
  #closing: Promise<void> | null = null;

  private constructor(root: RootDatabase) {
    this.#root = root;
    this.#records = root.openDB<Buffer, Buffer>('records', {
      keyEncoding: 'binary',
      encoding: 'binary',
    });
    this.#meta = root.openDB<Buffer, string>('meta', { encoding: 'binary' });
  }

  /** Opens (creating when needed) the environment in directory `options.path`. */
  static async open(options: LmdbStorageOptions): Promise<LmdbStorage> {
    try {
      await fs.promises.mkdir(options.path, { recursive: true });
      const root = open({
        path: options.path,
        noSubdir: false, // a directory even when the node id contains a dot
        maxDbs: 4,
        overlappingSync: false, // commit returns only after fdatasync (see file comment)
      });
      return new LmdbStorage(root);
    } catch (error) {
      throw new StorageError(`cannot open lmdb storage at ${options.path}`, { cause: error });
    }
  }

  get(key: string): KeyRecord | undefined {
    this.#assertOpen();
    if (storageKeyProblem(key) !== null) return undefined; // never stored; lmdb would throw
    const bytes = this.#records.getBinaryFast(encodeKey(key));
    return bytes === undefined ? undefined : decodeRecord(bytes, key);
  }

  async write(batch: readonly StorageWrite[]): Promise<void> {
    this.#assertOpen();
    validateBatch(batch);
    const changes = batch.map((change) => ({
      key: encodeKey(change.key),
      value: change.record === null ? null : encodeRecord(change.record, change.key),
    }));
    await this.#commit(() => {
      for (const change of changes) {
        if (change.value === null) this.#records.remove(change.key);
        else this.#records.put(change.key, change.value);
      }
    });
  }

  entries(options: EntriesOptions = {}): Iterable<[string, KeyRecord]> {
    this.#assertOpen();
    validateEntriesOptions(options);
    if (options.limit === 0) return [];
    return this.#iterate(options);
  }

  count(): number {
    this.#assertOpen();
    const stats = this.#records.getStats() as { entryCount?: unknown };
    if (typeof stats.entryCount !== 'number') throw new StorageError('lmdb reported no entryCount');
    return stats.entryCount;
  }

  getMeta(name: string): unknown {
    this.#assertOpen();
    const bytes = this.#meta.getBinaryFast(name);
    return bytes === undefined ? undefined : packr.unpack(bytes);
  }

  async putMeta(name: string, value: unknown): Promise<void> {
    this.#assertOpen();
    const encoded = value === undefined ? null : encodeValue(value, `meta ${name}`);
    await this.#commit(() => {
      if (encoded === null) this.#meta.remove(name);
      else this.#meta.put(name, encoded);
    });
  }

  close(): Promise<void> {
    // lmdb-js's close waits for queued transactions, so pending write() promises still settle.
    this.#closing ??= this.#root.close().catch((error: unknown) => {
      throw new StorageError('closing lmdb storage failed', { cause: error });
    });
    return this.#closing;
  }

  /** Runs `operations` in one lmdb batch (one transaction); resolves once committed durably. */
  async #commit(operations: () => void): Promise<void> {
    try {
      await this.#root.batch(operations);
    } catch (error) {
      throw new StorageError('lmdb commit failed', { cause: error });
    }
  }

  *#iterate(options: EntriesOptions): Generator<[string, KeyRecord]> {
    const { startKey } = options;
    const range = this.#records.getRange({
      ...(startKey === undefined || startKey === '' ? {} : { start: encodeKey(startKey) }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    const iterator = range[Symbol.iterator]();
    let done = false;
    try {
      while (!done) {
        // Checked before every step: touching a cursor of a closed environment is unsafe.
        this.#assertOpen();
        const step = iterator.next();
        done = step.done === true;
        if (!done) {
          const key = decodeKey(step.value.key);
          yield [key, decodeRecord(step.value.value, key)];
        }
      }
    } finally {
      if (!done && this.#closing === null) iterator.return?.();
    }
  }

  #assertOpen(): void {
    if (this.#closing !== null) throw new StorageClosedError(this.kind);
  }
}

function encodeKey(key: string): Buffer {
  return Buffer.from(key, 'utf8');
}

function decodeKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function encodeRecord(record: KeyRecord, key: string): Buffer {
  if (!Array.isArray(record?.siblings)) {
    throw new StorageError(`record for key ${JSON.stringify(key)} has no siblings array`);
  }
  return encodeValue(record, `key ${JSON.stringify(key)}`);
}

function encodeValue(value: unknown, what: string): Buffer {
  try {
    return packr.pack(value);
  } catch (error) {
    throw new StorageError(`cannot encode ${what}`, { cause: error });
  }
}

/**
 * Unpacks a stored record, rebuilding siblings so every value is a plain Uint8Array (msgpackr
 * hands out Node Buffers) and a tombstone stays `null`.
 */
function decodeRecord(bytes: Uint8Array, key: string): KeyRecord {
  const raw = packr.unpack(bytes) as { siblings?: unknown };
  if (!Array.isArray(raw?.siblings)) {
    throw new StorageError(`stored record for key ${JSON.stringify(key)} is corrupt`);
  }
  const siblings = (raw.siblings as Sibling[]).map((sibling) => ({
    dot: sibling.dot,
    past: sibling.past,
    value: sibling.value === null ? null : plainBytes(sibling.value),
  }));
  return { siblings };
}

function plainBytes(value: Uint8Array): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new StorageError('stored sibling value is not binary');
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}
