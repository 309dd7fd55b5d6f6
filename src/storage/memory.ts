/**
 * A volatile StorageEngine on a Map: the default for local clusters without a data directory,
 * and the engine of the simulator. Nothing survives `close()`.
 *
 * Each namespace (`data`, `hints`) is its own Map; meta values are copied in and out with
 * structuredClone. `get` and `write` are the hot path and cost one Map operation per key. Key
 * order for `entries()` is kept per namespace, lazily, by a SortedKeyIndex, which merges new
 * keys in only when `entries()` is called.
 */
import { partitionPoint } from '../core/partition-point.js';
import type { KeyRecord, Namespace, PersistWrite } from '../core/types.js';
import { recordBytes as recordSize } from '../core/version.js';
import {
  compareStorageKeys,
  copyMetaValue,
  type EntriesOptions,
  StorageClosedError,
  type StorageEngine,
  StorageError,
  validateBatch,
  validateEntriesOptions,
} from './engine.js';

/** One namespace's records and their lazily sorted keys. */
interface Table {
  readonly records: Map<string, KeyRecord>;
  readonly index: SortedKeyIndex;
}

function newTable(): Table {
  return { records: new Map(), index: new SortedKeyIndex() };
}

export class MemoryStorage implements StorageEngine {
  readonly kind = 'memory';
  readonly durable = false;
  readonly #data = newTable();
  readonly #hints = newTable();
  readonly #meta = new Map<string, unknown>();
  #closed = false;
  /** recordBytes of every record held, data and hints. */
  #bytes = 0;

  get(key: string, ns: Namespace = 'data'): KeyRecord | undefined {
    this.#assertOpen();
    return this.#table(ns).records.get(key);
  }

  /** Applies the batch synchronously (so `get` sees it at once) and resolves on a microtask. */
  write(batch: readonly PersistWrite[]): Promise<void> {
    try {
      this.#assertOpen();
      validateBatch(batch);
      this.applyValidated(batch);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `write` without the promise and without `validateBatch`, for an engine built on this one
   * that validated the batch itself (log.ts): applies the whole batch, or throws a StorageError
   * (a meta value that cannot be copied) having applied nothing.
   */
  applyValidated(batch: readonly PersistWrite[]): void {
    this.#assertOpen();
    // Copy every meta value before applying anything, so a value that cannot be copied
    // rejects the batch with nothing stored.
    const metaValues = batch.map((change) =>
      change.ns === 'meta' ? copyMetaValue(change.name, change.value) : undefined,
    );
    batch.forEach((change, i) => {
      if (change.ns === 'meta') {
        if (change.value === undefined) this.#meta.delete(change.name);
        else this.#meta.set(change.name, metaValues[i]);
      } else this.#apply(this.#table(change.ns), change.key, change.record);
    });
  }

  /**
   * Every record of `ns` in no particular order, from the live table: cheaper than `entries()`
   * (no sort) for reading everything. Writes made while iterating may or may not be seen; no
   * key is yielded twice (Map iteration).
   */
  *unordered(ns: Namespace): Generator<[string, KeyRecord]> {
    for (const entry of this.#table(ns).records) {
      this.#assertOpen();
      yield entry;
    }
  }

  /**
   * Every meta name and value held, for an engine that persists them (log.ts snapshots). The
   * values are this engine's own copies: read them, never change them.
   */
  *metaEntries(): Generator<[string, unknown]> {
    for (const entry of this.#meta) {
      this.#assertOpen();
      yield entry;
    }
  }

  entries(options: EntriesOptions = {}): Iterable<[string, KeyRecord]> {
    this.#assertOpen();
    validateEntriesOptions(options);
    return this.#iterate(
      this.#table(options.ns ?? 'data'),
      options.startKey,
      options.limit ?? Number.POSITIVE_INFINITY,
    );
  }

  *#iterate(
    table: Table,
    startKey: string | undefined,
    limit: number,
  ): Generator<[string, KeyRecord]> {
    const keys = table.index.sorted(table.records);
    let yielded = 0;
    for (let i = lowerBound(keys, startKey); i < keys.length && yielded < limit; i++) {
      this.#assertOpen();
      const key = keys[i]!;
      const record = table.records.get(key);
      if (record === undefined) continue; // removed while iterating
      yielded++;
      yield [key, record];
      this.#assertOpen(); // also when this was the last entry
    }
  }

