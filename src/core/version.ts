/**
 * Dotted version vectors, one per sibling (Preguiça et al. 2010; what Riak 2.0 enabled as
 * `dvv_enabled`). A sibling is `{ dot, past, value }`: `dot` names the write, `past` is the
 * context the writer passed to put. Sibling `s` is obsoleted by sibling `t` iff `t.past` covers
 * `s.dot`. A put with the context from a get therefore replaces exactly the siblings that get saw,
 * and two blind puts stay siblings instead of one silently overwriting the other.
 *
 * Everything here is a pure function over immutable values: inputs are never mutated and equal
 * inputs give byte-identical outputs (vectors and siblings are kept sorted by actor, then counter).
 */
import { assert } from './assert.js';
import type { ActorId, Dot, KeyRecord, Sibling, VersionVector } from './types.js';

/** A value that should be a version vector (a context from a client, a record from disk) is not. */
export class VersionVectorError extends Error {
  override name = 'VersionVectorError';
}

/** The record of a key nothing was ever written to. */
export const EMPTY_RECORD: KeyRecord = Object.freeze({ siblings: Object.freeze([]) });

/** Total order on actors by UTF-16 code units (never locale-dependent). */
export function compareActors(a: ActorId, b: ActorId): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** Total order on dots: by actor, then by counter. */
export function compareDots(a: Dot, b: Dot): number {
  const byActor = compareActors(a[0], b[0]);
  return byActor !== 0 ? byActor : a[1] - b[1];
}

function isNormalized(vv: VersionVector): boolean {
  for (let i = 0; i < vv.length; i++) {
    const entry = vv[i]!;
    if (!Number.isSafeInteger(entry[1]) || entry[1] <= 0) return false;
    if (i > 0 && compareActors(vv[i - 1]![0], entry[0]) >= 0) return false;
  }
  return true;
}

/**
 * The canonical form of a vector: sorted by actor, one entry per actor (the largest counter),
 * no zero counters. Returns `vv` itself when it is already canonical.
 */
export function vvNormalize(vv: VersionVector): VersionVector {
  if (isNormalized(vv)) return vv;
  const counters = new Map<ActorId, number>();
  for (const [actor, counter] of vv) {
    assert(Number.isSafeInteger(counter), `counter ${counter} of actor ${actor} is not an integer`);
    assert(counter >= 0, `counter ${counter} of actor ${actor} is negative`);
    if (counter > (counters.get(actor) ?? 0)) counters.set(actor, counter);
  }
  const normalized = [...counters].sort((a, b) => compareActors(a[0], b[0]));
  assert(normalized.length <= vv.length, 'normalizing must not add entries');
  return normalized;
}

/** The counter `vv` holds for `actor` (0 when absent). */
export function vvCounter(vv: VersionVector, actor: ActorId): number {
  let counter = 0;
  for (const entry of vv) {
    if (entry[0] === actor && entry[1] > counter) counter = entry[1];
  }
  return counter;
}

/** Whether `vv` covers the event `dot`, i.e. has seen it. */
export function vvCovers(vv: VersionVector, dot: Dot): boolean {
  return vvCounter(vv, dot[0]) >= dot[1];
}

/** The pointwise maximum (least upper bound) of two vectors, normalized. */
export function vvMerge(a: VersionVector, b: VersionVector): VersionVector {
  const merged =
    isNormalized(a) && isNormalized(b) ? mergeNormalized(a, b) : vvNormalize([...a, ...b]);
  assert(merged.length <= a.length + b.length, 'a merge must not invent actors');
  return merged;
}

/** vvMerge of two canonical vectors in one pass (no Map, no sort): the write path's common case. */
function mergeNormalized(a: VersionVector, b: VersionVector): VersionVector {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const merged: Array<readonly [ActorId, number]> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const order = x === undefined ? 1 : y === undefined ? -1 : compareActors(x[0], y[0]);
    if (order < 0) {
      merged.push(x!);
      i++;
    } else if (order > 0) {
      merged.push(y!);
      j++;
    } else {
      merged.push(x![1] >= y![1] ? x! : y!);
      i++;
      j++;
    }
  }
  return merged;
}

