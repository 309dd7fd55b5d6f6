import { MessageChannel } from 'node:worker_threads';
import { expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/core/messages.js';
import { nodeId } from '../../src/core/types.js';
import { MessageChannelTransport } from '../../src/transport/message-channel.js';
import { pairOf, runTransportContract, type TransportPair } from './contract.js';

async function openPair(): Promise<TransportPair> {
  const { port1, port2 } = new MessageChannel();
  const a = new MessageChannelTransport();
  const b = new MessageChannelTransport();
  a.connect(nodeId('b'), port1);
  b.connect(nodeId('a'), port2);
  return pairOf(a, b, port1);
}

runTransportContract('MessageChannel', openPair);

it('batches sends made in one tick into one post', async () => {
  const pair = await openPair();
  try {
    for (let i = 0; i < 100; i++)
      pair.a.send(pair.idB, { type: 'replica-put-ack', v: PROTOCOL_VERSION, opId: i });
    await new Promise((resolve) => setImmediate(resolve));
    expect(pair.a.stats()).toMatchObject({ sent: 100, batches: 1 });
  } finally {
    await pair.close();
  }
});

it('batches the sends of every message handled in one event-loop turn into one post', async () => {
  // A node answers each incoming post as its own event; a flush per microtask sent one post
  // per answer (1.1 messages per post under load), a flush per turn sends them together.
  const pair = await openPair();
  try {
    let answered = 0;
    pair.b.onMessage((from) => {
      answered++;
      pair.b.send(from, { type: 'replica-put-ack', v: PROTOCOL_VERSION, opId: answered });
    });
    for (let i = 0; i < 3; i++)
      pair.injectRaw([{ type: 'replica-put-ack', v: PROTOCOL_VERSION, opId: i }]);
    await vi.waitFor(() => expect(answered).toBe(3));
    await new Promise((resolve) => setImmediate(resolve));
    expect(pair.b.stats()).toMatchObject({ sent: 3, batches: 1 });
  } finally {
    await pair.close();
  }
});
