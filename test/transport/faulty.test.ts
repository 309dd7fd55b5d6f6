/**
 * FaultyTransport: the shared acceptance suite (over a real MessageChannel, with no faults and
 * with harmless ones), then each fault in isolation over an in-memory inner transport with fake
 * timers, so delays are checked exactly and without sleeping.
 */
import { MessageChannel } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type PeerMessage, PROTOCOL_VERSION } from '../../src/core/messages.js';
import { type NodeId, nodeId } from '../../src/core/types.js';
import { NO_FAULTS, type TransportFaults } from '../../src/transport/faults.js';
import { FaultyTransport } from '../../src/transport/faulty.js';
import { MessageChannelTransport } from '../../src/transport/message-channel.js';
import type { MessageHandler, Transport, TransportStats } from '../../src/transport/transport.js';
import { pairOf, runTransportContract, type TransportPair } from './contract.js';

function openPair(faults: TransportFaults | null): () => Promise<TransportPair> {
  return async () => {
    const { port1, port2 } = new MessageChannel();
    const innerA = new MessageChannelTransport();
    const innerB = new MessageChannelTransport();
    innerA.connect(nodeId('b'), port1);
    innerB.connect(nodeId('a'), port2);
    const a = new FaultyTransport(innerA);
    const b = new FaultyTransport(innerB);
    if (faults !== null) {
      a.setFaults(faults);
      b.setFaults(faults);
    }
    return pairOf(a, b, port1);
  };
}

runTransportContract('Faulty(MessageChannel), no faults', openPair(null));
runTransportContract(
  'Faulty(MessageChannel), another peer blocked',
  openPair({ ...NO_FAULTS, blockedPeers: ['c'] }),
);

/** An inner transport that records sends and lets the test deliver incoming messages. */
class RecordingTransport implements Transport {
  readonly sent: Array<{ to: NodeId; opId: number }> = [];
  private handler: MessageHandler = () => {};
  closed = false;

  send(to: NodeId, message: PeerMessage): void {
    this.sent.push({ to, opId: (message as { opId: number }).opId });
  }
  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }
  deliver(from: string, message: unknown): void {
    this.handler(nodeId(from), message);
  }
  close(): void {
    this.closed = true;
  }
  stats(): TransportStats {
    return { sent: this.sent.length, received: 0, dropped: 0, batches: 0 };
  }
}

const ack = (opId: number): PeerMessage => ({ type: 'replica-put-ack', v: PROTOCOL_VERSION, opId });
const B = nodeId('b');
const C = nodeId('c');

