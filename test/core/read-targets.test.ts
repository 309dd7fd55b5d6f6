import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Target } from '../../src/core/node-context.js';
import { planRead } from '../../src/core/read-targets.js';
import { type NodeId, nodeId } from '../../src/core/types.js';

const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((id) => nodeId(id)) as [
  NodeId,
  NodeId,
  NodeId,
  NodeId,
  NodeId,
];
const primary = (node: NodeId): Target => ({ node, hintFor: null });
const standIn = (node: NodeId, hintFor: NodeId): Target => ({ node, hintFor });
const nodes = (targets: readonly Target[]) => targets.map((t) => t.node);

describe('planRead', () => {
  it('asks R targets, the coordinator first when it is a primary', () => {
    const plan = planRead([primary(a), primary(b), primary(c)], b, { r: 2, pr: 0 }, 20);
    expect(nodes(plan.asked)).toEqual([b, a]);
    expect(nodes(plan.spares)).toEqual([c]);
  });

  it('keeps preference order when the coordinator is not a target', () => {
    const plan = planRead([primary(a), primary(b), primary(c)], e, { r: 1, pr: 0 }, 20);
    expect(nodes(plan.asked)).toEqual([a]);
    expect(nodes(plan.spares)).toEqual([b, c]);
  });

  it('asks primaries before stand-ins, even a stand-in that is the coordinator', () => {
    const targets = [primary(a), standIn(d, b), primary(c)];
    const plan = planRead(targets, d, { r: 2, pr: 2 }, 20);
    expect(nodes(plan.asked)).toEqual([a, c]);
    expect(nodes(plan.spares)).toEqual([d]);
  });

  it('asks every target at once with readSpeculateMs 0, or when R is every target', () => {
    const targets = [primary(a), primary(b), primary(c)];
    expect(planRead(targets, a, { r: 1, pr: 0 }, 0)).toEqual({ asked: targets, spares: [] });
    expect(planRead(targets, a, { r: 3, pr: 0 }, 20)).toEqual({ asked: targets, spares: [] });
  });

  it('refuses an R the targets cannot give', () => {
    expect(() => planRead([primary(a)], a, { r: 2, pr: 0 }, 20)).toThrow(/1\.\.targets/);
  });

  it('always splits the targets, asks R, and can meet PR whenever the targets can', () => {
    const ids = [a, b, c, d, e];
    const arbitraryTargets = fc
      .uniqueArray(fc.constantFrom(...ids), { minLength: 1, maxLength: 5 })
      .chain((chosen) =>
        fc.tuple(
          fc.constant(chosen),
          fc.array(fc.boolean(), { minLength: chosen.length, maxLength: chosen.length }),
        ),
      )
      .map(([chosen, isStandIn]) =>
        chosen.map((node, i) => (isStandIn[i] ? standIn(node, nodeId('z')) : primary(node))),
      );
    fc.assert(
      fc.property(
        arbitraryTargets,
        fc.constantFrom(...ids),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(0, 1, 20),
        (targets, self, rSeed, prSeed, speculateMs) => {
          const r = 1 + (rSeed % targets.length);
          const pr = prSeed % (r + 1);
          const plan = planRead(targets, self, { r, pr }, speculateMs);
          const all = [...nodes(plan.asked), ...nodes(plan.spares)].sort();
          expect(all).toEqual(nodes(targets).sort());
          const everyone = speculateMs === 0 || r === targets.length;
          expect(plan.asked.length).toBe(everyone ? targets.length : r);
          const primaries = (ts: readonly Target[]) => ts.filter((t) => t.hintFor === null).length;
          expect(primaries(plan.asked)).toBeGreaterThanOrEqual(Math.min(pr, primaries(targets)));
          const selfTarget = targets.find((t) => t.node === self);
          if (!everyone && selfTarget?.hintFor === null) expect(plan.asked[0]!.node).toBe(self);
        },
      ),
    );
  });
});
