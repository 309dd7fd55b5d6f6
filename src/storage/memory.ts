/**
 * A volatile StorageEngine on a Map: the default for local clusters without a data directory,
 * and the engine of the simulator. Nothing survives `close()`.
 *
 * `get` and `write` are the hot path and cost one Map operation per key. Key order for
 * `entries()` is kept lazily by a SortedKeyIndex, which merges new keys in only when `entries()`
 * is called.
 */
import type { KeyRecord } from '../core/types.js';
import {
  compareStorageKeys,
  type EntriesOptions,
  StorageClosedError,
  type StorageEngine,
  type StorageWrite,
  validateBatch,
  validateEntriesOptions,
} from './engine.js';

export class MemoryStorage implements StorageEngine {
  readonly kind = 'memory';
  readonly durable = false;
  readonly #records = new Map<string, KeyRecord>();
  readonly #meta = new Map<string, unknown>();
  readonly #index = new SortedKeyIndex();
  #closed = false;

  get(key: string): KeyRecord | undefined {
    this.#assertOpen();
    return this.#records.get(key);
  }

  /** Applies the batch synchronously (so `get` sees it at once) and resolves on a microtask. */
  write(batch: readonly StorageWrite[]): Promise<void> {
    try {
      this.#assertOpen();
      validateBatch(batch);
      for (const change of batch) this.#apply(change);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  entries(options: EntriesOptions = {}): Iterable<[string, KeyRecord]> {
    this.#assertOpen();
    validateEntriesOptions(options);
    return this.#iterate(options.startKey, options.limit ?? Number.POSITIVE_INFINITY);
  }

  *#iterate(startKey: string | undefined, limit: number): Generator<[string, KeyRecord]> {
    const keys = this.#index.sorted(this.#records);
    let yielded = 0;
    for (let i = lowerBound(keys, startKey); i < keys.length && yielded < limit; i++) {
      this.#assertOpen();
      const key = keys[i]!;
      const record = this.#records.get(key);
      if (record === undefined) continue; // removed while iterating
      yielded++;
      yield [key, record];
      this.#assertOpen(); // also when this was the last entry
    }
  }

  count(): number {
    this.#assertOpen();
    return this.#records.size;
  }

  getMeta(name: string): unknown {
    this.#assertOpen();
    const value = this.#meta.get(name);
    return value === undefined ? undefined : structuredClone(value);
  }

  putMeta(name: string, value: unknown): Promise<void> {
    try {
      this.#assertOpen();
      if (value === undefined) this.#meta.delete(name);
      else this.#meta.set(name, structuredClone(value));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #apply(change: StorageWrite): void {
    if (change.record === null) {
      if (this.#records.delete(change.key)) this.#index.noteRemoved();
      return;
    }
    const size = this.#records.size;
    this.#records.set(change.key, change.record);
    if (this.#records.size !== size) this.#index.noteAdded(change.key);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageClosedError(this.kind);
  }
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
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareStorageKeys(keys[middle]!, startKey) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
