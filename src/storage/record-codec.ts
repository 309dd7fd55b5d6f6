/**
 * How a durable engine turns stored bytes back into records (lmdb.ts, log.ts): the one msgpack
 * setup both use, and the checks and normalisation that make a decoded record look like a
 * written one (plain `Uint8Array` values, `rid` and `expiresAtMs` only when stored).
 */
import { Packr } from 'msgpackr';
import type { KeyRecord, Sibling } from '../core/types.js';
import { StorageError } from './engine.js';

/**
 * msgpack without records/shared structures (self-describing, stable across versions), copying
 * binary values out of the source buffer: lmdb's `getBinaryFast` reuses its buffer, and a value
 * decoded from a log file must not keep the whole file's buffer alive.
 */
export const packr = new Packr({ useRecords: false, copyBuffers: true });

/** Throws a StorageError unless `record` has the shape every engine stores. */
export function checkRecordShape(record: KeyRecord, key: string): void {
  if (!Array.isArray(record?.siblings)) {
    throw new StorageError(`record for key ${JSON.stringify(key)} has no siblings array`);
  }
}

/** msgpack of a record, after checking its shape. */
export function encodeRecord(record: KeyRecord, key: string): Buffer {
  checkRecordShape(record, key);
  return encodeValue(record, `key ${JSON.stringify(key)}`);
}

/** msgpack of any storable value; a StorageError naming `what` when it cannot be encoded. */
export function encodeValue(value: unknown, what: string): Buffer {
  try {
    return packr.pack(value);
  } catch (error) {
    throw new StorageError(`cannot encode ${what}`, { cause: error });
  }
}

/** Unpacks a stored record (see `normalizeRecord`). */
export function decodeRecord(bytes: Uint8Array, key: string): KeyRecord {
  return normalizeRecord(packr.unpack(bytes), key);
}

/**
 * A record as msgpack gave it back, checked and rebuilt so every value is a plain Uint8Array
 * (msgpackr hands out Node Buffers), a tombstone stays `null`, and `rid` and `expiresAtMs` are
 * present only when stored (records from before expiry existed decode unchanged, as never
 * expiring). A StorageError when it is not a record.
 */
export function normalizeRecord(raw: unknown, key: string): KeyRecord {
  const siblings = (raw as { siblings?: unknown } | null)?.siblings;
  if (!Array.isArray(siblings)) {
    throw new StorageError(`stored record for key ${JSON.stringify(key)} is corrupt`);
  }
  return { siblings: (siblings as Sibling[]).map((sibling) => normalizeSibling(sibling, key)) };
}

function normalizeSibling(sibling: Sibling, key: string): Sibling {
  const value = sibling.value === null ? null : plainBytes(sibling.value);
  const { rid, expiresAtMs } = sibling;
  if (rid !== undefined && typeof rid !== 'string') {
    throw new StorageError(`stored record for key ${JSON.stringify(key)} has a corrupt rid`);
  }
  // Records written before expiry existed have no expiresAtMs: they never expire.
  if (expiresAtMs !== undefined && !Number.isSafeInteger(expiresAtMs)) {
    throw new StorageError(`stored record for key ${JSON.stringify(key)} has a corrupt expiry`);
  }
  return {
    dot: sibling.dot,
    past: sibling.past,
    value,
    ...(rid === undefined ? {} : { rid }),
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
  };
}

function plainBytes(value: Uint8Array): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new StorageError('stored sibling value is not binary');
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}