/** Whether `a` is pointwise at least `b` (`a` has seen everything `b` has). */
export function vvDescends(a: VersionVector, b: VersionVector): boolean {
  return b.every(([actor, counter]) => vvCounter(a, actor) >= counter);
}

/** Whether two vectors denote the same causal history (equal after normalization). */
export function vvEqual(a: VersionVector, b: VersionVector): boolean {
  const left = vvNormalize(a);
  const right = vvNormalize(b);
  if (left.length !== right.length) return false;
  return left.every((entry, i) => entry[0] === right[i]![0] && entry[1] === right[i]![1]);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}

/**
 * Checks that `x` is an array of `[actor, counter]` pairs with a non-empty string actor and a
 * positive safe integer counter, and returns it normalized. Throws a VersionVectorError naming
 * the first offending entry otherwise. Use it on every vector that crosses a trust boundary.
 */
export function validateVersionVector(x: unknown): VersionVector {
  if (!Array.isArray(x)) {
    throw new VersionVectorError(`expected an array of [actor, counter] pairs, got ${describe(x)}`);
  }
  for (let i = 0; i < x.length; i++) {
    const entry: unknown = x[i];
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new VersionVectorError(`entry ${i} is not an [actor, counter] pair`);
    }
    const [actor, counter]: unknown[] = entry;
    if (typeof actor !== 'string' || actor.length === 0) {
      throw new VersionVectorError(`entry ${i}: the actor must be a non-empty string`);
    }
    if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) {
      throw new VersionVectorError(`entry ${i}: the counter must be a positive safe integer`);
    }
  }
  return vvNormalize(x as VersionVector);
}

function dotKey(dot: Dot): string {
  return `${dot[1]}:${dot[0]}`;
}

/** Whether two byte strings are equal; `null` (a tombstone) equals only `null`. */
export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/** Whether two siblings are the same write: same dot, past, bytes and expiry. */
export function siblingsEqual(a: Sibling, b: Sibling): boolean {
  return (
    compareDots(a.dot, b.dot) === 0 &&
    vvEqual(a.past, b.past) &&
    bytesEqual(a.value, b.value) &&
    a.expiresAtMs === b.expiresAtMs
  );
}

/**
 * Whether `tombstone` is `live` after its expiry: the same write (dot, past, request id,
 * deadline) with the value dropped. Only a write with a deadline can expire.
 */
function isExpiredFormOf(tombstone: Sibling, live: Sibling): boolean {
  return (
    tombstone.value === null &&
    live.value !== null &&
    live.expiresAtMs !== undefined &&
    tombstone.expiresAtMs === live.expiresAtMs &&
    tombstone.rid === live.rid &&
    compareDots(tombstone.dot, live.dot) === 0 &&
    vvEqual(tombstone.past, live.past)
  );
}

/**
 * The one sibling two copies of the same dot merge to: the copies themselves when equal, the
 * expired form when one copy expired on its node and the other did not yet (expiry only ever
 * turns a value into a tombstone, so the merge is a join and cannot bring the value back).
 */
function mergeSameDot(a: Sibling, b: Sibling): Sibling {
  if (isExpiredFormOf(a, b)) return a;
  if (isExpiredFormOf(b, a)) return b;
  assert(siblingsEqual(a, b), `two different writes carry the dot ${dotKey(a.dot)}`);
  return a;
}

function checkSibling(sibling: Sibling): void {
  const [actor, counter] = sibling.dot;
  assert(actor.length > 0, 'a dot must name an actor');
  assert(Number.isSafeInteger(counter) && counter > 0, `dot counter ${counter} is not positive`);
  assert(isNormalized(sibling.past), `the past of ${dotKey(sibling.dot)} is not normalized`);
  assert(!vvCovers(sibling.past, sibling.dot), `${dotKey(sibling.dot)} must not cover itself`);
}

/**
 * Merges two replicas' records of one key: the union of their siblings (one per dot), minus
 * every sibling some other sibling of the union obsoletes. Commutative, associative, idempotent.
 */
