/**
 * YCSB-style workloads for `ringkv bench matrix`: the core workloads A (50 % read / 50 % update),
 * B (95 / 5) and C (read only), and YCSB's ZipfianGenerator for the key choice.
 *
 * The generator is the one in YCSB's `ZipfianGenerator.java` (after Gray et al., "Quickly
 * Generating Billion-Record Synthetic Databases", SIGMOD 1994): item i (0-based) is drawn with
 * probability proportional to 1 / (i + 1)^theta, theta = 0.99 by default. Items 0 and 1 have
 * their exact probabilities (1 / zeta(n) and 0.5^theta / zeta(n)); the rest follow Gray's closed
 * form. YCSB additionally scrambles the item number through a hash so that hot keys are not
 * neighbours in its B-tree-ordered stores; ringkv hashes every key onto the ring anyway, so the
 * plain generator is used and key index i is simply the (i + 1)-th most popular key — which also
 * lets the preload write the hottest keys first.
 *
 * All randomness comes from a seeded Prng, so a seed reproduces the operation stream.
 */
import { assert } from '../core/assert.js';
import type { Prng } from '../util/prng.js';

/** YCSB's default zipfian constant. */
export const ZIPFIAN_THETA_DEFAULT = 0.99;

/** Most items a generator takes; zeta(n) is an O(n) sum computed once. */
export const ZIPFIAN_ITEMS_MAX = 100_000_000;

/** zeta(n, theta) = sum over i = 1..n of 1 / i^theta. */
export function zeta(items: number, theta: number): number {
  assert(Number.isSafeInteger(items) && items >= 1, 'zeta needs at least one item');
  let sum = 0;
  for (let i = 1; i <= items; i++) sum += 1 / i ** theta;
  return sum;
}

export class ZipfianGenerator {
  readonly items: number;
  readonly theta: number;
  /** zeta(items, theta): the normalising constant. */
  readonly zetan: number;
  private readonly alpha: number;
  private readonly eta: number;
  private readonly half: number;

  constructor(items: number, theta = ZIPFIAN_THETA_DEFAULT) {
    assert(
      Number.isSafeInteger(items) && items >= 1 && items <= ZIPFIAN_ITEMS_MAX,
      `zipfian items ${items} in 1..${ZIPFIAN_ITEMS_MAX}`,
    );
    assert(theta > 0 && theta < 1, `zipfian theta ${theta} in (0, 1)`);
    this.items = items;
    this.theta = theta;
    this.zetan = zeta(items, theta);
    const zeta2 = zeta(2, theta);
    this.alpha = 1 / (1 - theta);
    // With one or two items Gray's formula divides by zero; the two exact branches cover them.
    this.eta = items <= 2 ? 0 : (1 - (2 / items) ** (1 - theta)) / (1 - zeta2 / this.zetan);
    this.half = 0.5 ** theta;
  }

  /** The probability of item `index` under the exact zipfian law (what the generator approximates). */
  probabilityOf(index: number): number {
    assert(index >= 0 && index < this.items, 'index in range');
    return 1 / (index + 1) ** this.theta / this.zetan;
  }

  /** The next item, in 0..items-1 (0 is the most popular). */
  next(prng: Prng): number {
    const u = prng.next01();
    const uz = u * this.zetan;
    if (uz < 1 || this.items === 1) return 0;
    if (uz < 1 + this.half || this.items === 2) return 1;
    const index = Math.floor(this.items * (this.eta * u - this.eta + 1) ** this.alpha);
    // u < 1 keeps the power below 1, but rounding may still reach `items`.
    const clamped = Math.min(Math.max(index, 0), this.items - 1);
    assert(clamped >= 0 && clamped < this.items, 'zipfian item in range');
    return clamped;
  }
}

export type WorkloadName = 'a' | 'b' | 'c';

export interface WorkloadSpec {
  readonly name: WorkloadName;
  /** What YCSB calls it. */
  readonly title: string;
  /** Fraction of operations that are reads; the rest are updates. */
  readonly readProportion: number;
}

/** YCSB core workloads A, B and C (no inserts, scans or read-modify-writes). */
export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadSpec>> = Object.freeze({
  a: { name: 'a', title: 'A: update heavy (50 % read, 50 % update)', readProportion: 0.5 },
  b: { name: 'b', title: 'B: read mostly (95 % read, 5 % update)', readProportion: 0.95 },
  c: { name: 'c', title: 'C: read only (100 % read)', readProportion: 1 },
});

export type OpKind = 'read' | 'update';

/** Picks the next operation of a workload. */
export function nextOp(spec: WorkloadSpec, prng: Prng): OpKind {
  if (spec.readProportion >= 1) return 'read';
  return prng.next01() < spec.readProportion ? 'read' : 'update';
}

/** The key name of item `index`: `user` + index, like YCSB's `user` + number keys. */
export function keyName(index: number): string {
  return `user${index}`;
}
