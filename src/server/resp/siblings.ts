/**
 * Siblings meet a protocol that has none. GET and every command that reads a value answers with
 * one of a key's concurrent values, chosen by one deterministic rule: the last of
 * `GetResult.values`, which lists the live siblings in ascending dot order (the actor id that
 * coordinated the write, then its counter) — the sibling with the greatest dot. Every replica
 * set that holds the same siblings gives the same answer. Nothing is dropped: RINGKV.SIBLINGS
 * returns them all with the context, and a plain SET supersedes them only where they are known.
 */
import type { GetResult } from '../../client/types.js';

/** The index in `result.values` of the value a Redis read answers with, or -1 when not found. */
export function chosenIndex(result: GetResult): number {
  return result.found ? result.values.length - 1 : -1;
}

/** The value a Redis read answers with, or null when the key is not found. */
export function chosenValue(result: GetResult): Uint8Array | null {
  const index = chosenIndex(result);
  return index < 0 ? null : result.values[index]!;
}