export function sync(a: KeyRecord, b: KeyRecord): KeyRecord {
  // Replicas that agree hold the same dots; a dot names one write, so the merge is `a` itself.
  // The common case on every read and replica write: it spot-checks that each shared dot is the
  // same write (sameWriteSampled, O(1) per sibling) instead of comparing every value's bytes.
  if (a === b) return a;
  // One side holds nothing (a key new to this replica: the common replica write and the
  // coordinator's first write of a key): the merge is the other side's one write.
  if (a.siblings.length === 0 && b.siblings.length === 1) return checkedSingle(b);
  if (b.siblings.length === 0 && a.siblings.length === 1) return checkedSingle(a);
  if (supersedesAll(b, a)) return b;
  if (supersedesAll(a, b)) return a;
  // A pair that differs (one copy expired, or two different writes under one dot) takes the
  // full path below, which merges the expiry and asserts on anything else.
  if (
    isNormalizedRecord(a) &&
    sameDotSequence(a, b) &&
    a.siblings.every((s, i) => sameWriteSampled(s, b.siblings[i]!))
  ) {
    return a;
  }
  const byDot = new Map<string, Sibling>();
  for (const sibling of [...a.siblings, ...b.siblings]) {
    checkSibling(sibling);
    const key = dotKey(sibling.dot);
    const known = byDot.get(key);
    byDot.set(key, known === undefined ? sibling : mergeSameDot(known, sibling));
  }
  const union = [...byDot.values()];
  const kept = union.filter((s) => !union.some((t) => t !== s && vvCovers(t.past, s.dot)));
  // Obsolescence follows causality, which has no cycles, so a non-empty union keeps something.
  assert(kept.length > 0 || union.length === 0, 'sync dropped every sibling: a causal cycle');
  kept.sort((x, y) => compareDots(x.dot, y.dot));
  return { siblings: kept };
}

/** A record of one sibling, after the checks the full merge makes of every sibling. */
function checkedSingle(record: KeyRecord): KeyRecord {
  checkSibling(record.siblings[0]!);
  return record;
}

/** Bytes compared, evenly spaced, when spot-checking that two siblings are the same write. */
const SAMPLED_BYTES = 16;

/** Same past, request id and value length, and the same bytes at SAMPLED_BYTES places. */
function sameWriteSampled(a: Sibling, b: Sibling): boolean {
  if (!vvEqual(a.past, b.past) || a.rid !== b.rid || a.expiresAtMs !== b.expiresAtMs) return false;
  if (a.value === null || b.value === null) return a.value === b.value;
  const length = a.value.length;
  if (length !== b.value.length) return false;
  const step = Math.max(1, Math.floor(length / SAMPLED_BYTES));
  for (let i = 0; i < length; i += step) if (a.value[i] !== b.value[i]) return false;
  return length === 0 || a.value[length - 1] === b.value[length - 1];
}

/**
 * Whether `winner` is one write whose past covers every sibling of `other` (an overwrite with a
 * context, the common replica write): then sync() would drop all of `other` and keep `winner`.
 */
function supersedesAll(winner: KeyRecord, other: KeyRecord): boolean {
  if (winner.siblings.length !== 1 || other.siblings.length === 0) return false;
  const write = winner.siblings[0]!;
  assert(write.dot[1] > 0, 'a dot counter is positive');
  return other.siblings.every((s) => vvCovers(write.past, s.dot) && !vvCovers(s.past, write.dot));
}

/** Whether the siblings are in sync()'s output order (ascending dots, no repeats). */
function isNormalizedRecord(record: KeyRecord): boolean {
  const siblings = record.siblings;
  for (let i = 1; i < siblings.length; i++) {
    if (compareDots(siblings[i - 1]!.dot, siblings[i]!.dot) >= 0) return false;
  }
  return true;
}

