/**
 * Input checks every front end shares. Bad input is rejected with a ValidationError before any
 * message is sent; nothing about the cluster changes.
 */
import {
  EXPIRES_AT_MS_MAX,
  PRIMARIES_MIN,
  QUORUM_MIN,
  TIMEOUT_MS_MAX,
  TIMEOUT_MS_MIN,
  TTL_MS_MAX,
} from '../config.js';
import { ContextError, decodeContext } from '../core/context.js';
import type { VersionVector } from '../core/types.js';
import { ValidationError } from '../errors.js';
import type { ValueInput } from './types.js';

const encoder = new TextEncoder();

export function validateKey(key: unknown, keySizeMaxBytes: number): string {
  if (typeof key !== 'string') throw new ValidationError('key must be a string');
  if (key.length === 0) throw new ValidationError('key must not be empty');
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: short keys need no encoding on the hot path.
  if (key.length * 3 <= keySizeMaxBytes) return key;
  const bytes = encoder.encode(key).length;
  if (bytes > keySizeMaxBytes) {
    throw new ValidationError(`key is ${bytes} bytes; the limit is ${keySizeMaxBytes}`);
  }
  return key;
}

/**
 * The bytes a put stores: checked against the size limit, and taken now, in an ArrayBuffer of
 * their own. Requests go out later (the thread runtime posts at the end of the turn) and again
 * on every retry, so bytes read from the caller's buffer then were whatever it held by that
 * time: put('k', buf) and then buf.write(...) stored the later bytes, and over HTTP a retry sent
 * them under the first attempt's Idempotency-Key. A view of a larger buffer (Node's shared 8 KiB
 * pool, as Buffer.from('tiny') makes) also crossed to a worker with the whole of that buffer,
 * which the stored value then kept alive.
 */
export function validateValue(value: unknown, valueSizeMaxBytes: number): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === 'string') bytes = encoder.encode(value);
  else if (value instanceof Uint8Array) bytes = value;
  else throw new ValidationError('value must be a Uint8Array or a string');
  if (bytes.length > valueSizeMaxBytes) {
    throw new ValidationError(
      `value is ${bytes.length} bytes; the limit is ${valueSizeMaxBytes}`,
      true,
    );
  }
  // Checked first: a value over the limit is refused without being copied.
  return bytes === value ? new Uint8Array(bytes) : bytes;
}

/**
 * The one integer range check behind every request option: `value` in min..max, or a
 * ValidationError naming the option and the range (`maxText` names the upper bound, e.g. `n=3`).
 */
export function validateIntegerIn(
  name: string,
  value: unknown,
  min: number,
  max: number,
  maxText = String(max),
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(
      `${name} must be an integer between ${min} and ${maxText}, got ${String(value)}`,
    );
  }
  return value;
}

/** Validates an optional quorum size (`r` or `w`): 1..n; undefined yields the default. */
export function validateQuorum(name: string, value: unknown, fallback: number, n: number): number {
  if (value === undefined) return fallback;
  return validateIntegerIn(name, value, QUORUM_MIN, n, `n=${n}`);
}

/** Validates an optional primary-replica count (`pr` or `pw`): 0..quorum, default 0. */
export function validatePrimaries(name: string, value: unknown, quorum: number): number {
  if (value === undefined) return PRIMARIES_MIN;
  return validateIntegerIn(name, value, PRIMARIES_MIN, quorum);
}

/** Validates an optional timeout: 1..max (at most TIMEOUT_MS_MAX); undefined yields the default. */
export function validateTimeout(value: unknown, fallback: number, max = TIMEOUT_MS_MAX): number {
  if (value === undefined) return fallback;
  return validateIntegerIn('timeoutMs', value, TIMEOUT_MS_MIN, max);
}

/**
 * A write's expiry: `ttlMs` (1..TTL_MS_MAX) or `expiresAtMs` (Unix ms, 1..EXPIRES_AT_MS_MAX),
 * never both; neither: the value does not expire. Returns the fields to put on the request.
 */
export function validateExpiry(options: {
  readonly ttlMs?: unknown;
  readonly expiresAtMs?: unknown;
}): { ttlMs?: number; expiresAtMs?: number } {
  const { ttlMs, expiresAtMs } = options;
  if (ttlMs !== undefined && expiresAtMs !== undefined) {
    throw new ValidationError('give ttlMs or expiresAtMs, not both');
  }
  if (ttlMs !== undefined) return { ttlMs: validateIntegerIn('ttlMs', ttlMs, 1, TTL_MS_MAX) };
  if (expiresAtMs !== undefined) {
    return { expiresAtMs: validateIntegerIn('expiresAtMs', expiresAtMs, 1, EXPIRES_AT_MS_MAX) };
  }
  return {};
}

export function validateContext(context: unknown): VersionVector {
  if (context === undefined) return [];
  if (typeof context !== 'string') throw new ValidationError('context must be a string');
  try {
    return decodeContext(context);
  } catch (error) {
    if (error instanceof ContextError)
      throw new ValidationError(`invalid context: ${error.message}`);
    throw error;
  }
}

export type { ValueInput };
