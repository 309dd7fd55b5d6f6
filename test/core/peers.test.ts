/**
 * peers.ts: one notion of down, fed by the runtime, by timeouts (suspicion) and by SWIM; only
 * the runtime and SWIM make a peer dead.
 */
import { describe, expect, it } from 'vitest';
import { coreLimits, DEFAULT_CONFIG } from '../../src/config.js';
import { Effects } from '../../src/core/effects.js';
import { MemberView } from '../../src/core/member-view.js';
import { Peers } from '../../src/core/peers.js';
import { Timers } from '../../src/core/timers.js';
import type { nodeId } from '../../src/core/types.js';
import { nodeIds, sent } from './fake-context.js';

const [n1, n2, n3, n4] = nodeIds(4) as [
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
];

/** A real SWIM view of n1..n4 seen from n1. */
function swimView(): MemberView {
  let nextId = 1;
  const config = coreLimits(DEFAULT_CONFIG).swim;
  return new MemberView({
    self: n1,
    seeds: [n1, n2, n3, n4],
    config,
    now: () => 0,
    random: () => 0,
    timers: new Timers(() => nextId++),
  });
}

describe('Peers', () => {
  it('holds a peer the runtime reported stopped down and dead, until it reports it up', () => {
    const peers = new Peers(n1, null);
    peers.onStatus(n2, false);
    expect(peers.isDown(n2)).toBe(true);
    expect(peers.isDead(n2)).toBe(true);
    expect(peers.isDown(n3)).toBe(false);
    peers.onStatus(n2, true);
    expect(peers.isDown(n2)).toBe(false);
    expect(peers.isDead(n2)).toBe(false);
  });

  it('suspects a peer that let a request time out: down but not dead, until heard from', () => {
    const peers = new Peers(n1, null);
    peers.suspect([n2, n3]);
    expect(peers.isDown(n2)).toBe(true);
    expect(peers.isDead(n2)).toBe(false);
    expect(peers.suspectedCount).toBe(2);
    peers.heardFrom(n2);
    expect(peers.isDown(n2)).toBe(false);
    expect(peers.isDown(n3)).toBe(true);
    expect(peers.suspectedCount).toBe(1);
  });

  it('holds a member SWIM declared dead down and dead', () => {
    const swim = swimView();
    const peers = new Peers(n1, swim);
    expect(peers.isDown(n3)).toBe(false);
    const record = { id: n3, incarnation: 1, status: 'dead' as const };
    swim.onMessage({ type: 'm-gossip', from: n2, records: [record], reply: false }, new Effects());
    expect(peers.isDown(n3)).toBe(true);
    expect(peers.isDead(n3)).toBe(true);
    // Hearing from it does not undo SWIM's verdict; only SWIM (a refutation) does.
    peers.heardFrom(n3);
    expect(peers.isDown(n3)).toBe(true);
  });

  it('never holds itself down', () => {
    const peers = new Peers(n1, null);
    peers.suspect([n1]);
    peers.onStatus(n1, false);
    expect(peers.isDown(n1)).toBe(false);
    expect(peers.suspectedCount).toBe(0);
  });

  it('pings each suspected peer every tick, in sorted order', () => {
    const peers = new Peers(n1, null);
    peers.suspect([n4, n2]);
    peers.onStatus(n3, false); // stopped, not suspected: the runtime tells when it is back
    const out = new Effects();
    peers.onTick(out);
    expect(sent(out, 'ping').map((s) => s.to)).toEqual([n2, n4]);
    expect(out.list).toHaveLength(2);
  });

  it('clears both a stop and a suspicion when the runtime reports the peer up', () => {
    const peers = new Peers(n1, null);
    peers.onStatus(n2, false);
    peers.suspect([n2]);
    peers.onStatus(n2, true);
    expect(peers.isDown(n2)).toBe(false);
    expect(peers.suspectedCount).toBe(0);
    const out = new Effects();
    peers.onTick(out);
    expect(out.list).toEqual([]);
  });
});