/** A PRNG stand-in that replays the given draws in a loop. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('FaultyTransport faults', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes everything straight through with no faults, or after clearFaults', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner);
    t.send(B, ack(1));
    t.setFaults({ ...NO_FAULTS, blockedPeers: ['b'] });
    t.clearFaults();
    t.send(B, ack(2));
    expect(inner.sent.map((s) => s.opId)).toEqual([1, 2]);
    expect(t.faultStats()).toMatchObject({ blockedOut: 0, delayed: 0 });
  });

  it('a partition is two-way: drops sends to and messages from blocked peers, and counts them', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner);
    const got: string[] = [];
    t.onMessage((from) => got.push(from));
    t.setFaults({ ...NO_FAULTS, blockedPeers: ['b'] });
    t.send(B, ack(1));
    t.send(C, ack(2));
    inner.deliver('b', ack(3));
    inner.deliver('c', ack(4));
    expect(inner.sent).toEqual([{ to: C, opId: 2 }]);
    expect(got).toEqual(['c']);
    expect(t.faultStats()).toMatchObject({ blockedOut: 1, blockedIn: 1 });
    expect(t.stats().dropped).toBe(2);

    t.setFaults(NO_FAULTS); // heal
    t.send(B, ack(5));
    inner.deliver('b', ack(6));
    expect(inner.sent.at(-1)).toEqual({ to: B, opId: 5 });
    expect(got).toEqual(['c', 'b']);
  });

  it('drops each message with probability lossRate', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner, { random: draws(0.05, 0.5, 0.2, 0.09) });
    t.setFaults({ ...NO_FAULTS, lossRate: 0.1 });
    for (let i = 0; i < 4; i++) t.send(B, ack(i));
    expect(inner.sent.map((s) => s.opId)).toEqual([1, 2]);
    expect(t.faultStats().lost).toBe(2);
  });

  it('loss 1 drops everything, loss 0 nothing', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner);
    t.setFaults({ ...NO_FAULTS, lossRate: 1 });
    for (let i = 0; i < 100; i++) t.send(B, ack(i));
    expect(inner.sent).toEqual([]);
    t.setFaults({ ...NO_FAULTS, lossRate: 0, delayMs: 0 });
    for (let i = 0; i < 100; i++) t.send(B, ack(i));
    expect(inner.sent).toHaveLength(100);
  });

  it('delays by delayMs plus uniform jitter', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner, { random: draws(0, 0.5, 0.999) });
    t.setFaults({ ...NO_FAULTS, delayMs: 10, jitterMs: 4 });
    t.send(B, ack(1)); // 10 ms
    t.send(B, ack(2)); // 12 ms
    t.send(B, ack(3)); // ~14 ms
    expect(t.faultStats()).toMatchObject({ delayed: 3, delayedPending: 3 });
    vi.advanceTimersByTime(9);
    expect(inner.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(inner.sent.map((s) => s.opId)).toEqual([1]);
    vi.advanceTimersByTime(2);
    expect(inner.sent.map((s) => s.opId)).toEqual([1, 2]);
    vi.advanceTimersByTime(2);
    expect(inner.sent.map((s) => s.opId)).toEqual([1, 2, 3]);
    expect(t.faultStats().delayedPending).toBe(0);
  });

  it('delayFor sets a per-message base delay; bad answers count as 0', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner);
    t.setFaults({
      ...NO_FAULTS,
      delayMs: 1000,
      delayFor: (message) => {
        const { opId } = message as { opId: number };
        if (opId === 1) return 50;
        if (opId === 2) return Number.NaN;
        if (opId === 3) throw new Error('hook bug');
        return -5;
      },
    });
    for (let i = 1; i <= 4; i++) t.send(B, ack(i));
    expect(inner.sent.map((s) => s.opId)).toEqual([2, 3, 4]);
    vi.advanceTimersByTime(50);
    expect(inner.sent.map((s) => s.opId)).toEqual([2, 3, 4, 1]);
  });

  it('bounds the delayed messages and counts the overflow', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner, { delayedMax: 3 });
    t.setFaults({ ...NO_FAULTS, delayMs: 5 });
    for (let i = 0; i < 5; i++) t.send(B, ack(i));
    expect(t.faultStats()).toMatchObject({ delayedPending: 3, overflowed: 2 });
    vi.advanceTimersByTime(5);
    expect(inner.sent).toHaveLength(3);
    t.send(B, ack(9));
    expect(t.faultStats().delayedPending).toBe(1);
  });

  it('a delayed message to a peer that became blocked meanwhile is dropped', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner);
    t.setFaults({ ...NO_FAULTS, delayMs: 5 });
    t.send(B, ack(1));
    t.setFaults({ ...NO_FAULTS, blockedPeers: ['b'] });
    vi.advanceTimersByTime(5);
    expect(inner.sent).toEqual([]);
    expect(t.faultStats().blockedOut).toBe(1);
  });

  it('close drops waiting messages and closes the inner transport', () => {
    const inner = new RecordingTransport();
    const t = new FaultyTransport(inner);
    t.setFaults({ ...NO_FAULTS, delayMs: 5 });
    t.send(B, ack(1));
    t.close();
    vi.advanceTimersByTime(10);
    expect(inner.closed).toBe(true);
    expect(t.faultStats().delayedPending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    [{ lossRate: 1.5 }, /lossRate/],
    [{ lossRate: -0.1 }, /lossRate/],
    [{ delayMs: -1 }, /delayMs/],
    [{ jitterMs: 60_001 }, /jitterMs/],
    [{ delayMs: Number.POSITIVE_INFINITY }, /delayMs/],
  ])('refuses invalid faults %j', (bad, message) => {
    const t = new FaultyTransport(new RecordingTransport());
    expect(() => t.setFaults({ ...NO_FAULTS, ...bad })).toThrow(message);
  });
});

describe('FaultyTransport over a real MessageChannel', () => {
  it('delayed messages still arrive, batched by the inner transport', async () => {
    const pair = await openPair({ ...NO_FAULTS, delayMs: 20 })();
    try {
      const got: unknown[] = [];
      pair.b.onMessage((_from, message) => got.push(message));
      const sentAt = Date.now();
      for (let i = 0; i < 50; i++) pair.a.send(pair.idB, ack(i));
      const deadline = Date.now() + 5_000;
      while (got.length < 50 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(got).toHaveLength(50);
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(19);
      expect(pair.a.stats().batches).toBeLessThan(50);
    } finally {
      await pair.close();
    }
  });
});
