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
}

/** Everything a replica stores for one key: its current siblings, none superseding another. */
export interface KeyRecord {
  readonly siblings: readonly Sibling[];
}

/** One write the runtime must make durable: a key's new record, or null to remove the key. */
export interface PersistWrite {
  readonly key: string;
  readonly record: KeyRecord | null;
}

/** The synchronous, read-only view of local data that the runtime injects into the core. */
export interface StorageReader {
  get(key: string): KeyRecord | undefined;
}
