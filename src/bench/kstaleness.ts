/**
 * Closed-form k-staleness of a partial quorum (PBS, Bailis et al., VLDB 2012, section 3.2): with
 * N replicas, writes that reach exactly W of them and reads that ask R chosen uniformly at
 * random, a read misses one given write with probability C(N−W, R) / C(N, R), and misses each of
 * the last k writes independently, so
 *
 *   P(the read returns one of the last k versions) = 1 − (C(N−W, R) / C(N, R))^k.
 *
 * It ignores time (writes are assumed to have reached exactly W replicas, never more), so it is
 * a worst case next to the WARS model, where a write keeps spreading to all N after it commits.
 * R + W > N gives 1 for every k.
 */
import { assert } from '../core/assert.js';
import { checkQuorums } from './wars.js';

/** Most versions `kStaleness` tabulates. */
export const K_MAX = 1000;

/** C(N−W, R) / C(N, R) as a product of ratios: exact enough, and never overflows. */
export function missProbability(n: number, r: number, w: number): number {
  checkQuorums(n, r, w);
  let ratio = 1;
  for (let i = 0; i < r; i++) ratio *= Math.max(0, n - w - i) / (n - i);
  assert(ratio >= 0 && ratio <= 1, 'a probability');
  return ratio;
}

/** P(a read returns one of the last k committed versions). */
export function kStalenessAt(n: number, r: number, w: number, k: number): number {
  assert(Number.isInteger(k) && k >= 1 && k <= K_MAX, `k ${k} is in 1..${K_MAX}`);
  return 1 - missProbability(n, r, w) ** k;
}

/** The table `[{ k, p }]` for k = 1..kMax. */
export function kStaleness(n: number, r: number, w: number, kMax = 5): { k: number; p: number }[] {
  return Array.from({ length: kMax }, (_, i) => ({ k: i + 1, p: kStalenessAt(n, r, w, i + 1) }));
}
