import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { NetworkState } from '../../src/runtime/network-state.js';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];

describe('NetworkState', () => {
  it('starts healed and fault-free', () => {
    const state = new NetworkState(ids);
    expect(state.view()).toEqual({ delayMs: 0, jitterMs: 0, lossRate: 0, groups: null });
    expect(state.groupOf('n1')).toBeNull();
    expect(state.faultsFor('n1')).toEqual({
      blockedPeers: [],
      delayMs: 0,
      jitterMs: 0,
      lossRate: 0,
    });
  });

  it('blocks every peer outside a node group, both ways', () => {
    const state = new NetworkState(ids);
    state.partition([
      ['n1', 'n2'],
      ['n3', 'n4', 'n5'],
    ]);
    expect(state.faultsFor('n1').blockedPeers).toEqual(['n3', 'n4', 'n5']);
    expect(state.faultsFor('n4').blockedPeers).toEqual(['n1', 'n2']);
    expect(ids.map((id) => state.groupOf(id))).toEqual([0, 0, 1, 1, 1]);
  });

  it('puts unlisted nodes together in one last group', () => {
    const state = new NetworkState(ids);
    state.partition([['n3'], ['n1']]);
    expect(state.view().groups).toEqual([['n3'], ['n1'], ['n2', 'n4', 'n5']]);
    expect(state.faultsFor('n3').blockedPeers).toEqual(['n1', 'n2', 'n4', 'n5']);
    expect(state.faultsFor('n2').blockedPeers).toEqual(['n1', 'n3']);
    expect(state.groupOf('n5')).toBe(2);
  });

  it('a new partition replaces the old; heal removes it but keeps the network settings', () => {
    const state = new NetworkState(ids);
    state.setNetwork({ delayMs: 5, lossRate: 0.1 });
    state.partition([['n1']]);
    state.partition([['n5']]);
    expect(state.faultsFor('n1').blockedPeers).toEqual(['n5']);
    const before = state.version;
    state.heal();
    expect(state.version).toBeGreaterThan(before);
    expect(state.view()).toEqual({ delayMs: 5, jitterMs: 0, lossRate: 0.1, groups: null });
    expect(state.faultsFor('n1')).toEqual({
      blockedPeers: [],
      delayMs: 5,
      jitterMs: 0,
      lossRate: 0.1,
    });
  });

  it('setNetwork patches: omitted fields keep their value', () => {
    const state = new NetworkState(ids);
    state.setNetwork({ delayMs: 5, jitterMs: 1, lossRate: 0.01 });
    state.setNetwork({ lossRate: 0 });
    expect(state.view()).toMatchObject({ delayMs: 5, jitterMs: 1, lossRate: 0 });
    state.setNetwork({ delayMs: 60_000, jitterMs: 0 });
    expect(state.view()).toMatchObject({ delayMs: 60_000, jitterMs: 0 });
  });

  it.each([
    [[], /at least one group/],
    ['n1', /at least one group/],
    [[[]], /group 1 must be a non-empty list/],
    [['n1'], /group 1 must be a non-empty list/],
    [[['n1'], ['n9']], /unknown node "n9" in partition group 2; nodes are n1, n2/],
    [[['n1', 3]], /unknown node 3/],
    [[['n1', 'n2'], ['n2']], /node n2 is in partition groups 1 and 2/],
    [[['n1', 'n1']], /node n1 is in partition groups 1 and 1/],
  ])('partition(%j) is a ValidationError and changes nothing', (groups, message) => {
    const state = new NetworkState(ids);
    state.partition([['n1']]);
    expect(() => state.partition(groups as never)).toThrow(ValidationError);
    expect(() => state.partition(groups as never)).toThrow(message);
    expect(state.view().groups).toEqual([['n1'], ['n2', 'n3', 'n4', 'n5']]);
  });

  it.each([
    [{ lossRate: 1.01 }, /lossRate must be a number between 0 and 1/],
    [{ lossRate: -0.5 }, /lossRate/],
    [{ lossRate: Number.NaN }, /lossRate/],
    [{ delayMs: -1 }, /delayMs must be a non-negative number/],
    [{ jitterMs: -0.1 }, /jitterMs/],
    [{ delayMs: 60_001 }, /delayMs must be at most 60000 ms/],
    [{ jitterMs: Number.POSITIVE_INFINITY }, /jitterMs/],
    [{ delayMs: '5' }, /delayMs/],
    [{ delay: 5 }, /unknown network setting "delay"/],
    [{ delayMs: 5, lossRate: 2 }, /lossRate/],
  ])('setNetwork(%j) is a ValidationError and changes nothing', (patch, message) => {
    const state = new NetworkState(ids);
    expect(() => state.setNetwork(patch as never)).toThrow(ValidationError);
    expect(() => state.setNetwork(patch as never)).toThrow(message);
    expect(state.view()).toMatchObject({ delayMs: 0, jitterMs: 0, lossRate: 0 });
  });

  it('a node added under a partition joins the unlisted group; one listing everyone, its own', () => {
    const state = new NetworkState(ids);
    state.partition([['n1']]);
    state.addNode('n6');
    expect(state.view().groups).toEqual([['n1'], ['n2', 'n3', 'n4', 'n5', 'n6']]);
    expect(state.faultsFor('n1').blockedPeers).toEqual(['n2', 'n3', 'n4', 'n5', 'n6']);
    expect(state.groupOf('n6')).toBe(1);
    state.partition([
      ['n1', 'n2', 'n3'],
      ['n4', 'n5', 'n6'],
    ]);
    state.addNode('n7');
    expect(state.view().groups).toEqual([['n1', 'n2', 'n3'], ['n4', 'n5', 'n6'], ['n7']]);
    expect(() => state.partition([['n7'], ['n1']])).not.toThrow();
  });

  it('a removed node leaves its group (and an emptied group goes); unknown to partition()', () => {
    const state = new NetworkState(ids);
    const before = state.version;
    state.partition([['n1'], ['n2', 'n3']]);
    state.removeNode('n1');
    expect(state.view().groups).toEqual([
      ['n2', 'n3'],
      ['n4', 'n5'],
    ]);
    expect(state.groupOf('n1')).toBeNull();
    expect(state.faultsFor('n4').blockedPeers).toEqual(['n2', 'n3']);
    expect(state.version).toBeGreaterThan(before + 1);
    expect(() => state.partition([['n1']])).toThrow(/unknown node "n1"/);
    state.heal();
    state.addNode('n6');
    expect(state.view().groups).toBeNull();
    expect(state.faultsFor('n6').blockedPeers).toEqual([]);
  });
});
