/**
 * One node's durable store in the simulator: namespaces `data` and `hints` plus metadata, read
 * synchronously by the core (StorageReader) and changed only by `apply`, which the simulator
 * calls when a persist effect completes (after a sampled disk latency). A crash loses the
 * persists not yet completed — they are simply never applied — and keeps everything applied.
 *
 * Observers see every change with the record it replaced, so the history can learn which dots
 * each client write produced and which tombstones were reaped.
 */
import { assert } from '../core/assert.js';
import type { KeyRecord, Namespace, NodeId, PersistWrite, StorageReader } from '../core/types.js';
import {
  compareStorageKeys,
  copyMetaValue,
  type EntriesOptions,
  validateBatch,
  validateEntriesOptions,
  validateNamespace,
} from '../storage/engine.js';

export interface StoredChange {
  readonly node: NodeId;
  readonly ns: Namespace;
  readonly key: string;
  readonly before: KeyRecord | undefined;
  /** null: the key was removed. */
  readonly after: KeyRecord | null;
}

export type ApplyObserver = (change: StoredChange) => void;

/** Sees every metadata entry applied (`value` undefined: removed, also by a wipe). */
export type MetaObserver = (name: string, value: unknown) => void;

/** Most writes one persist batch may carry. */
export const BATCH_WRITES_MAX = 10_000;

class Space {
  readonly records = new Map<string, KeyRecord>();
  private sorted: string[] | null = [];

  set(key: string, record: KeyRecord | null): void {
    const had = this.records.has(key);
    if (record === null) this.records.delete(key);
    else this.records.set(key, record);
    if (had !== (record !== null)) this.sorted = null;
  }

  sortedKeys(): readonly string[] {
    if (this.sorted === null) this.sorted = [...this.records.keys()].sort(compareStorageKeys);
    return this.sorted;
  }
}

export class SimStorage implements StorageReader {
  private readonly spaces: Record<Namespace, Space> = { data: new Space(), hints: new Space() };
  private readonly meta = new Map<string, unknown>();
  private readonly observers: ApplyObserver[] = [];
  private readonly metaObservers: MetaObserver[] = [];
  /** Batches applied since creation (or the last wipe). */
  batchesApplied = 0;

  constructor(readonly node: NodeId) {}

  get(key: string, ns: Namespace = 'data'): KeyRecord | undefined {
    return this.space(ns).records.get(key);
  }

  /** Entries in code point key order, with the options and errors of `StorageEngine.entries`. */
  entries(options: EntriesOptions = {}): Iterable<[string, KeyRecord]> {
    validateEntriesOptions(options);
    return this.iterate(this.space(options.ns ?? 'data'), options);
  }

  /** Every entry of a namespace in insertion order (StorageReader.unordered). */
  unordered(ns: Namespace): Iterable<[string, KeyRecord]> {
    return this.space(ns).records.entries();
  }

  private *iterate(space: Space, options: EntriesOptions): Iterable<[string, KeyRecord]> {
    const keys = space.sortedKeys();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const start = options.startKey ?? '';
    let yielded = 0;
    for (const key of keys) {
      if (yielded >= limit) return;
      if (compareStorageKeys(key, start) < 0) continue;
      const record = space.records.get(key);
      if (record === undefined) continue; // removed while iterating
      yielded++;
      yield [key, record];
    }
  }

  getMeta(name: string): unknown {
    const value = this.meta.get(name);
    return value === undefined ? undefined : structuredClone(value);
  }

  /**
   * Applies one completed persist batch atomically, in order. A batch a production engine would
   * reject (a bad key, name or namespace, a meta value that cannot be stored) throws a
   * StorageError with nothing applied, so the simulator never accepts what lmdb refuses.
   */
  apply(writes: readonly PersistWrite[]): void {
    assert(writes.length <= BATCH_WRITES_MAX, `a batch has at most ${BATCH_WRITES_MAX} writes`);
    validateBatch(writes);
    const metaValues = writes.map((write) =>
      write.ns === 'meta' ? copyMetaValue(write.name, write.value) : undefined,
    );
    this.batchesApplied++;
    for (const [i, write] of writes.entries()) {
      if (write.ns === 'meta') {
        if (write.value === undefined) this.meta.delete(write.name);
        else this.meta.set(write.name, metaValues[i]);
        for (const observer of this.metaObservers) observer(write.name, write.value);
        continue;
      }
      const space = this.spaces[write.ns];
      const before = space.records.get(write.key);
      space.set(write.key, write.record);
      const change = { node: this.node, ns: write.ns, key: write.key, before, after: write.record };
      for (const observer of this.observers) observer(change);
    }
  }

  onApply(observer: ApplyObserver): void {
    this.observers.push(observer);
  }

  onMeta(observer: MetaObserver): void {
    this.metaObservers.push(observer);
  }

  /** Every record of a namespace, in key order (a snapshot for the checker and tests). */
  snapshot(ns: Namespace = 'data'): Map<string, KeyRecord> {
    const space = this.space(ns);
    return new Map(space.sortedKeys().map((key) => [key, space.records.get(key)!]));
  }

  count(ns: Namespace = 'data'): number {
    return this.space(ns).records.size;
  }

  /** The space of a record namespace; a StorageError for anything else (as the engines do). */
  private space(ns: Namespace): Space {
    validateNamespace(ns);
    return this.spaces[ns];
  }

  /** Loses everything (a node restarted without its disk). Observers stay. */
  wipe(): void {
    for (const ns of ['data', 'hints'] as const) {
      for (const key of [...this.spaces[ns].records.keys()]) this.spaces[ns].set(key, null);
    }
    const names = [...this.meta.keys()];
    this.meta.clear();
    for (const name of names) for (const observer of this.metaObservers) observer(name, undefined);
    this.batchesApplied = 0;
  }
}
