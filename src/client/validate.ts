/**
 * Input checks every front end shares. Bad input is rejected with a ValidationError before any
 * message is sent; nothing about the cluster changes.
 */
import { ContextError, decodeContext } from '../core/context.js';
import type { VersionVector } from '../core/types.js';
import { ValidationError } from '../errors.js';
import type { ValueInput } from './types.js';

/** Longest request timeout a caller may ask for; longer waits are almost always a mistake. */
export const TIMEOUT_MS_MAX = 600_000;

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
  return bytes;
}

/** Validates an optional quorum size (`r` or `w`) against n; undefined yields the default. */
export function validateQuorum(name: string, value: unknown, fallback: number, n: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > n) {
    throw new ValidationError(
      `${name} must be an integer between 1 and n=${n}, got ${String(value)}`,
    );
  }
  return value;
}

/** Validates an optional primary-replica count (`pr` or `pw`): 0..quorum, default 0. */
export function validatePrimaries(name: string, value: unknown, quorum: number): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > quorum) {
    throw new ValidationError(
      `${name} must be an integer between 0 and ${quorum}, got ${String(value)}`,
    );
  }
  return value;
}

export function validateTimeout(value: unknown, fallback: number, max = TIMEOUT_MS_MAX): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(
      `timeoutMs must be an integer between 1 and ${max}, got ${String(value)}`,
    );
  }
  return value;
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
