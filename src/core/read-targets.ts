/**
 * Which of a get's targets it asks first: targeted reads with speculative retry, Cassandra's
 * read path. A get needs R replies (PR from primaries), so it asks R targets — primaries before
 * stand-ins, and the coordinator itself first among its kind, since its own copy costs no
 * message. The rest are spares: quorum.ts asks them when the first have not all answered after
 * readSpeculateMs, or when what they hold is only tombstones (reaping must hear every primary).
 * readSpeculateMs 0 asks every target at once, Riak's read path.
 *
 * Why: a get that asks all N replicas and answers after R pays N − R extra requests, replies
 * and merges for read repair alone. Measured on the default cluster (5 worker threads, N=3,
 * durable), asking R cut the CPU of a GET ?r=1 by a third.
 */
import { assert } from './assert.js';
import type { Target } from './node-context.js';
import type { NodeId } from './types.js';

export interface ReadPlan {
  /** Asked at once: R targets, at least PR of them primaries (or every target). */
  readonly asked: readonly Target[];
  /** Asked only on speculation or tombstones, in the order they come. */
  readonly spares: readonly Target[];
}

export function planRead(
  targets: readonly Target[],
  self: NodeId,
  quorum: { readonly r: number; readonly pr: number },
  speculateMs: number,
): ReadPlan {
  const { r, pr } = quorum;
  assert(r >= 1 && r <= targets.length, 'a get asks for 1..targets replies');
  assert(speculateMs >= 0, 'readSpeculateMs is never negative');
  if (speculateMs === 0 || r === targets.length) return { asked: targets, spares: [] };
  const ordered = [...targets].sort((a, b) => rank(a, self) - rank(b, self)); // stable
  const asked = ordered.slice(0, r);
  assert(
    primariesIn(asked) >= Math.min(pr, primariesIn(targets)),
    'the targets asked first can meet PR whenever the targets can',
  );
  return { asked, spares: ordered.slice(r) };
}

/** Primaries first, then stand-ins; within each, the coordinator first. */
function rank(target: Target, self: NodeId): number {
  return (target.hintFor === null ? 0 : 2) + (target.node === self ? 0 : 1);
}

/** Counted in a loop, not filtered: planRead runs for every get. */
function primariesIn(targets: readonly Target[]): number {
  let count = 0;
  for (const target of targets) if (target.hintFor === null) count++;
  return count;
}
