/**
 * The storage engine contract shared by every backend (memory.ts, lmdb.ts). One acceptance suite
 * (test/storage/contract.ts) runs against each engine, so anything stated here is tested there.
 *
 * The protocol core never awaits: it reads through `get` synchronously and writes only through
 * batches that the runtime hands to `write`. An acknowledgement that depends on durability is
 * sent only after `write` resolved, so the same core runs on a durable and a volatile engine.
 *
 * Records live in independent namespaces (`Namespace`): `data`, the node's own replicas, and
 * `hints`, records held for a down replica under `hintKey(target, key)`. The same key may exist
 * in both; every record method takes the namespace and defaults to `data`. Small metadata values
 * live apart from both (`getMeta`/`putMeta`, or `meta` writes in a batch).
 *
 * Keys are strings, ordered by Unicode code point (equivalently: by the bytes of their UTF-8
 * encoding, which is lmdb's native order). This differs from JavaScript's `<` on strings (UTF-16
 * code units) only for keys mixing astral characters with U+E000..U+FFFF; use
 * `compareStorageKeys` wherever code must agree with `entries()` order. U+0000 is an ordinary
 * code point (the smallest), so the hint keys of one target are contiguous in `hints`.
 */

import type { KeyRecord, Namespace, PersistWrite, StorageReader } from '../core/types.js';
import { RingkvError } from '../errors.js';

/**
 * One change in a batch: store `record` under `key` in namespace `ns` (`data` or `hints`), or
 * remove the key when `record` is null; or (`ns: 'meta'`) store the metadata value `value` under
 * `name`, removing it when `value` is undefined, with the rules of `putMeta`.
 */
export type StorageWrite = PersistWrite;

/** The record namespaces, for validation and iteration. */
export const NAMESPACES: readonly Namespace[] = ['data', 'hints'];

/** Paging options for `StorageEngine.entries`. */
export interface EntriesOptions {
  /** The namespace to list. @default 'data' */
  readonly ns?: Namespace;
  /** First key to yield (inclusive); it need not exist. `''` means the first key. @default '' */
  readonly startKey?: string;
  /** Yield at most this many entries (a non-negative integer). @default unlimited */
  readonly limit?: number;
}

/**
 * A node's local store. Records are treated as immutable values: an engine may keep the object
 * passed to `write` and hand the same object out from `get` (memory does), so neither side may
 * mutate a record, its siblings or their value bytes after handing it over.
 *
 * Errors: invalid input (a bad key, name or namespace in a batch, bad entries options, an
 * unknown namespace passed to `get`/`count`) and any use after `close()` are reported as a
 * `StorageError` (`StorageClosedError` after close): synchronous methods throw it, asynchronous
 * ones reject with it. No method hangs after `close()`.
 */
export interface StorageEngine extends StorageReader {
  readonly kind: 'memory' | 'lmdb' | 'log';
  /**
   * True when data survives `close()` and reopening the same location, and also a crash of the
   * process or the machine once `write`/`putMeta` resolved.
   */
  readonly durable: boolean;
  /**
   * Synchronous read of the record stored under `key` in namespace `ns` (default `data`), or
   * undefined when there is none. Every batch whose `write` has resolved is visible. A batch
   * whose `write` is still pending may or may not be visible yet (memory shows it at once, lmdb
   * once committed); the core keeps its own overlay of pending writes and must not depend on
   * either. A key no engine can store (see `storageKeyProblem`) is simply not found. Sibling
   * values come back as Uint8Arrays holding the bytes written (lmdb: plain `Uint8Array`s, never
   * a Node `Buffer`; memory: the very objects written); a tombstone sibling keeps `value: null`.
   * A sibling's `rid` comes back as written; a sibling written without one has none.
   */
  get(key: string, ns?: Namespace): KeyRecord | undefined;
  /**
   * Applies the batch atomically: after a crash either all of it or none of it is stored. A
   * batch may mix `data`, `hints` and `meta` writes; they apply in batch order, so within a
   * batch the last change to a key of a namespace (or to a meta name) wins. Batches apply in the
   * order `write` was called, also when many are in flight at once. Resolves once the batch is
   * durable (for a durable engine) and visible to `get`/`getMeta`. Rejects with a
   * `StorageError`, storing nothing, when a key or meta name is invalid (see
   * `validateStorageKey`), a namespace is unknown, a meta value cannot be stored, or the engine
   * is closed; never throws synchronously, never hangs.
   */
  write(batch: readonly PersistWrite[]): Promise<void>;
  /**
   * Entries of namespace `ns` (default `data`) in code point key order (see the file comment),
   * from `startKey` inclusive, at most `limit` of them. The iterable is lazy and meant for
   * paging (handoff, anti-entropy): changes made while iterating may or may not be seen, but
   * every yielded record was stored at some point during the iteration, and no key is yielded
   * twice. Iterating after `close()` throws. Callable without options (all of `data`).
   */
  entries(options?: EntriesOptions): Iterable<[string, KeyRecord]>;
  /** Number of keys stored in `ns` (default `data`; tombstoned keys count: a tombstone is a record). */
  count(ns?: Namespace): number;
  /**
   * Reads a small metadata value (for example the node's actor epoch), kept apart from keys.
   * Undefined when never written.
   */
  getMeta(name: string): unknown;
  /**
   * Stores a small metadata value: plain msgpack-able data (objects with string keys, arrays,
   * strings, numbers, booleans, null, Uint8Array, which lmdb may read back as a Buffer).
   * `undefined` removes the entry. The name follows the key rule (`validateStorageKey`). Same
   * as `write([{ ns: 'meta', name, value }])`: same durability, ordering and error rules.
   * Later reads return a copy, never the object passed in.
   */
  putMeta(name: string, value: unknown): Promise<void>;
  /**
   * What the engine did since it opened, for an engine that keeps such counts (the log engine);
   * absent otherwise.
   */
  stats?(): StorageStats;
  /**
   * Waits for in-flight writes to settle, then releases the engine. Idempotent: later calls
   * return the same promise. Every other method fails with `StorageClosedError` afterwards.
   */
  close(): Promise<void>;
}

