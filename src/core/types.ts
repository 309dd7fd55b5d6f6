/**
 * Plain data types shared across the protocol core. Everything here is structured-clone and
 * msgpackr friendly: plain objects, arrays, strings, numbers and Uint8Arrays only.
 */

/** A physical node's id, for example `n1`. Branded so it cannot be mixed up with a key. */
export type NodeId = string & { readonly __brand: 'NodeId' };

/** Converts a string to a NodeId; the caller vouches that it names a node. */
export function nodeId(id: string): NodeId {
  return id as NodeId;
}

/**
 * The actor that issues version dots. It is the node id plus an epoch that changes whenever the
 * node restarts without its durable state (for example an in-memory node), so a node that forgot
 * its counters can never reissue a dot it issued before. Format: `${nodeId}` or `${nodeId}.${epoch}`.
 */
export type ActorId = string;

/** One event: the `counter`-th write coordinated by `actor` for a given key. */
export type Dot = readonly [actor: ActorId, counter: number];

/**
 * A version vector: for each actor, the highest counter covered. Stored as entries sorted by
 * actor so equal vectors have equal encodings. Actors absent from the list are at 0.
 */
export type VersionVector = ReadonlyArray<readonly [actor: ActorId, counter: number]>;

/**
 * One concurrent value of a key (a sibling). `past` is the causal context the writer had seen
 * (the context it passed to put); the sibling supersedes every sibling whose dot `past` covers.
 * `value === null` is a tombstone (a delete).
 */
export interface Sibling {
  readonly dot: Dot;
  readonly past: VersionVector;
  readonly value: Uint8Array | null;
  /**
   * The client's request id for the write that created this sibling, when it sent one. A retry
   * of the same request is recognised by it and creates no second sibling.
   */
  readonly rid?: string;
  /**
   * When the value expires, in Unix ms by the clock of the node judging it (absent: never). The
   * deadline is part of the write, so every replica, hint and transfer carries it. A live
   * sibling whose deadline passed reads as a tombstone and is stored as one (same dot, same
   * past, same deadline, value null): the conversion depends on the version alone, so two
   * nodes can only disagree on *when* it happens, never on its result (see version.ts expire).
   */
  readonly expiresAtMs?: number;
}

/** Everything a replica stores for one key: its current siblings, none superseding another. */
export interface KeyRecord {
  readonly siblings: readonly Sibling[];
}

/**
 * Where a persisted entry lives. `data`: the node's own replicas, key -> KeyRecord. `hints`:
 * records a node holds for a down replica (sloppy quorum), keyed by `hintKey(target, key)`.
 */
export type Namespace = 'data' | 'hints';

/** One change the runtime must make durable; a batch of them is applied atomically, in order. */
export type PersistWrite =
  /** Store a record (or remove the key when `record` is null) in a namespace. */
  | { readonly ns: Namespace; readonly key: string; readonly record: KeyRecord | null }
  /** Store a small metadata value under `name` (undefined removes it). */
  | { readonly ns: 'meta'; readonly name: string; readonly value: unknown };

/** The synchronous, read-only view of local durable data that the runtime injects into the core. */
export interface StorageReader {
  /** The record stored under `key` in `ns` (default `data`). */
  get(key: string, ns?: Namespace): KeyRecord | undefined;
  /** Entries of a namespace in key order, from `startKey` inclusive, at most `limit`. */
  entries(options: {
    readonly ns: Namespace;
    readonly startKey?: string;
    readonly limit?: number;
  }): Iterable<[string, KeyRecord]>;
  /**
   * Every entry of a namespace in whatever order the engine yields fastest (no sort), for a
   * pass that reads everything and does not care about order; absent: `entries` serves.
   */
  unordered?(ns: Namespace): Iterable<[string, KeyRecord]>;
  getMeta(name: string): unknown;
  /**
   * Bytes of the records held, as an engine that keeps them in memory counts them (values, keys
   * and a fixed share per sibling); absent where data lives on disk (no bound applies).
   */
  bytes?(): number;
}

/** The key under which a hint for `target`'s copy of `key` is stored (sorted by target first). */
export function hintKey(target: NodeId, key: string): string {
  return `${target}\u0000${key}`;
}

/** Splits a hint key back into its target and key. */
export function parseHintKey(stored: string): { target: NodeId; key: string } {
  const cut = stored.indexOf('\u0000');
  return { target: stored.slice(0, cut) as NodeId, key: stored.slice(cut + 1) };
}
