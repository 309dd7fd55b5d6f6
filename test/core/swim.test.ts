import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, membershipConfig } from '../../src/config.js';
import { type MemberRecord, Swim, type SwimOutput, supersedes } from '../../src/core/swim.js';
import { nodeId } from '../../src/core/types.js';

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(nodeId) as [
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
];
const rec = (status: MemberRecord['status'], incarnation: number, heartbeat = 0): MemberRecord => ({
  id: b,
  status,
  incarnation,
  heartbeat,
});
const first = () => 0;
/** The production SWIM settings (config.ts holds every default). */
const config = membershipConfig(DEFAULT_CONFIG);

describe('supersedes (merge rule)', () => {
  it.each<[string, MemberRecord, MemberRecord | undefined, boolean]>([
    ['unknown member is learnt', rec('alive', 0), undefined, true],
    ['higher incarnation wins', rec('alive', 2), rec('suspect', 1), true],
    ['lower incarnation loses', rec('dead', 1), rec('alive', 2), false],
    ['equal: suspect beats alive', rec('suspect', 1), rec('alive', 1), true],
    ['equal: dead beats suspect', rec('dead', 1), rec('suspect', 1), true],
    ['equal: alive loses to suspect', rec('alive', 1), rec('suspect', 1), false],
    ['equal: newer heartbeat wins', rec('alive', 1, 5), rec('alive', 1, 4), true],
    ['equal: same record does not replace', rec('alive', 1, 4), rec('alive', 1, 4), false],
    ['left beats a higher incarnation', rec('left', 1), rec('alive', 9), true],
    ['left is final', rec('alive', 9), rec('left', 1), false],
  ])('%s', (_label, incoming, current, expected) => {
    expect(supersedes(incoming, current)).toBe(expected);
  });
});

function peerOf(out: SwimOutput) {
  return out.sends.map((s) => [s.to, s.message.type]);
}

