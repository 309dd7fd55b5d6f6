/**
 * The one source of randomness for the simulator, the benchmarks and injected latencies: a seeded
 * xoroshiro128+ (pure-rand) behind a small API. One Prng per run drives everything — scenario
 * choice, latencies, faults, workload — so a seed reproduces the run exactly. Nothing in src/sim
 * may call Math.random.
 */

import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import {
  type xoroshiro128plus,
  xoroshiro128plusFromState,
} from 'pure-rand/generator/xoroshiro128plus';
import { assert } from '../core/assert.js';

type Generator = ReturnType<typeof xoroshiro128plus>;

/**
 * The generator's 128-bit state from a 32-bit seed via splitmix32. (pure-rand's own
 * `xoroshiro128plus(seed)` puts the seed into the state almost verbatim, so for small seeds its
 * first outputs are all close to 1 and neighbouring seeds start alike.)
 */
function stateOf(seed: number): number[] {
  let x = seed | 0;
  const state: number[] = [];
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    state.push((z ^ (z >>> 16)) | 0);
  }
  assert(
    state.some((word) => word !== 0),
    'xoroshiro state is not all zero',
  );
  return state;
}

/** Largest seed accepted: seeds are unsigned 32-bit integers. */
export const SEED_MAX = 0xffff_ffff;

export class Prng {
  readonly seed: number;
  private readonly rng: Generator;
  /** How many numbers were drawn; a cheap fingerprint when comparing two runs. */
  draws = 0;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `seed ${seed} is an integer`);
    assert(seed >= 0 && seed <= SEED_MAX, `seed ${seed} is an unsigned 32-bit integer`);
    this.seed = seed;
    this.rng = xoroshiro128plusFromState(stateOf(seed));
  }

  /** A uniform number in [0, 1). */
  next01(): number {
    this.draws++;
    const x = uniformFloat64(this.rng);
    assert(x >= 0 && x < 1, 'next01 is in [0, 1)');
    return x;
  }

  /** A uniform integer in [lo, hiInclusive]. */
  int(lo: number, hiInclusive: number): number {
    assert(
      Number.isSafeInteger(lo) && Number.isSafeInteger(hiInclusive),
      'int bounds are integers',
    );
    assert(lo <= hiInclusive, `int range [${lo}, ${hiInclusive}] is not empty`);
    this.draws++;
    return uniformInt(this.rng, lo, hiInclusive);
  }

  /** A uniform number in [lo, hi). */
  float(lo: number, hi: number): number {
    assert(lo <= hi, `float range [${lo}, ${hi}) is ordered`);
    return lo + (hi - lo) * this.next01();
  }

  /** True with probability p (p <= 0 never draws true, p >= 1 always does). */
  chance(p: number): boolean {
    assert(!Number.isNaN(p), 'chance probability is a number');
    return this.next01() < p;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick from a non-empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** Picks an index with probability proportional to its weight. */
  pickWeighted(weights: readonly number[]): number {
    const total = weights.reduce((sum, w) => sum + w, 0);
    assert(
      weights.every((w) => w >= 0),
      'weights are not negative',
    );
    assert(total > 0, 'at least one weight is positive');
    let x = this.next01() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.findLastIndex((w) => w > 0);
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }

  /** An id of `hexDigits` random hex digits (at most 13, so it stays a safe integer draw). */
  hex(hexDigits: number): string {
    assert(hexDigits >= 1 && hexDigits <= 13, 'hex digits in 1..13');
    const value = Math.floor(this.next01() * 16 ** hexDigits);
    return value.toString(16).padStart(hexDigits, '0');
  }
}
