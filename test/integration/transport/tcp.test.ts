/**
 * TCP cases beyond the shared contract, on real sockets on 127.0.0.1: framing abuse, silent
 * and slow peers, reconnects, and every way the handshake refuses a peer. No sleeps: every
 * wait polls a condition with a deadline.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type PeerMessage, PROTOCOL_VERSION } from '../../../src/core/messages.js';
import { nodeId } from '../../../src/core/types.js';
import { encodeValue } from '../../../src/transport/codec.js';
import { FrameDecoder, frameHeader } from '../../../src/transport/frame.js';
import type { TcpTransport } from '../../../src/transport/tcp.js';
import {
  collect,
  frameOf,
  helloFrame,
  introduce,
  LOOPBACK,
  openTcpPair,
  rawPeer,
  type Started,
  startNode,
  tlsOf,
  until,
} from './helpers.js';

const ack = (opId: number): PeerMessage => ({ type: 'replica-put-ack', v: PROTOCOL_VERSION, opId });
const b = nodeId('b');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(spec: Parameters<typeof startNode>[0]): Promise<Started> {
  const started = await startNode(spec);
  cleanups.push(() => started.transport.closeAndWait());
  return started;
}

/** A raw peer that passed the hello as `a` to `target` (plain TCP). */
async function helloedRaw(target: TcpTransport) {
  const raw = await rawPeer(target.address().port, null);
  cleanups.push(() => void raw.socket.destroy());
  raw.socket.write(helloFrame({ from: 'a', to: 'b' }));
  expect(await raw.nextFrame()).toMatchObject({ ringkv: 'welcome', node: 'b' });
  return raw;
}

describe('TCP framing on the wire', () => {
  it('takes the hello and many frames, one of them large, in one chunk', async () => {
    const { transport } = await node({ id: 'b', tls: null });
    const got = collect(transport);
    const raw = await rawPeer(transport.address().port, null);
    cleanups.push(() => void raw.socket.destroy());
    // The first frame after the hello is larger than a hello may be: limits switch mid-chunk.
    const large = frameOf(encodeValue([{ ...ack(0), pad: new Uint8Array(10_000) }]));
    const frames = Array.from({ length: 200 }, (_, i) =>
      frameOf(encodeValue([ack(2 * i + 1), ack(2 * i + 2)])),
    );
    raw.socket.write(Buffer.concat([helloFrame({ from: 'a', to: 'b' }), large, ...frames]));
    await until(() => got.length === 401, '401 messages');
    expect(got.map((m) => (m.message as { opId: number }).opId)).toEqual([...Array(401).keys()]);
    expect(got.every((m) => m.from === 'a')).toBe(true);
  });

  it('closes on an oversized length prefix and counts it', async () => {
    const { transport, events } = await node({
      id: 'b',
      tls: null,
      config: { frameBytesMax: 65_536 },
    });
    const raw = await helloedRaw(transport);
    raw.socket.write(frameHeader(0xffff_fff0));
    await raw.closed;
    await until(() => transport.stats().protocolErrors === 1, 'the protocol error counted');
    expect(events.at(-1)).toMatchObject({ kind: 'protocol-error', reason: /frame-too-large/ });
  });

  it('closes on garbage before the hello and on a frame that is not msgpack', async () => {
    const { transport } = await node({ id: 'b', tls: null });
    const http = await rawPeer(transport.address().port, null);
    http.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await http.closed;
    const raw = await helloedRaw(transport);
    raw.socket.write(frameOf(Buffer.from([0xc1, 0xc1, 0xc1]))); // 0xc1 is never used in msgpack
    await raw.closed;
    await until(() => transport.stats().protocolErrors === 2, 'both protocol errors counted');
    expect(transport.stats().received).toBe(0);
  });

  it('drops a frame that is msgpack but no batch, and keeps the connection', async () => {
    const { transport } = await node({ id: 'b', tls: null });
    const got = collect(transport);
    const raw = await helloedRaw(transport);
    raw.socket.write(
      Buffer.concat([frameOf(encodeValue({ not: 'a batch' })), frameOf(encodeValue([ack(1)]))]),
    );
    await until(() => got.length === 1, 'the batch after the bad frame');
    expect(transport.stats()).toMatchObject({ dropped: 1, protocolErrors: 0 });
  });
});