  /** Bytes of the records held, data and hints, as recordBytes counts them. */
  bytes(): number {
    this.#assertOpen();
    return this.#bytes;
  }

  count(ns: Namespace = 'data'): number {
    this.#assertOpen();
    return this.#table(ns).records.size;
  }

  getMeta(name: string): unknown {
    this.#assertOpen();
    const value = this.#meta.get(name);
    return value === undefined ? undefined : structuredClone(value);
  }

  putMeta(name: string, value: unknown): Promise<void> {
    return this.write([{ ns: 'meta', name, value }]);
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #table(ns: Namespace): Table {
    if (ns === 'data') return this.#data;
    if (ns === 'hints') return this.#hints;
    throw new StorageError(`unknown storage namespace ${JSON.stringify(ns)}`);
  }

  #apply(table: Table, key: string, record: KeyRecord | null): void {
    const old = table.records.get(key);
    if (old !== undefined) this.#bytes -= recordBytes(key, old);
    if (record === null) {
      if (table.records.delete(key)) table.index.noteRemoved();
      return;
    }
    this.#bytes += recordBytes(key, record);
    table.records.set(key, record);
    if (old === undefined) table.index.noteAdded(key);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageClosedError(this.kind);
  }
}

/** What a sibling takes in memory besides its value: its dot, past, request id, object headers. */
const SIBLING_MEMORY_BYTES = 96;

/**
 * The bytes a record takes, for a bound on memory rather than an exact figure: its key (UTF-16
 * code units), its values, and SIBLING_MEMORY_BYTES per sibling (core's estimate, with memory's
 * overhead instead of the wire's).
 */
export function recordBytes(key: string, record: KeyRecord): number {
  return key.length + recordSize(record, SIBLING_MEMORY_BYTES);
}

/**
 * Keys in code point order, maintained lazily: additions are queued and merged in (sort the new
 * keys, one linear merge) on the next `sorted()` call; removed keys are dropped in that merge.
 * So `write` pays O(1) and a page of `entries()` pays O(n + k log k) only after k changes.
 */
class SortedKeyIndex {
  #keys: string[] = [];
  #added: string[] = [];
  #removedSinceMerge = false;

  noteAdded(key: string): void {
    this.#added.push(key);
  }

  noteRemoved(): void {
    this.#removedSinceMerge = true;
  }

  /** The live keys of `records` in order. Valid until the next noteAdded/noteRemoved. */
  sorted(records: ReadonlyMap<string, unknown>): readonly string[] {
    if (this.#added.length > 0 || this.#removedSinceMerge) this.#merge(records);
    return this.#keys;
  }

  #merge(records: ReadonlyMap<string, unknown>): void {
    const added = this.#added.sort(compareStorageKeys);
    const old = this.#keys;
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < old.length || j < added.length) {
      const takeOld =
        j >= added.length || (i < old.length && compareStorageKeys(old[i]!, added[j]!) <= 0);
      const key = takeOld ? old[i++]! : added[j++]!;
      // A key removed and re-added appears in both lists; live keys are kept once.
      if (records.has(key) && merged[merged.length - 1] !== key) merged.push(key);
    }
    this.#keys = merged;
    this.#added = [];
    this.#removedSinceMerge = false;
  }
}

/** Index of the first of the ordered `keys` at or after `startKey` (0 when it is undefined). */
function lowerBound(keys: readonly string[], startKey: string | undefined): number {
  if (startKey === undefined) return 0;
  return partitionPoint(keys.length, (i) => compareStorageKeys(keys[i]!, startKey) < 0);
}
