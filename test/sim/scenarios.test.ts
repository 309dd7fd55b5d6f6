/**
 * Scripted fault scenarios on the deterministic simulator, each with a fixed seed and named for
 * what it proves. Every one ends with the full history checker (no acknowledged write lost, no
 * silent overwrite, no resurrection, replicas identical).
 */
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/types.js';
import { contextOf } from '../../src/core/version.js';
import { simOptions } from '../../src/sim/defaults.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { checkAll, finish, type Overrides, primaries, sim, values } from './helpers.js';

function seeded(seed: number, overrides: Overrides = {}): Simulator {
  return sim(overrides, seed);
}

/** Reads every written key through all primaries (read repair), lets reaps finish, checks. */
function settleAndCheck(s: Simulator) {
  s.quiesce();
  s.runFor(2_000);
  const reader = s.client('checker');
  for (const key of s.history.writtenKeys()) {
    finish(s, reader.get(key, { r: s.options.n, pr: s.options.n }));
  }
  s.runFor(s.options.tunables.limits.tombstoneGraceMs * 2 + 5_000);
  return checkAll(s);
}

function dotSets(s: Simulator, key: string): string[] {
  const data = s.dataSnapshot();
  return primaries(s, key).map((node) =>
    JSON.stringify(
      data
        .get(node)
        ?.get(key)
        ?.siblings.map((x) => x.dot) ?? null,
    ),
  );
}

describe('simulator scenarios', () => {
  it('replica down during writes -> hints -> replica back -> hints delivered -> replicas equal', () => {
    const s = seeded(101);
    const c = s.client('c1');
    const down = primaries(s, 'k')[2]!;
    s.crash(down);
    s.runFor(500); // the others learn it is down
    for (let i = 0; i < 5; i++) {
      const put = c.put('k', { w: 3 });
      expect(finish(s, put)).toMatchObject({ ok: true, sloppy: true });
    }
    const hintsWhileDown = s.ids.reduce(
      (sum, id) => sum + (s.node(id).nodeCore?.stats().hintsPending ?? 0),
      0,
    );
    expect(hintsWhileDown).toBe(1); // one hinted key, all five writes merged into it
    s.restart(down);
    s.runFor(3_000); // handoff ticks deliver the hint
    const hintsAfter = s.ids.reduce(
      (sum, id) => sum + (s.node(id).nodeCore?.stats().hintsPending ?? 0),
      0,
    );
    expect(hintsAfter).toBe(0);
    expect(new Set(dotSets(s, 'k')).size).toBe(1); // without any read: handoff alone converged
    expect(settleAndCheck(s)).toEqual([]);
  });

  it('partition with concurrent writes on both sides -> siblings, no loss', () => {
    const s = seeded(202, { w: 1, r: 1 });
    const [a, b, c] = primaries(s, 'k') as [NodeId, NodeId, NodeId];
    const others = s.ids.filter((id) => id !== a);
    s.partition([[a], others]);
    const left = s.client('left');
    const right = s.client('right');
    left.preferNode = a;
    right.preferNode = b;
    const l = left.put('k', { w: 1 });
    const r = right.put('k', { w: 1 });
    expect(finish(s, l)?.ok).toBe(true);
    expect(finish(s, r)?.ok).toBe(true);
    s.heal();
    s.runFor(2_000);
    const get = s.client('reader').get('k', { r: 3, pr: 3 });
    expect(values(finish(s, get))).toEqual([l.op.value, r.op.value].sort());
    expect(c).toBeDefined();
    expect(settleAndCheck(s)).toEqual([]);
  });

  it('delete while a replica is down -> no resurrection after it returns', () => {
    const s = seeded(303);
    const c = s.client('c1');
    expect(finish(s, c.put('k', { w: 3 }))?.ok).toBe(true);
    const read = finish(s, c.get('k', { r: 3 }));
    const down = primaries(s, 'k')[1]!;
    s.crash(down);
    s.runFor(500);
    const record = read?.ok && read.op === 'get' ? read.record : null;
    const del = c.delete('k', { context: contextOf(record!) });
    expect(finish(s, del)?.ok).toBe(true);
    s.runFor(20_000); // longer than the tombstone grace period: a reap could have run
    s.restart(down); // it still holds the old value
    s.runFor(3_000);
    const after = finish(s, s.client('reader').get('k', { r: 3, pr: 3 }));
    expect(values(after)).toEqual([]);
    expect(settleAndCheck(s)).toEqual([]);
  });

  it('duplicated and reordered messages -> no duplicate siblings', () => {
    const s = seeded(404, {
      network: { duplicateRate: 0.5, latency: { exp: { rate: 1 / 20 } } },
    });
    const clients = [s.client('c1'), s.client('c2'), s.client('c3')];
    let context = undefined as ReturnType<typeof contextOf> | undefined;
    for (let round = 0; round < 10; round++) {
      const writes = clients.map((c) => c.put('k', context === undefined ? {} : { context }));
      for (const w of writes) finish(s, w);
      const read = finish(s, clients[0]!.get('k', { r: 3 }));
      const record = read?.ok && read.op === 'get' ? read.record : null;
      const dots = record?.siblings.map((x) => `${x.dot[0]}:${x.dot[1]}`) ?? [];
      expect(new Set(dots).size).toBe(dots.length);
      expect(values(read).length).toBeLessThanOrEqual(3 + 3); // this round's writes and the last
      context = record === null ? undefined : contextOf(record);
    }
    expect(s.network.stats.duplicated).toBeGreaterThan(50);
    expect(settleAndCheck(s)).toEqual([]);
  });

  it('coordinator crash mid-write -> acknowledged and durable, or failed/unknown, never lost', () => {
    const outcomes = new Set<string>();
    const seeds = [505, 506, 507, 508, 509, 510, 511, 512];
    // With retries the write usually completes through another coordinator (same request id);
    // without them the client must report the crash as an unknown outcome.
    for (const [seed, attemptsMax] of seeds.flatMap(
      (seed) =>
        [
          [seed, 3],
          [seed, 1],
        ] as const,
    )) {
      const retry = { ...simOptions().retry, attemptsMax };
      const s = seeded(seed, { diskLatency: { exp: { rate: 1 / 10 } }, retry });
      const c = s.client('c1');
      const coordinator = primaries(s, 'k')[0]!;
      const put = c.put('k', { w: 2 });
      s.runFor(s.prng.float(0, 15)); // crash somewhere inside the write
      s.crash(coordinator);
      finish(s, put);
      outcomes.add(put.op.outcome);
      s.restart(coordinator);
      // The checker fails the run if an acknowledged put is missing after convergence.
      expect(settleAndCheck(s)).toEqual([]);
    }
    expect([...outcomes].sort()).toEqual(['ok', 'unknown']);
  });
});