describe('Membership', () => {
  it('starts knowing only itself and its seeds', () => {
    const m = new Swim(d, [a, b, d], first, config);
    expect(m.view().map((r) => r.id)).toEqual([a, b, d]);
    expect(m.record(c)).toBeUndefined();
  });

  it('push-pull: a push carries the full digest and is answered with ours', () => {
    const x = new Swim(c, [a], first, config);
    const y = new Swim(a, [b], first, config);
    const push = x.gossipTick(0, (peers) => peers[0]!);
    expect(peerOf(push)).toEqual([[a, 'm-gossip']]);
    const reply = y.onMessage(push.sends[0]!.message, 1);
    expect(y.view().map((r) => r.id)).toEqual([a, b, c]);
    expect(peerOf(reply)).toEqual([[c, 'm-gossip']]);
    const end = x.onMessage(reply.sends[0]!.message, 2);
    expect(end.sends).toEqual([]); // a reply is not answered again
    expect(x.view().map((r) => r.id)).toEqual([a, b, c]);
  });

  it('refutes a suspicion of itself by bumping its incarnation', () => {
    const m = new Swim(b, [a], first, config);
    const out = m.onGossip(
      a,
      [{ id: b, incarnation: 0, status: 'suspect', suspectedBy: a }],
      0,
      true,
    );
    expect(m.record(b)).toMatchObject({ status: 'alive', incarnation: 1 });
    expect(out.changes).toEqual([{ id: b, status: 'alive', incarnation: 1 }]);
    m.onGossip(a, [{ id: b, incarnation: 4, status: 'dead' }], 0, true);
    expect(m.record(b)).toMatchObject({ status: 'alive', incarnation: 5 });
  });

  it('probe: ack keeps the peer alive', () => {
    const m = new Swim(a, [b], first, config);
    const ping = m.probeTick(0);
    expect(peerOf(ping)).toEqual([[b, 'm-ping']]);
    const seq = (ping.sends[0]!.message as { seq: number }).seq;
    m.onMessage({ type: 'm-ack', from: b, seq, record: rec('alive', 0) }, 10);
    const t = m.onTimer({ kind: 'probe-timeout', seq }, 500);
    expect(t.sends).toEqual([]);
    expect(m.record(b)?.status).toBe('alive');
  });

  it('probe: silence → indirect probes → suspect → dead after the suspicion timeout', () => {
    const m = new Swim(a, [b, c, d], first, config);
    const ping = m.probeTick(0);
    const target = ping.sends[0]!.to;
    const seq = (ping.sends[0]!.message as { seq: number }).seq;
    const indirect = m.onTimer({ kind: 'probe-timeout', seq }, 500);
    expect(indirect.sends.map((s) => s.message.type)).toEqual(['m-ping-req', 'm-ping-req']);
    expect(indirect.sends.map((s) => s.to)).not.toContain(target);
    const suspectOut = m.onTimer({ kind: 'indirect-timeout', seq }, 1000);
    expect(m.record(target)?.status).toBe('suspect');
    expect(suspectOut.sends.map((s) => s.to)).toEqual([target]); // told directly, to refute
    const timer = suspectOut.timers[0]!;
    // 4 nodes: k = 2, no confirmations yet → max = 6 × 4 × 1 × 1000 ms.
    expect(timer.delayMs).toBe(24_000);
    expect(m.onTimer(timer.timer, 1000 + 23_999).changes).toEqual([]);
    const dead = m.onTimer(timer.timer, 1000 + 24_000);
    expect(dead.changes).toEqual([{ id: target, status: 'dead', incarnation: 0 }]);
  });

  it('a refutation arriving by gossip cancels the suspicion', () => {
    const m = new Swim(a, [b], first, config);
    const seq = (m.probeTick(0).sends[0]!.message as { seq: number }).seq;
    m.onTimer({ kind: 'probe-timeout', seq }, 500);
    const out = m.onTimer({ kind: 'indirect-timeout', seq }, 1000);
    expect(m.record(b)?.status).toBe('suspect');
    m.onGossip(b, [rec('alive', 1)], 2000, true);
    expect(m.record(b)).toMatchObject({ status: 'alive', incarnation: 1 });
    expect(m.onTimer(out.timers[0]!.timer, 1_000_000).changes).toEqual([]);
  });

  it('independent accusers shorten the suspicion (Lifeguard)', () => {
    const m = new Swim(a, [b, c, d], first, config);
    const out = m.onGossip(
      c,
      [{ id: b, incarnation: 0, status: 'suspect', suspectedBy: c }],
      0,
      true,
    );
    expect(out.timers[0]!.delayMs).toBe(24_000);
    const more = m.onGossip(
      d,
      [{ id: b, incarnation: 0, status: 'suspect', suspectedBy: d }],
      0,
      true,
    );
    // c = 1 of k = 2: 24000 − 20000 · ln 2 / ln 3.
    expect(more.timers[0]!.delayMs).toBe(11_381);
  });

  it('relays an indirect ping and its ack', () => {
    const helper = new Swim(c, [a, b], first, config);
    const req = helper.onMessage({ type: 'm-ping-req', from: a, target: b, seq: 42 }, 0);
    expect(peerOf(req)).toEqual([[b, 'm-ping']]);
    const ourSeq = (req.sends[0]!.message as { seq: number }).seq;
    const ack = helper.onMessage(
      { type: 'm-ack', from: b, seq: ourSeq, record: rec('alive', 0) },
      1,
    );
    // From the helper itself (a node drops a message whose `from` is not its sender); the
    // record names the probed node.
    expect(ack.sends).toEqual([
      { to: a, message: { type: 'm-ack', from: c, seq: 42, record: rec('alive', 0) } },
    ]);
  });

  it("takes a relayed ack, sent by the helper, as the probed node's answer", () => {
    const prober = new Swim(a, [b], first, config);
    const ping = prober.probeTick(0);
    expect(peerOf(ping)).toEqual([[b, 'm-ping']]);
    const seq = (ping.sends[0]!.message as { seq: number }).seq;
    // The direct ping went unanswered; the helper c relays b's ack, as itself.
    const indirect = prober.onTimer({ kind: 'probe-timeout', seq }, 500);
    expect(indirect.sends.every((s) => s.message.type === 'm-ping-req')).toBe(true);
    prober.onMessage({ type: 'm-ack', from: c, seq, record: rec('alive', 0) }, 600);
    const end = prober.onTimer({ kind: 'indirect-timeout', seq }, 1500);
    expect(end.changes).toEqual([]);
    expect(prober.record(b)?.status).toBe('alive');
  });

  it('without that ack, the same probe ends in suspicion', () => {
    const prober = new Swim(a, [b], first, config);
    const seq = (prober.probeTick(0).sends[0]!.message as { seq: number }).seq;
    prober.onTimer({ kind: 'probe-timeout', seq }, 500);
    prober.onTimer({ kind: 'indirect-timeout', seq }, 1500);
    expect(prober.record(b)?.status).toBe('suspect');
  });

  it('leave is final and spread', () => {
    const m = new Swim(a, [b], first, config);
    const out = m.leave();
    expect(m.record(a)).toMatchObject({ status: 'left', incarnation: 1 });
    expect(peerOf(out)).toEqual([[b, 'm-gossip']]);
    const other = new Swim(b, [a], first, config);
    other.onMessage(out.sends[0]!.message, 0);
    expect(other.record(a)?.status).toBe('left');
    other.onGossip(a, [{ id: a, incarnation: 7, status: 'alive' }], 1, true);
    expect(other.record(a)?.status).toBe('left');
  });
});

