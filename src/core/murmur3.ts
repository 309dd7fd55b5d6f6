/**
 * The murmur3 x86 32-bit building blocks (Austin Appleby's public-domain MurmurHash3), shared
 * by the ring's key hash (ring.ts) and the Merkle trees' bucket and version hashes (merkle.ts).
 * Pure integer arithmetic: no allocation, no I/O.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Scrambles one 32-bit block before it enters the hash (also used alone for a tail). */
export function murmurScramble(block: number): number {
  let k = Math.imul(block, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** Mixes one 4-byte block into the running hash. */
export function murmurMixBlock(h: number, block: number): number {
  let mixed = h ^ murmurScramble(block);
  mixed = (mixed << 13) | (mixed >>> 19);
  return (Math.imul(mixed, 5) + 0xe6546b64) | 0;
}

/** The final avalanche, given the number of bytes hashed; returns an unsigned 32-bit hash. */
export function murmurFinalize(h: number, byteLength: number): number {
  let mixed = h ^ byteLength;
  mixed ^= mixed >>> 16;
  mixed = Math.imul(mixed, 0x85ebca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2ae35);
  mixed ^= mixed >>> 16;
  return mixed >>> 0;
}
