/**
 * Gossip membership wired into NodeCore (member-view.ts): a silent node is declared dead and
 * routed around without a request timing out first, its ring ownership does not change, and it
 * comes back by refuting once it can talk again.
 */
import { describe, expect, it } from 'vitest';
import type { ClientResult } from '../../src/core/messages.js';
import { nodeId } from '../../src/core/types.js';
import { TestNet } from './harness.js';

function unhealthy(net: TestNet): number[] {
  return net.ids.map((id) => net.core(id).stats().membersUnhealthy);
}

/** A key whose preference list includes `node`. */
function keyOn(net: TestNet, node: string): string {
  for (let i = 0; ; i++) {
    if (net.ring.preferenceList(`k${i}`, 3).includes(nodeId(node))) return `k${i}`;
  }
}

describe('gossip membership in NodeCore', () => {
  it('keeps every node alive while all talk', () => {
    const net = new TestNet(5, 3, 64, true);
    for (const id of net.ids) net.input(id, { kind: 'start' });
    net.advance(20_000);
    expect(unhealthy(net)).toEqual([0, 0, 0, 0, 0]);
  });

  it('declares a silent node dead, routes around it, and takes it back when it refutes', () => {
    const net = new TestNet(5, 3, 64, true);
    for (const id of net.ids) net.input(id, { kind: 'start' });
    net.advance(2_000);
    const silent = nodeId('n5');
    net.isolated.add(silent);
    net.advance(40_000);
    const others = net.ids.filter((id) => id !== silent);
    for (const id of others) expect(net.core(id).stats().membersDead).toBe(1);
    // A write for a key n5 replicates goes to a stand-in at once: no timeout was needed.
    const key = keyOn(net, 'n5');
    const coordinator = net.ring.preferenceList(key, 3).find((id) => id !== silent)!;
    const reqId = net.put(coordinator, key, 'v', [], 3);
    net.settle();
    expect(net.reply(reqId)).toMatchObject({ ok: true, sloppy: true } as Partial<ClientResult>);
    net.isolated.delete(silent);
    net.advance(10_000);
    expect(unhealthy(net)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('member addresses in NodeCore', () => {
  it('gossip tells every node each peer address, and a restart at a new one replaces it', () => {
    let generation = 1;
    const own = (id: string) => ({ address: `${id}-${generation}:7000`, incarnation: generation });
    const net = new TestNet(3, 3, 64, true, own);
    for (const id of net.ids) net.input(id, { kind: 'start' });
    net.advance(5_000);
    const heard = (node: string, peer: string) =>
      net.learned.filter((l) => l.node === node && l.peer === peer).map((l) => l.address);
    for (const node of net.ids) {
      for (const peer of net.ids) {
        if (peer !== node)
          expect(heard(node, peer), `${node} of ${peer}`).toEqual([`${peer}-1:7000`]);
      }
    }
    generation = 2;
    net.restart(nodeId('n3'));
    net.input(nodeId('n3'), { kind: 'start' });
    net.advance(5_000);
    expect(heard('n1', 'n3')).toEqual(['n3-1:7000', 'n3-2:7000']);
    expect(heard('n2', 'n3')).toEqual(['n3-1:7000', 'n3-2:7000']);
    const record = net
      .core(nodeId('n1'))
      .members()
      .find((r) => r.id === 'n3');
    expect(record).toMatchObject({ address: 'n3-2:7000', status: 'alive' });
    expect(record?.incarnation).toBeGreaterThanOrEqual(2);
  });

  it('a node that left gossips a final left record', () => {
    const net = new TestNet(3, 3, 64, true);
    for (const id of net.ids) net.input(id, { kind: 'start' });
    net.advance(2_000);
    net.input(nodeId('n3'), { kind: 'leave-membership' });
    net.advance(3_000);
    for (const id of ['n1', 'n2']) {
      const record = net
        .core(nodeId(id))
        .members()
        .find((r) => r.id === 'n3');
      expect(record?.status, id).toBe('left');
    }
  });
});
