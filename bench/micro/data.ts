/**
 * Shared, deterministic benchmark data: keys shaped like `user:12345`, 1 KiB values of random
 * bytes, actor ids shaped like the runtime's (`n1.3fa2c91b`: node id plus a random epoch) and
 * key records with a realistic causal past. Seeded, so every run measures the same data.
 */
import type { ActorId, KeyRecord, Sibling, VersionVector } from '../../src/core/types.js';
import { compareDots, vvNormalize } from '../../src/core/version.js';

/** The value size every benchmark uses. */
export const VALUE_SIZE = 1024;

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `count` distinct keys `user:N`, N uniform in 0..999 999, in random order. */
export function userKeys(count: number, seed = 42): string[] {
  const random = prng(seed);
  const keys = new Set<string>();
  while (keys.size < count) keys.add(`user:${Math.floor(random() * 1_000_000)}`);
  return [...keys];
}

/** `size` random bytes (random, so nothing downstream gets a compressible value). */
export function randomBytes(size: number, seed: number): Uint8Array {
  const random = prng(seed);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** The actor ids of a 5-node cluster, shaped like the runtime's (`${nodeId}.${epoch}`). */
export const ACTORS: readonly ActorId[] = [
  'n1.3fa2c91b',
  'n2.80d1e4a7',
  'n3.c52b0f19',
  'n4.1e97a6d3',
  'n5.6b04f2ce',
];

/** A request id shaped like the client's (16 hex digits). */
export function requestId(i: number): string {
  return (0x5eed_0000_0000 + i * 0x9e37_79b9).toString(16).padStart(16, '0');
}

/**
 * The causal past every sibling of `recordWithSiblings` shares: what the writers had read
 * before writing (three replicas' earlier writes).
 */
export const SHARED_PAST: VersionVector = vvNormalize([
  [ACTORS[0]!, 40],
  [ACTORS[1]!, 37],
  [ACTORS[2]!, 52],
]);

/**
 * A key record with `count` concurrent siblings, each a 1 KiB value written by one of the
 * key's three replicas (round robin, counters 100, 101, …) after reading SHARED_PAST, each with
 * a request id: what `count` concurrent writes leave behind. With one sibling it is the
 * ordinary case of a key with one value.
 */
export function recordWithSiblings(count: number, seed = 7): KeyRecord {
  const siblings: Sibling[] = [];
  for (let i = 0; i < count; i++) {
    siblings.push({
      dot: [ACTORS[i % 3]!, 100 + i],
      past: SHARED_PAST,
      value: randomBytes(VALUE_SIZE, seed * 1000 + i),
      rid: requestId(seed * 1000 + i),
    });
  }
  siblings.sort((a, b) => compareDots(a.dot, b.dot));
  return { siblings };
}
