/**
 * Shared helpers for simulator tests: build a seeded simulator, drive an operation to its end,
 * read values, find a key's replicas, run the history checker.
 */
import { expect } from 'vitest';
import type { ClientResult } from '../../src/core/messages.js';
import type { NodeId } from '../../src/core/types.js';
import { liveValues } from '../../src/core/version.js';
import { check } from '../../src/sim/checker.js';
import type { OpHandle } from '../../src/sim/client.js';
import { simOptions } from '../../src/sim/defaults.js';
import { Simulator } from '../../src/sim/simulator.js';
import { Prng } from '../../src/util/prng.js';

export type Overrides = Parameters<typeof simOptions>[0];

export function sim(overrides: Overrides = {}, seed = 1): Simulator {
  return new Simulator(simOptions(overrides), new Prng(seed));
}

/** Runs until the operation ends (failing the test past `msMax` virtual ms); its last answer. */
export function finish(s: Simulator, handle: OpHandle, msMax = 10_000): ClientResult | null {
  expect(s.runUntil(() => handle.op.outcome !== 'pending', msMax)).toBe(true);
  return handle.result;
}

/** A get result's live values as sorted strings ([] for anything else). */
export function values(result: ClientResult | null): string[] {
  if (result === null || !result.ok || result.op !== 'get' || result.record === null) return [];
  return liveValues(result.record)
    .map((v) => new TextDecoder().decode(v))
    .sort();
}

export function primaries(s: Simulator, key: string): NodeId[] {
  return [...s.ring.preferenceList(key, s.options.n)];
}

/** The full history checker over the simulator's current state. */
export function checkAll(s: Simulator) {
  return check({
    writes: s.history.writes(),
    data: s.dataSnapshot(),
    ring: s.ring,
    n: s.options.n,
    reaped: s.history.reaped(),
  });
}