describe('TCP handshake timeouts', () => {
  it.each([
    ['plain', false],
    ['TLS', true],
  ])('closes a %s peer that connects and sends nothing', async (_name, secure) => {
    const { transport, events } = await node({ id: 'b', tls: secure ? await tlsOf('b') : null });
    const silent = await new Promise<Socket>((resolve) => {
      const socket: Socket = netConnect(transport.address().port, LOOPBACK, () => resolve(socket));
    });
    silent.on('error', () => {});
    cleanups.push(() => void silent.destroy());
    await new Promise<void>((resolve) => silent.on('close', () => resolve()));
    await until(() => transport.stats().handshakeTimeouts === 1, 'the timeout counted');
    expect(events.some((e) => e.kind === 'handshake-timeout')).toBe(true);
  });

  it('close drops a connection still in its TLS handshake at once', async () => {
    const { transport } = await startNode({
      id: 'b',
      tls: await tlsOf('b'),
      config: { handshakeTimeoutMs: 60_000 },
    });
    const silent = netConnect(transport.address().port, LOOPBACK);
    silent.on('error', () => {});
    cleanups.push(() => void silent.destroy());
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
    const closing = transport.closeAndWait();
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    await closing;
  });

  it('the dialer gives up on an acceptor that never answers, and backs off', async () => {
    const mute = await silentServer(false);
    const { transport, events } = await node({ id: 'a', tls: null });
    transport.setPeerAddress(b, { host: LOOPBACK, port: mute.port });
    transport.send(b, ack(1));
    await until(() => transport.stats().handshakeTimeouts >= 1, 'the dialer timeout');
    await until(() => transport.stats().reconnects >= 1, 'a redial');
    expect(events.some((e) => e.kind === 'handshake-timeout' && e.direction === 'out')).toBe(true);
  });
});

/**
 * A server that accepts connections and reads nothing: `answer` makes it welcome the hello as
 * `b` first (a peer that stops reading after its handshake), else it stays mute.
 */
