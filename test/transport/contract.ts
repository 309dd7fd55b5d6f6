/**
 * The acceptance suite every Transport must pass (MessageChannel today, TCP later), in the
 * manner of automerge-repo's runNetworkAdapterTests. A factory yields two connected endpoints.
 */
import type { MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type PeerMessage, PROTOCOL_VERSION } from '../../src/core/messages.js';
import { type NodeId, nodeId } from '../../src/core/types.js';
import type { Transport } from '../../src/transport/transport.js';

export interface TransportPair {
  readonly a: Transport;
  readonly b: Transport;
  readonly idA: NodeId;
  readonly idB: NodeId;
  /** Sends raw, possibly malformed data to `b` as if it came from `a`'s side of the wire. */
  injectRaw(data: unknown): void;
  close(): Promise<void>;
}

export const ack = (opId: number): PeerMessage => ({
  type: 'replica-put-ack',
  v: PROTOCOL_VERSION,
  opId,
});

/**
 * The pair of endpoints `a` (id `a`) and `b` (id `b`), where `port` is the wire end on `a`'s side
 * that raw data is injected through; closing closes both endpoints and the port.
 */
export function pairOf(a: Transport, b: Transport, port: MessagePort): TransportPair {
  return {
    a,
    b,
    idA: nodeId('a'),
    idB: nodeId('b'),
    injectRaw: (data) => port.postMessage(data),
    close: async () => {
      a.close();
      b.close();
      port.close();
    },
  };
}

/** Every message `t` receives from now on, in order. */
export function collect(t: Transport): Array<{ from: NodeId; message: unknown }> {
  const got: Array<{ from: NodeId; message: unknown }> = [];
  t.onMessage((from, message) => got.push({ from, message }));
  return got;
}

/** Polls every turn of the event loop until `check` holds, for at most `timeoutMs` (sockets are slower than ports). */
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export function runTransportContract(name: string, open: () => Promise<TransportPair>): void {
  describe(`Transport contract: ${name}`, () => {
    it('delivers messages with the sender id, values intact', async () => {
      const pair = await open();
      try {
        const got = collect(pair.b);
        const value = new Uint8Array([1, 2, 3]);
        const put: PeerMessage = {
          type: 'replica-put',
          v: PROTOCOL_VERSION,
          opId: 7,
          key: 'k',
          record: { siblings: [{ dot: ['n1.x', 1], past: [], value }] },
        };
        pair.a.send(pair.idB, put);
        await until(() => got.length === 1, 'one message');
        expect(got[0]).toEqual({ from: pair.idA, message: put });
      } finally {
        await pair.close();
      }
    });

    it('delivers many messages both ways and counts them', async () => {
      const pair = await open();
      try {
        const atA = collect(pair.a);
        const atB = collect(pair.b);
        for (let i = 0; i < 2000; i++) {
          pair.a.send(pair.idB, ack(i));
          pair.b.send(pair.idA, ack(i));
        }
        await until(() => atA.length === 2000 && atB.length === 2000, '2000 messages each way');
        expect(new Set(atB.map((m) => (m.message as { opId: number }).opId)).size).toBe(2000);
        expect(pair.a.stats().sent).toBe(2000);
        expect(pair.b.stats().received).toBe(2000);
      } finally {
        await pair.close();
      }
    });

    it('drops (and counts) sends to an unknown peer without throwing', async () => {
      const pair = await open();
      try {
        pair.a.send(nodeId('nobody'), ack(1));
        expect(pair.a.stats().dropped).toBe(1);
      } finally {
        await pair.close();
      }
    });

    it('survives malformed data and a throwing handler', async () => {
      const pair = await open();
      try {
        let calls = 0;
        pair.b.onMessage(() => {
          calls++;
          throw new Error('handler bug');
        });
        pair.injectRaw('not a batch');
        pair.a.send(pair.idB, ack(1));
        await until(() => calls === 1, 'the handler call');
        await until(() => pair.b.stats().dropped >= 2, 'both drops counted');
        const got = collect(pair.b);
        pair.a.send(pair.idB, ack(2));
        await until(() => got.length === 1, 'delivery after the failures');
      } finally {
        await pair.close();
      }
    });

    it('drops sends after close', async () => {
      const pair = await open();
      try {
        pair.a.close();
        pair.a.close(); // idempotent
        pair.a.send(pair.idB, ack(1));
        expect(pair.a.stats().dropped).toBe(1);
      } finally {
        await pair.close();
      }
    });
  });
}
