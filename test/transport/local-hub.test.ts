import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { nodeId } from '../../src/core/types.js';
import { LocalHub, LocalHubTransport } from '../../src/transport/local-hub.js';
import { ack, collect, pairOf, runTransportContract, type TransportPair } from './contract.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Two nodes on one hub; raw data reaches b over a MessageChannel, as from a node elsewhere. */
async function openPair(): Promise<TransportPair> {
  const hub = new LocalHub();
  const a = new LocalHubTransport(hub, nodeId('a'));
  const b = new LocalHubTransport(hub, nodeId('b'));
  a.onMessage(() => {});
  b.onMessage(() => {});
  const { port1, port2 } = new MessageChannel();
  b.channels.connect(nodeId('a'), port2);
  return pairOf(a, b, port1);
}

runTransportContract('LocalHub', openPair);

describe('LocalHub', () => {
  it('delivers on a later turn, in order, the same object, one batch per turn per sender', async () => {
    const hub = new LocalHub();
    const a = new LocalHubTransport(hub, nodeId('a'));
    const b = new LocalHubTransport(hub, nodeId('b'));
    a.onMessage(() => {});
    const got = collect(b);
    const first = ack(0);
    a.send(nodeId('b'), first);
    for (let i = 1; i < 100; i++) a.send(nodeId('b'), ack(i));
    expect(got).toHaveLength(0); // never within the sender's step
    await turn();
    expect(got.map((m) => (m.message as { opId: number }).opId)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    expect(got[0]?.message).toBe(first); // by reference: no clone
    expect(got[0]?.from).toBe('a');
    expect(a.stats()).toMatchObject({ sent: 100, batches: 1, dropped: 0 });
    expect(b.stats()).toMatchObject({ received: 100 });
  });

  it('drops what was queued for a receiver that left or came back since, and from a sender that left', async () => {
    const hub = new LocalHub();
    const a = new LocalHubTransport(hub, nodeId('a'));
    a.onMessage(() => {});
    const b1 = new LocalHubTransport(hub, nodeId('b'));
    const gotB1 = collect(b1);
    a.send(nodeId('b'), ack(1));
    b1.close(); // b stops …
    const b2 = new LocalHubTransport(hub, nodeId('b'));
    const gotB2 = collect(b2); // … and starts again on the same thread
    await turn();
    expect(gotB1).toHaveLength(0);
    expect(gotB2).toHaveLength(0);
    a.send(nodeId('b'), ack(2));
    a.close(); // a stops with a message queued: lost, as a crashed thread's outbox
    await turn();
    expect(gotB2).toHaveLength(0);
    const c = new LocalHubTransport(hub, nodeId('c'));
    c.onMessage(() => {});
    c.send(nodeId('b'), ack(3));
    await turn();
    expect(gotB2.map((m) => (m.message as { opId: number }).opId)).toEqual([3]);
  });

  it('reaches a node on another thread over its MessageChannel', async () => {
    const hubX = new LocalHub();
    const hubY = new LocalHub();
    const a = new LocalHubTransport(hubX, nodeId('a'));
    const b = new LocalHubTransport(hubY, nodeId('b'));
    a.onMessage(() => {});
    const got = collect(b);
    const { port1, port2 } = new MessageChannel();
    a.channels.connect(nodeId('b'), port1);
    b.channels.connect(nodeId('a'), port2);
    try {
      a.send(nodeId('b'), ack(9));
      const deadline = Date.now() + 5000;
      while (got.length === 0 && Date.now() < deadline) await turn();
      expect(got).toEqual([{ from: 'a', message: ack(9) }]);
      expect(a.stats()).toMatchObject({ sent: 1, batches: 1 });
    } finally {
      a.close();
      b.close();
    }
  });
});
