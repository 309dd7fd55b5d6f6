/**
 * Stale-read detection for `ringkv bench matrix`. Every value the load generator writes carries
 * a write id in its first 8 bytes; ids grow in the order writes are issued, across all keys.
 * Per key the generator remembers the newest id among the writes acknowledged so far.
 *
 * A read is stale when, at the moment it was issued, some write to its key was already
 * acknowledged and every value the read returned was issued before that write (or it returned
 * nothing). Such a read certainly missed an acknowledged write: a value issued earlier cannot
 * supersede a later one (its context was taken before the later write existed), and there are no
 * deletes. The check is conservative in one way: a returned sibling issued later, but
 * concurrent with the acknowledged write rather than superseding it, counts as fresh.
 */
import { assert } from '../core/assert.js';

/** Bytes at the start of each value that hold its write id. */
export const VALUE_ID_BYTES = 8;

/** A value of `sizeBytes` (at least VALUE_ID_BYTES) carrying write id `id`. */
export function encodeValue(id: number, sizeBytes: number): Uint8Array {
  assert(Number.isSafeInteger(id) && id >= 0, `write id ${id} is a safe non-negative integer`);
  assert(sizeBytes >= VALUE_ID_BYTES, `values hold at least ${VALUE_ID_BYTES} bytes`);
  const bytes = new Uint8Array(sizeBytes);
  new DataView(bytes.buffer).setFloat64(0, id, true);
  return bytes;
}

/** The write id a value carries, or null when it was not written by the load generator. */
export function decodeValueId(value: Uint8Array): number | null {
  if (value.byteLength < VALUE_ID_BYTES) return null;
  const id = new DataView(value.buffer, value.byteOffset, VALUE_ID_BYTES).getFloat64(0, true);
  return Number.isSafeInteger(id) && id >= 0 ? id : null;
}

/**
 * The pure rule: `expectedId` is the newest acknowledged write id of the key when the read was
 * issued (null when none was acknowledged yet); `returnedIds` the ids of the values it returned.
 */
export function isStaleRead(expectedId: number | null, returnedIds: readonly number[]): boolean {
  if (expectedId === null) return false;
  for (const id of returnedIds) if (id >= expectedId) return false;
  return true;
}

/** The newest acknowledged write id per key index. */
export class AckedWrites {
  private readonly newest: Float64Array;

  constructor(readonly keys: number) {
    assert(Number.isSafeInteger(keys) && keys >= 1, 'at least one key');
    // -1 means "nothing acknowledged": ids start at 0.
    this.newest = new Float64Array(keys).fill(-1);
  }

  /** Write `id` to key `index` was acknowledged (acks may arrive out of issue order). */
  ack(index: number, id: number): void {
    assert(index >= 0 && index < this.keys, 'key index in range');
    if (id > this.newest[index]!) this.newest[index] = id;
  }

  /** What a read of key `index` issued now must not miss. */
  expected(index: number): number | null {
    assert(index >= 0 && index < this.keys, 'key index in range');
    const id = this.newest[index]!;
    return id < 0 ? null : id;
  }
}