describe('Member addresses', () => {
  it('a joiner unknown to a member is learnt with its address before the pull answer', () => {
    const joiner = new Swim(c, [a], first, config, { address: '10.0.0.3:7000' });
    const member = new Swim(a, [b], first, config, { address: '10.0.0.1:7000' });
    const push = joiner.gossipTick(0, (peers) => peers[0]!);
    const reply = member.onMessage(push.sends[0]!.message, 1);
    expect(reply.addresses).toEqual([{ id: c, address: '10.0.0.3:7000' }]);
    expect(peerOf(reply)).toEqual([[c, 'm-gossip']]);
    const back = joiner.onMessage(reply.sends[0]!.message, 2);
    expect(back.addresses).toEqual([{ id: a, address: '10.0.0.1:7000' }]);
    // Already known and unchanged: nothing new to report.
    expect(member.onMessage(joiner.gossipTick(3, () => a).sends[0]!.message, 4).addresses).toEqual(
      [],
    );
  });

  it('a restart at a new address with a higher incarnation replaces the old address', () => {
    const member = new Swim(a, [c], first, config);
    member.onGossip(
      c,
      [{ id: c, incarnation: 5, status: 'alive', heartbeat: 90, address: 'old:1' }],
      0,
    );
    const restarted = new Swim(c, [a], first, config, { address: 'new:2', incarnation: 6 });
    const out = member.onMessage(restarted.gossipTick(1, () => a).sends[0]!.message, 2);
    expect(out.addresses).toEqual([{ id: c, address: 'new:2' }]);
    expect(member.record(c)?.address).toBe('new:2');
  });

  it('a node that hears its old address at its own incarnation refutes with a higher one', () => {
    const restarted = new Swim(c, [a], first, config, { address: 'new:2' });
    const stale: MemberRecord = {
      id: c,
      incarnation: 0,
      status: 'alive',
      heartbeat: 90,
      address: 'old:1',
    };
    const out = restarted.onGossip(a, [stale], 0);
    expect(out.changes).toEqual([{ id: c, status: 'alive', incarnation: 1 }]);
    expect(restarted.record(c)).toMatchObject({ incarnation: 1, address: 'new:2' });
    // The refutation wins over the stale copy everywhere.
    expect(supersedes(restarted.record(c)!, stale)).toBe(true);
  });

  it('an accusation without an address keeps the address the view has', () => {
    const member = new Swim(a, [c], first, config);
    member.onGossip(c, [{ id: c, incarnation: 1, status: 'alive', address: 'x:1' }], 0);
    const out = member.onGossip(b, [{ id: c, incarnation: 1, status: 'suspect' }], 1);
    expect(out.addresses).toEqual([]);
    expect(member.record(c)).toMatchObject({ status: 'suspect', address: 'x:1' });
  });
});
