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
