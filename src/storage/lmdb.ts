/**
 * A durable StorageEngine on lmdb-js (LMDB): one environment per node directory holding three
 * named databases, `records` (the `data` namespace: key -> msgpack-encoded KeyRecord), `hints`
 * (the `hints` namespace, same encoding) and `meta` (name -> msgpack).
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
 * atomic), whichever of the three databases they touch; they run in batch order. Keys, names
 * and namespaces are validated and records and meta values encoded before the batch starts, so
 * nothing can throw halfway through it. `putMeta` is a one-change `write`.
 *
 * Encoding: keys are stored as their UTF-8 bytes (`keyEncoding: 'binary'`), so LMDB's memcmp
 * order is code point order, as the contract requires; U+0000 (the separator in hint keys) is
 * the byte 0x00, which LMDB stores like any other byte. Values are packed by our own msgpackr
 * instance (`encoding: 'binary'`), without shared structures: lmdb-js's built-in msgpack would
 * add a hidden structures entry to the database and skew `count()`/`entries()`.
 */
import fs from 'node:fs';
import { type Database, open, type RootDatabase } from 'lmdb';
import type { KeyRecord, Namespace, PersistWrite } from '../core/types.js';
import {
  type EntriesOptions,
  StorageClosedError,
  type StorageEngine,
  StorageError,
  storageKeyProblem,
  validateBatch,
  validateEntriesOptions,
} from './engine.js';
import { decodeRecord, encodeRecord, encodeValue, packr } from './record-codec.js';

/** Options of `LmdbStorage.open`. */
export interface LmdbStorageOptions {
  /** Directory of this node's environment; created (with parents) when missing. */
  readonly path: string;
}

type BinaryDatabase = Database<Buffer, Buffer>;
type MetaDatabase = Database<Buffer, string>;

/** One change of a batch, validated and encoded; `value` null removes. */
type PreparedChange =
  | { readonly db: BinaryDatabase; readonly key: Buffer; readonly value: Buffer | null }
  | { readonly db: null; readonly key: string; readonly value: Buffer | null };

export class LmdbStorage implements StorageEngine {
  readonly kind = 'lmdb';
  readonly durable = true;
  readonly #root: RootDatabase;
  readonly #records: BinaryDatabase;
  readonly #hints: BinaryDatabase;
  readonly #meta: MetaDatabase;
  #closing: Promise<void> | null = null;

  private constructor(root: RootDatabase) {
    this.#root = root;
    this.#records = root.openDB<Buffer, Buffer>('records', {
      keyEncoding: 'binary',
      encoding: 'binary',
    });
    this.#hints = root.openDB<Buffer, Buffer>('hints', {
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

  get(key: string, ns: Namespace = 'data'): KeyRecord | undefined {
    this.#assertOpen();
    const db = this.#db(ns);
    if (storageKeyProblem(key) !== null) return undefined; // never stored; lmdb would throw
    const bytes = db.getBinaryFast(encodeKey(key));
    return bytes === undefined ? undefined : decodeRecord(bytes, key);
  }

  async write(batch: readonly PersistWrite[]): Promise<void> {
    this.#assertOpen();
    validateBatch(batch);
    const changes = batch.map((change): PreparedChange => {
      if (change.ns === 'meta') {
        const { name, value } = change;
        return {
          db: null, // the meta database
          key: name,
          value: value === undefined ? null : encodeValue(value, `meta ${JSON.stringify(name)}`),
        };
      }
      return {
        db: this.#db(change.ns),
        key: encodeKey(change.key),
        value: change.record === null ? null : encodeRecord(change.record, change.key),
      };
    });
    await this.#commit(() => {
      for (const change of changes) {
        if (change.db === null) {
          if (change.value === null) this.#meta.remove(change.key);
          else this.#meta.put(change.key, change.value);
        } else if (change.value === null) change.db.remove(change.key);
        else change.db.put(change.key, change.value);
      }
    });
  }

  entries(options: EntriesOptions = {}): Iterable<[string, KeyRecord]> {
    this.#assertOpen();
    validateEntriesOptions(options);
    const db = this.#db(options.ns ?? 'data');
    if (options.limit === 0) return [];
    return this.#iterate(db, options);
  }

  count(ns: Namespace = 'data'): number {
    this.#assertOpen();
    const stats = this.#db(ns).getStats() as { entryCount?: unknown };
    if (typeof stats.entryCount !== 'number') throw new StorageError('lmdb reported no entryCount');
    return stats.entryCount;
  }

  getMeta(name: string): unknown {
    this.#assertOpen();
    if (storageKeyProblem(name) !== null) return undefined; // never stored; lmdb would throw
    const bytes = this.#meta.getBinaryFast(name);
    return bytes === undefined ? undefined : packr.unpack(bytes);
  }

  putMeta(name: string, value: unknown): Promise<void> {
    return this.write([{ ns: 'meta', name, value }]);
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

  *#iterate(db: BinaryDatabase, options: EntriesOptions): Generator<[string, KeyRecord]> {
    const { startKey } = options;
    const range = db.getRange({
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

  /** The database of a record namespace; a StorageError for anything else. */
  #db(ns: Namespace): BinaryDatabase {
    if (ns === 'data') return this.#records;
    if (ns === 'hints') return this.#hints;
    throw new StorageError(`unknown storage namespace ${JSON.stringify(ns)}`);
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