/** Whether two records list exactly the same dots in the same order. */
function sameDotSequence(a: KeyRecord, b: KeyRecord): boolean {
  if (a.siblings.length !== b.siblings.length) return false;
  for (let i = 0; i < a.siblings.length; i++) {
    const x = a.siblings[i]!.dot;
    const y = b.siblings[i]!.dot;
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}

/**
 * The causal context of a record: everything its siblings (tombstones included) have seen and
 * are. This is what a get hands to the client, encoded, for its next put.
 */
export function contextOf(record: KeyRecord): VersionVector {
  let context: VersionVector = [];
  for (const sibling of record.siblings) {
    context = vvMerge(vvMerge(context, sibling.past), [sibling.dot]);
  }
  assert(
    record.siblings.every((s) => vvCovers(context, s.dot)),
    'a context covers its siblings',
  );
  return context;
}

/** Options of `update` beyond the write itself. */
export interface UpdateOptions {
  /**
   * The smallest counter the new dot may have: a node-wide floor that keeps an actor's counters
   * increasing across keys and across reaped tombstones, so an old context can never cover a
   * new write. @default 1
   */
  readonly counterMin?: number;
  /** The client's request id, kept on the sibling so retries are recognised. */
  readonly rid?: string;
  /** Keep at most this many entries of the context as the sibling's past (see vvPrune). */
  readonly pastEntriesMax?: number;
  /** When the new value expires (Unix ms); only for a value, never for a tombstone. */
  readonly expiresAtMs?: number;
}

/**
 * What the coordinating replica does for a put (`value`) or a delete (`value === null`) that
 * carries `context`: issue a new dot for `actor`, greater than every counter of `actor` the record
 * or the context knows (and at least `counterMin`), and replace exactly the siblings the context
 * covers.
 */
export function update(
  record: KeyRecord | undefined,
  context: VersionVector,
  actor: ActorId,
  value: Uint8Array | null,
  options: UpdateOptions = {},
): { record: KeyRecord; sibling: Sibling } {
  assert(actor.length > 0, 'the coordinating actor must have an id');
  const current = record ?? EMPTY_RECORD;
  const normalized = vvNormalize(context);
  const past =
    options.pastEntriesMax === undefined ? normalized : vvPrune(normalized, options.pastEntriesMax);
  const known = Math.max(recordCounter(current, actor), vvCounter(normalized, actor));
  const counter = Math.max(1 + known, options.counterMin ?? 1);
  assert(Number.isSafeInteger(counter), `the counter of actor ${actor} overflowed`);
  assert(options.expiresAtMs === undefined || value !== null, 'a tombstone does not expire');
  const sibling: Sibling = {
    dot: [actor, counter],
    past,
    value,
    ...(options.rid === undefined ? {} : { rid: options.rid }),
    ...(options.expiresAtMs === undefined ? {} : { expiresAtMs: options.expiresAtMs }),
  };
  const next = sync(current, { siblings: [sibling] });
  assert(next.siblings.includes(sibling), 'a new write must survive its own update');
  return { record: next, sibling };
}

/** The highest counter of `actor` that `record` has seen or is: vvCounter(contextOf(record)). */
function recordCounter(record: KeyRecord, actor: ActorId): number {
  let counter = 0;
  for (const sibling of record.siblings) {
    counter = Math.max(counter, vvCounter(sibling.past, actor));
    if (sibling.dot[0] === actor) counter = Math.max(counter, sibling.dot[1]);
  }
  return counter;
}

/**
 * Bounds a version vector to `entriesMax` entries by dropping those with the smallest
 * counters (with node-wide counters, the least recent). A pruned past covers less, so a write
 * can only look concurrent with an older version (an extra sibling), never drop one.
 */
export function vvPrune(vv: VersionVector, entriesMax: number): VersionVector {
  assert(Number.isInteger(entriesMax) && entriesMax >= 1, 'vvPrune keeps at least one entry');
  if (vv.length <= entriesMax) return vv;
  const kept = [...vv]
    .sort((a, b) => b[1] - a[1] || compareActors(a[0], b[0]))
    .slice(0, entriesMax);
  const pruned = vvNormalize(kept);
  assert(pruned.length === entriesMax, 'vvPrune keeps exactly entriesMax entries');
  return pruned;
}

/** The sibling written by request `rid`, if the record still holds it. */
export function siblingByRid(record: KeyRecord, rid: string): Sibling | undefined {
  return record.siblings.find((sibling) => sibling.rid === rid);
}

/** The values of the record's live (non-tombstone) siblings, in sibling order. */
export function liveValues(record: KeyRecord): Uint8Array[] {
  const values: Uint8Array[] = [];
  for (const sibling of record.siblings) {
    if (sibling.value !== null) values.push(sibling.value);
  }
  return values;
}

/** Whether the key reads as absent: no siblings, or only tombstones. */
export function isDeleted(record: KeyRecord): boolean {
  return record.siblings.every((sibling) => sibling.value === null);
}

/** Whether two records hold the same writes (same dots, pasts and bytes), in any order. */
export function recordsEqual(a: KeyRecord, b: KeyRecord): boolean {
  if (a.siblings.length !== b.siblings.length) return false;
  const byDot = (x: Sibling, y: Sibling) => compareDots(x.dot, y.dot);
  const left = [...a.siblings].sort(byDot);
  const right = [...b.siblings].sort(byDot);
  return left.every((sibling, i) => siblingsEqual(sibling, right[i]!));
}

/** Merges every replica's answer into one record (null when no replica holds the key). */
export function reconcile(records: Iterable<KeyRecord | null>): KeyRecord | null {
  let merged: KeyRecord | null = null;
  for (const record of records) {
    if (record === null) continue;
    merged = merged === null ? record : sync(merged, record);
  }
  return merged;
}

/**
 * True when both records hold the same set of dots, each live in both or a tombstone in both
 * (records are kept sorted by dot). A dot names one write, so the only way one dot can be live
 * in one record and a tombstone in the other is expiry: the two are then not the same state.
 */
export function sameDots(a: KeyRecord, b: KeyRecord): boolean {
  if (a.siblings.length !== b.siblings.length) return false;
  return a.siblings.every((s, i) => {
    const t = b.siblings[i]!;
    return (
      s.dot[0] === t.dot[0] && s.dot[1] === t.dot[1] && (s.value === null) === (t.value === null)
    );
  });
}

/** Whether `sibling` is a value whose deadline is at or before `nowMs`. */
export function isExpired(sibling: Sibling, nowMs: number): boolean {
  return (
    sibling.value !== null && sibling.expiresAtMs !== undefined && sibling.expiresAtMs <= nowMs
  );
}

/**
 * The record as it stands at `nowMs`: every value whose deadline passed becomes a tombstone
 * with the same dot, past, request id and deadline. Returns `record` itself when nothing
 * expired. Deterministic from the versions and `nowMs` alone, and monotone in `nowMs`: a later
 * time only turns more values into tombstones.
 */
export function expire(record: KeyRecord, nowMs: number): KeyRecord {
  if (!record.siblings.some((s) => isExpired(s, nowMs))) return record;
  const siblings = record.siblings.map(
    (s): Sibling => (isExpired(s, nowMs) ? { ...s, value: null } : s),
  );
  assert(siblings.length === record.siblings.length, 'expiry keeps every dot');
  assert(!siblings.some((s) => isExpired(s, nowMs)), 'nothing expired is left live');
  return { siblings };
}

/** The earliest deadline among the record's live values (null: no live value expires). */
export function earliestExpiry(record: KeyRecord): number | null {
  let earliest: number | null = null;
  for (const s of record.siblings) {
    if (s.value === null || s.expiresAtMs === undefined) continue;
    if (earliest === null || s.expiresAtMs < earliest) earliest = s.expiresAtMs;
  }
  return earliest;
}

/** The deadlines of the record's live siblings, aligned with liveValues (null: never expires). */
export function liveExpiries(record: KeyRecord): Array<number | null> {
  const expiries: Array<number | null> = [];
  for (const sibling of record.siblings) {
    if (sibling.value !== null) expiries.push(sibling.expiresAtMs ?? null);
  }
  return expiries;
}

/** Bytes a dot and a causal past cost a sibling on the wire, roughly (for batch budgets). */
const SIBLING_OVERHEAD_BYTES = 64;

/**
 * A record's approximate size: its values plus `siblingOverheadBytes` per sibling (by default
 * what a dot and a past cost on the wire; an engine counting memory passes its own).
 */
export function recordBytes(
  record: KeyRecord,
  siblingOverheadBytes: number = SIBLING_OVERHEAD_BYTES,
): number {
  let bytes = 0;
  for (const sibling of record.siblings) {
    bytes += siblingOverheadBytes + (sibling.value?.byteLength ?? 0);
  }
  return bytes;
}