async function silentServer(answer: boolean): Promise<{ port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    if (!answer) return socket.pause();
    const decoder = new FrameDecoder(4096);
    socket.on('data', (chunk: Buffer) => {
      if (decoder.push(chunk).length === 0) return;
      socket.pause(); // the hello arrived: answer it, then read nothing ever again
      socket.write(
        frameOf(
          encodeValue({
            ringkv: 'welcome',
            version: PROTOCOL_VERSION,
            node: 'b',
            incarnation: 'b0b0b0b0b0b0b0b0',
          }),
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  return { port: address.port, sockets };
}

describe('TCP backpressure', () => {
  it('a peer that stops reading fills a bounded queue, then sends are dropped and counted', async () => {
    const reader = await silentServer(true);
    const queueBytesMax = 1024 * 1024;
    const { transport } = await node({
      id: 'a',
      tls: null,
      config: {
        frameBytesMax: 65_536,
        sendQueueBytesMax: queueBytesMax,
        sendQueueMessagesMax: 100_000,
      },
    });
    transport.setPeerAddress(b, { host: LOOPBACK, port: reader.port });
    const value = new Uint8Array(1024);
    let total = 0;
    const put = (i: number): PeerMessage => ({
      type: 'replica-put',
      v: PROTOCOL_VERSION,
      opId: i,
      key: `k${i}`,
      record: { siblings: [{ dot: ['a', i], past: [], value }] },
    });
    transport.send(b, put(total++));
    await until(() => transport.stats().connectionsOut === 1, 'the connection');
    // Rounds of sends with a turn of the event loop between: the socket takes what the kernel
    // takes, then write() says wait, and the queue absorbs the rest up to its bound.
    for (let round = 0; round < 2000 && transport.stats().queueDrops === 0; round++) {
      for (let i = 0; i < 256; i++) transport.send(b, put(total++));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stats = transport.stats();
    expect(stats.queueDrops).toBeGreaterThan(0);
    expect(stats.queuedBytes).toBeLessThanOrEqual(queueBytesMax);
    expect(stats.queuedBytes).toBeGreaterThan(queueBytesMax - 2 * 1100); // full, to one message
    expect(stats.sent + stats.queuedMessages + stats.queueDrops).toBe(total);
    expect(stats.dropped).toBe(stats.queueDrops);
    // Nothing more leaves while the peer does not read: the socket's 'drain' never came.
    const sentBefore = stats.sent;
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(transport.stats().sent).toBe(sentBefore);
  });
});

describe('TCP reconnect', () => {
  it('reconnects with backoff after the peer is closed and reopened on the same port', async () => {
    const pair = await openTcpPair(true);
    cleanups.push(() => pair.close());
    const atB = collect(pair.tb);
    pair.a.send(b, ack(1));
    await until(() => atB.length === 1, 'the first message');
    const port = pair.tb.address().port;
    await pair.tb.closeAndWait();
    // A message written before `a` sees the close would be lost in flight (best effort);
    // once `a` knows, messages wait in its queue while it redials.
    await until(() => pair.ta.stats().connectionsOut === 0, 'a to notice the close');
    pair.a.send(b, ack(2));
    await until(() => pair.ta.stats().reconnects >= 2, 'redials to the closed port');
    const reopened = await node({ id: 'b', tls: await tlsOf('b'), port });
    const atNewB = collect(reopened.transport);
    // The reopened b is a new incarnation: what `a` queued for the old one is dropped, never
    // delivered to its successor (a reply to an operation id the new process reuses).
    await until(() => pair.ta.stats().staleDrops === 1, 'the queued message dropped as stale');
    await until(() => pair.ta.stats().connectionsOut > 0, 'the new connection');
    pair.a.send(b, ack(3));
    await until(() => atNewB.length === 1, 'a message on the new connection');
    expect(atNewB).toEqual([{ from: 'a', message: ack(3) }]);
  });

  it('keeps what it queued while a peer was unreachable if the peer did not restart', async () => {
    const pair = await openTcpPair(false);
    cleanups.push(() => pair.close());
    const atB = collect(pair.tb);
    pair.a.send(b, ack(1));
    await until(() => atB.length === 1, 'the first message');
    // Point `a` at a dead port, queue a message, then back at b (the same process: same life).
    const address = pair.tb.address();
    pair.ta.setPeerAddress(b, { host: LOOPBACK, port: 1 });
    pair.a.send(b, ack(2));
    await until(() => pair.ta.stats().reconnects >= 1, 'a failed dial to the dead port');
    pair.ta.setPeerAddress(b, { host: LOOPBACK, port: address.port });
    await until(() => atB.length === 2, 'the queued message, delivered to the same life');
    expect(atB[1]).toEqual({ from: 'a', message: ack(2) });
    expect(pair.ta.stats().staleDrops).toBe(0);
  });

  it('redial cuts a reconnect backoff short: what waited goes out at once', async () => {
    // A port where nothing listens yet: a's dial is refused, and its next one is a minute away.
    const probe = await node({ id: 'b', tls: null });
    const port = probe.transport.address().port;
    await probe.transport.closeAndWait();
    const { transport: a, events } = await node({
      id: 'a',
      tls: null,
      config: { reconnectDelayBaseMs: 60_000, reconnectDelayMaxMs: 60_000 },
    });
    a.setPeerAddress(b, { host: LOOPBACK, port });
    a.send(b, ack(1));
    await until(() => events.some((e) => e.kind === 'connect-failed'), 'the refused dial');
    const started = await node({ id: 'b', tls: null, port });
    const atB = collect(started.transport);
    a.redial(b);
    await until(() => atB.length === 1, 'the waiting message, well before the backoff ends');
    expect(atB[0]).toEqual({ from: 'a', message: ack(1) });
    expect(a.stats().reconnects).toBe(1);
  });

  it('redial leaves a handshake under way alone', async () => {
    const { port, held } = await silentListener();
    const { transport: a } = await node({
      id: 'a',
      tls: null,
      config: { handshakeTimeoutMs: 60_000 },
    });
    a.setPeerAddress(b, { host: LOOPBACK, port });
    a.send(b, ack(1));
    await until(() => held.length === 1, 'the dial to the silent listener');
    const dialed = held[0] as Socket;
    let ended = false;
    dialed.on('end', () => {
      ended = true;
    });
    a.redial(b);
    // A close would reach the listener over loopback within microseconds; give it 100 ms.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect({ ended, dials: held.length, reconnects: a.stats().reconnects }).toEqual({
      ended: false,
      dials: 1,
      reconnects: 0,
    });
  });

  it('moves to a new address given by setPeerAddress', async () => {
    const { transport: a } = await node({ id: 'a', tls: null });
    const first = await node({ id: 'b', tls: null });
    const second = await node({ id: 'b', tls: null });
    const atFirst = collect(first.transport);
    const atSecond = collect(second.transport);
    introduce(a, first.transport, 'b');
    a.send(b, ack(1));
    await until(() => atFirst.length === 1, 'delivery to the first address');
    introduce(a, second.transport, 'b');
    // The second b is another process: ack(2), queued while `a` still knew the first one, is
    // dropped as stale when the second answers; what `a` sends once connected arrives.
    a.send(b, ack(2));
    await until(() => a.stats().staleDrops === 1, 'the message for the first b dropped');
    await until(() => a.stats().connectionsOut > 0, 'the connection to the second address');
    a.send(b, ack(3));
    await until(() => atSecond.length === 1, 'delivery to the second address');
    expect(atSecond[0]).toEqual({ from: 'a', message: ack(3) });
    expect(atFirst).toHaveLength(1);
    a.removePeer(b);
    a.send(b, ack(4));
    // The stale ack(2), and ack(4) to a peer with no address any more.
    expect(a.stats()).toMatchObject({ dropped: 2, staleDrops: 1, connectionsOut: 0 });
  });

  it('drops a message larger than a frame at send, counted and reported', async () => {
    const { transport, events } = await node({
      id: 'a',
      tls: null,
      config: { frameBytesMax: 65_536 },
    });
    transport.setPeerAddress(b, { host: LOOPBACK, port: 9 });
    transport.send(b, {
      type: 'transfer',
      v: PROTOCOL_VERSION,
      value: new Uint8Array(65_536),
    } as unknown as PeerMessage);
    expect(transport.stats()).toMatchObject({ dropped: 1, oversizeDrops: 1, queuedMessages: 0 });
    expect(events).toEqual([
      {
        kind: 'oversize',
        peer: 'b',
        direction: 'out',
        reason: expect.stringMatching(/^transfer of 655\d\d bytes/),
      },
    ]);
  });
});

/** A listener that accepts and never answers the hello (the handshake hangs); closed after the test. */
async function silentListener(): Promise<{ port: number; held: Socket[] }> {
  const held: Socket[] = [];
  const silent = createServer((socket) => void held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, LOOPBACK, resolve));
  cleanups.push(() => {
    for (const socket of held) socket.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  return { port: (silent.address() as { port: number }).port, held };
}

describe('TCP greeting', () => {
  it('greet dials every peer with nothing to send: each sees the handshake; a dead port is not reached', async () => {
    const a = await node({ id: 'a', tls: null });
    const b2 = await node({ id: 'b', tls: null });
    const c = await node({ id: 'c', tls: null });
    introduce(a.transport, b2.transport, 'b');
    introduce(a.transport, c.transport, 'c');
    a.transport.setPeerAddress(nodeId('d'), { host: LOOPBACK, port: 1 });
    const greeted = await a.transport.greet(5_000);
    expect(greeted).toEqual({ reached: 2, peers: 3 });
    for (const peer of [b2, c]) {
      await until(
        () => peer.events.some((e) => e.kind === 'connected' && e.direction === 'in'),
        'the greeting handshake at the peer',
      );
    }
    expect(a.events).toContainEqual(
      expect.objectContaining({
        kind: 'connect-failed',
        peer: 'd',
        reason: expect.stringMatching(/ECONNREFUSED/),
      }),
    );
    // Nothing was sent, and a greeted peer's link is simply open for later messages.
    expect(a.transport.stats()).toMatchObject({ sent: 0, connectionsOut: 2 });
    expect(await a.transport.greet(5_000)).toEqual({ reached: 2, peers: 3 });
  });

  it('greet follows a peer whose address changes while its handshake hangs', async () => {
    const { port, held } = await silentListener();
    const a = await node({ id: 'a', tls: null, config: { handshakeTimeoutMs: 60_000 } });
    const real = await node({ id: 'b', tls: null });
    a.transport.setPeerAddress(b, { host: LOOPBACK, port });
    const greeting = a.transport.greet(10_000);
    await until(() => held.length === 1, 'the dial to the silent address');
    introduce(a.transport, real.transport, 'b'); // the address changes: the link resets
    expect(await greeting).toEqual({ reached: 1, peers: 1 });
  });

  it('greet gives up waiting after its timeout', async () => {
    const { port } = await silentListener();
    const { transport } = await node({
      id: 'a',
      tls: null,
      config: { handshakeTimeoutMs: 60_000 },
    });
    transport.setPeerAddress(b, { host: LOOPBACK, port });
    const startMs = performance.now();
    expect(await transport.greet(200)).toEqual({ reached: 0, peers: 1 });
    expect(performance.now() - startMs).toBeLessThan(5_000);
  });
});

describe('TCP lanes', () => {
  it('sends bulk messages on their own connection', async () => {
    const pair = await openTcpPair(true);
    cleanups.push(() => pair.close());
    const atB = collect(pair.tb);
    pair.a.send(b, { type: 'transfer-done', v: PROTOCOL_VERSION } as unknown as PeerMessage);
    pair.a.send(b, { type: 'handoff', v: PROTOCOL_VERSION } as unknown as PeerMessage);
    await until(() => atB.length === 2, 'both messages');
    await until(() => pair.tb.stats().connectionsIn === 2, 'two inbound connections');
    expect(pair.ta.stats().connectionsOut).toBe(2);
  });
});