/** Counts an engine keeps since it opened (`StorageEngine.stats`). */
export interface StorageStats {
  /** fdatasync calls that made write batches durable (each covers a group of batches). */
  readonly syncs: number;
  /** Bytes appended to the log, frame headers included. */
  readonly bytesAppended: number;
  /** Compactions finished (a snapshot written, older files removed). */
  readonly compactions: number;
  /** Compactions that failed and left the older files in place (tried again later). */
  readonly compactionFailures: number;
  /**
   * Bytes of the files a restart replays: the newest snapshot and every log not yet replaced by
   * one (what opening the node reads, and about what its records take in memory, encoded).
   */
  readonly fileBytes: number;
}

/** A storage operation failed or was given invalid input. */
export class StorageError extends RingkvError {
  override name = 'StorageError';
  override readonly code: string = 'STORAGE';
}

/** The engine was used after `close()`. */
export class StorageClosedError extends StorageError {
  override name = 'StorageClosedError';
  override readonly code: string = 'STORAGE_CLOSED';
  constructor(kind: string) {
    super(`${kind} storage is closed`);
  }
}

/**
 * Longest key any engine accepts, in UTF-8 bytes: lmdb's limit with its default page size.
 * `RingkvConfig.keySizeMaxBytes` (1024 by default) must stay at or below it.
 */
export const STORAGE_KEY_BYTES_MAX = 1978;

/** Matches a UTF-16 surrogate that is not part of a pair (a key no UTF-8 encoding can hold). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `key` cannot be stored, or null when every engine can store it: a non-empty string of
 * well-formed UTF-16 (no lone surrogates) whose UTF-8 encoding is at most STORAGE_KEY_BYTES_MAX
 * bytes. All engines apply the same rule so they behave alike.
 */
export function storageKeyProblem(key: unknown): string | null {
  if (typeof key !== 'string') return 'storage key must be a string';
  if (key.length === 0) return 'storage key must not be empty';
  // A UTF-16 code unit takes at most 3 UTF-8 bytes, so short keys skip the byte count.
  if (key.length * 3 > STORAGE_KEY_BYTES_MAX) {
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes > STORAGE_KEY_BYTES_MAX) {
      return `storage key is ${bytes} UTF-8 bytes, over ${STORAGE_KEY_BYTES_MAX}`;
    }
  }
  if (LONE_SURROGATE.test(key)) return 'storage key has a lone UTF-16 surrogate';
  return null;
}

/** Throws a StorageError unless every engine can store `key` (see storageKeyProblem). */
export function validateStorageKey(key: unknown): asserts key is string {
  const problem = storageKeyProblem(key);
  if (problem !== null) throw new StorageError(problem);
}

/** Throws a StorageError unless `ns` is a record namespace (`data` or `hints`). */
export function validateNamespace(ns: unknown): asserts ns is Namespace {
  if (ns !== 'data' && ns !== 'hints') {
    throw new StorageError(`unknown storage namespace ${JSON.stringify(ns)}`);
  }
}

/**
 * Validates every change of a batch (namespace, key or meta name), so a batch with one bad
 * change stores nothing. Engines still encode or copy values before applying anything.
 */
export function validateBatch(batch: readonly PersistWrite[]): void {
  if (!Array.isArray(batch)) throw new StorageError('write batch must be an array');
  for (const change of batch) {
    if (typeof change !== 'object' || change === null) {
      throw new StorageError('a write batch entry must be an object');
    }
    if (change.ns === 'meta') validateStorageKey(change.name);
    else {
      validateNamespace(change.ns);
      validateStorageKey(change.key);
    }
  }
}

/**
 * Throws a StorageError unless `ns` is undefined or a record namespace, `limit` is undefined or
 * a non-negative integer and `startKey` is undefined, empty (meaning: from the first key) or a
 * storable key.
 */
export function validateEntriesOptions(options: EntriesOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new StorageError('entries options must be an object');
  }
  const { ns, startKey, limit } = options;
  if (ns !== undefined) validateNamespace(ns);
  if (startKey !== undefined && startKey !== '') validateStorageKey(startKey);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new StorageError(`entries limit must be a non-negative integer, got ${limit}`);
  }
}

/** Orders keys as `entries()` does: by code point, i.e. by UTF-8 bytes (core/key-order.ts). */
export { compareStorageKeys } from '../core/key-order.js';

/** A private copy of a meta value (undefined stays undefined: it means "remove"). */
export function copyMetaValue(name: string, value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return structuredClone(value);
  } catch (error) {
    throw new StorageError(`cannot store meta ${JSON.stringify(name)}`, { cause: error });
  }
}
