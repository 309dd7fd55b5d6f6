/**
 * The request lane between the process runtime's front (client/process-lane.ts) and a node
 * process's HTTP server (server/control-lane.ts), over real loopback sockets against a fake
 * NodeControl whose answers the test releases one by one: answers out of order reach their
 * callers, a cancel drops the late answer and reaches the node, a closed lane settles every call
 * `down` and the next send opens a new one, a wrong token gets no upgrade, a malformed frame
 * closes only its lane, the bounds answer `down`, and a closing server drains its lanes.
 */
import http, { type Server } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LaneCounters } from '../../../src/client/lane-counters.js';
import type { LinkReply } from '../../../src/client/node-link.js';
import { type LaneOptions, ProcessLane } from '../../../src/client/process-lane.js';
import type { ClientRequest } from '../../../src/core/messages.js';
import { ControlLanes } from '../../../src/server/control-lane.js';
import type { NodeControl } from '../../../src/server/control-settings.js';
import { createHttpServer } from '../../../src/server/http.js';
import { encodeValue } from '../../../src/transport/codec.js';
import { frameHeader } from '../../../src/transport/frame.js';
import { listen, stop } from './monitor-fakes.js';

const TOKEN = 'a-control-token-of-32-characters';
const unused = (): never => {
  throw new Error('not used by the lane tests');
};
const kv = { put: unused, get: unused, delete: unused, status: unused };

const request = (trace: string): ClientRequest => ({
  op: 'get',
  key: `k-${trace}`,
  r: 2,
  pr: 0,
  timeoutMs: 500,
  trace,
});

interface HeldCall {
  readonly request: ClientRequest;
  readonly answer: () => void;
  cancelled: boolean;
}

/** A node whose requests wait until the test answers them (answer: result names the trace). */
class HeldNode implements NodeControl {
  readonly calls: HeldCall[] = [];

  request(req: ClientRequest) {
    let release: (value: unknown) => void = () => {};
    const reply = new Promise<unknown>((resolve) => {
      release = resolve;
    });
    const call: HeldCall = {
      request: req,
      answer: () => release({ kind: 'answer', result: { ok: true, op: 'get', trace: req.trace } }),
      cancelled: false,
    };
    this.calls.push(call);
    return { reply, cancel: () => (call.cancelled = true) };
  }
  stats = unused;
  inspect = unused;
  explain = unused;
  applyFaults = unused;
}

const answerOf = (trace: string): LinkReply => ({
  kind: 'answer',
  result: { ok: true, op: 'get', trace } as never,
});

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Served {
  readonly server: Server;
  readonly url: string;
  readonly node: HeldNode;
  /** The sockets the server upgraded or refused, in order. */
  readonly upgrades: Duplex[];
}

const servers: Server[] = [];
const lanes: ProcessLane[] = [];
/** Upgraded sockets of bad nodes, which closeAllConnections does not reach. */
const upgraded: Duplex[] = [];

afterEach(async () => {
  for (const lane of lanes.splice(0)) lane.close('test over');
  for (const socket of upgraded.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return stop(server);
    }),
  );
});

/** The node's real HTTP server with control routes (and so lanes). */
async function nodeServer(): Promise<Served> {
  const node = new HeldNode();
  const server = createHttpServer(kv, {
    bodySizeMaxBytes: 1024,
    requestTimeoutMs: 2_000,
    log: () => {},
    control: { node, token: TOKEN },
  });
  return watch(server, node);
}

/** A bare HTTP server whose upgrades go to ControlLanes with the given bounds. */
async function lanesServer(limits: {
  pendingMax: number;
  drainMs: number;
}): Promise<Served & { lanes: ControlLanes }> {
  const node = new HeldNode();
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const controlLanes = new ControlLanes(
    { node, token: TOKEN },
    { ...limits, frameBytesMax: 1024 * 1024 },
  );
  server.on('upgrade', (req, socket, head) => controlLanes.accept(req, socket, head));
  return { ...(await watch(server, node)), lanes: controlLanes };
}

async function watch(server: Server, node: HeldNode): Promise<Served> {
  const upgrades: Duplex[] = [];
  server.on('upgrade', (_req, socket: Duplex) => upgrades.push(socket));
  servers.push(server);
  return { server, node, upgrades, url: await listen(server) };
}

function lane(
  url: string,
  options: Partial<LaneOptions> = {},
  counters?: LaneCounters,
): ProcessLane {
  const opened = new ProcessLane(
    {
      base: url,
      token: TOKEN,
      connectTimeoutMs: 2_000,
      pendingMax: 1_000,
      frameBytesMax: 1024 * 1024,
      ...options,
    },
    undefined,
    counters,
  );
  lanes.push(opened);
  return opened;
}

/** A raw socket upgraded to a lane by hand (the 101 read), for sending bytes the front never would. */
async function rawLane(url: string): Promise<{ socket: Socket; received: Buffer[] }> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => {});
  socket.write(
    'POST /control/lane HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${TOKEN}\r\nConnection: Upgrade\r\nUpgrade: ringkv-lane\r\n` +
      'X-Ringkv-Request: 1\r\nContent-Length: 0\r\n\r\n',
  );
  await until(() => Buffer.concat(received).includes('\r\n\r\n'), 'the 101');
  expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  received.length = 0;
  return { socket, received };
}

function frame(value: unknown): Buffer {
  const body = encodeValue(value);
  return Buffer.concat([frameHeader(body.length), body]);
}

const closedSocket = (socket: Socket) => new Promise((resolve) => socket.once('close', resolve));

describe('process request lane', () => {
  it('answers many concurrent requests out of order to the right callers, on one lane', async () => {
    const { url, node, upgrades } = await nodeServer();
    const front = lane(url);
    const traces = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const calls = traces.map((trace) => front.send(request(trace)));
    await until(() => node.calls.length === traces.length, 'every request at the node');
    expect(node.calls.map((call) => call.request)).toEqual(traces.map(request));
    // Answer odd ones backwards first, then even ones: nothing arrives in send order.
    const order = [...node.calls.filter((_, i) => i % 2 === 1).reverse(), ...node.calls];
    for (const call of order.slice(0, 100)) call.answer();
    await sleep(20);
    for (const call of node.calls.filter((_, i) => i % 2 === 0)) call.answer();
    const replies = await Promise.all(calls.map((call) => call.reply));
    expect(replies).toEqual(traces.map(answerOf));
    expect(upgrades).toHaveLength(1);
    expect(front.size).toBe(0);
  });

  it('drops the answer of a cancelled call and tells the node to stop waiting', async () => {
    const { url, node } = await nodeServer();
    const front = lane(url);
    const call = front.send(request('late'));
    let settled = false;
    void call.reply.then(() => (settled = true));
    await until(() => node.calls.length === 1, 'the request at the node');
    call.cancel();
    await until(() => node.calls[0]?.cancelled === true, 'the cancel at the node');
    node.calls[0]?.answer();
    const next = front.send(request('next'));
    await until(() => node.calls.length === 2, 'the next request');
    node.calls[1]?.answer();
    expect(await next.reply).toEqual(answerOf('next'));
    expect(settled).toBe(false);
    expect(front.size).toBe(0);
  });

  it('never sends a call cancelled while the lane was still opening', async () => {
    const { url, node } = await nodeServer();
    const front = lane(url); // connecting: nothing is written yet
    const gone = front.send(request('gone'));
    gone.cancel();
    const kept = front.send(request('kept'));
    await until(() => node.calls.length === 1, 'the kept request at the node');
    node.calls[0]?.answer();
    expect(await kept.reply).toEqual(answerOf('kept'));
    expect(node.calls.map((c) => c.request.trace)).toEqual(['kept']);
    expect(front.size).toBe(0);
  });

  it('settles every pending call down when the node side closes, and the pool reopens', async () => {
    const { url, node, upgrades } = await nodeServer();
    const { ControlCaller } = await import('../../../src/client/process-link.js');
    const caller = new ControlCaller(TOKEN);
    try {
      const calls = ['a', 'b', 'c'].map((trace) => caller.send(url, request(trace)));
      await until(() => node.calls.length === 3, 'three requests at the node');
      upgrades[0]?.destroy();
      for (const reply of await Promise.all(calls.map((call) => call.reply))) {
        expect(reply).toMatchObject({ kind: 'down', reason: expect.stringMatching(/stopped/) });
      }
      await until(() => node.calls.every((call) => call.cancelled), 'the node to cancel them');
      const again = caller.send(url, request('again'));
      await until(() => node.calls.length === 4, 'the request on a new lane');
      node.calls[3]?.answer();
      expect(await again.reply).toEqual(answerOf('again'));
      expect(upgrades).toHaveLength(2);
    } finally {
      caller.close();
    }
    // A closed pool answers down at once and opens nothing.
    expect(await caller.send(url, request('after')).reply).toMatchObject({ kind: 'down' });
    expect(upgrades).toHaveLength(2);
  });

  it('refuses a wrong token without an upgrade, and a server without control', async () => {
    const { url, node } = await nodeServer();
    const intruder = lane(url, { token: 'another-token-of-32-characters!!' });
    const reply = await intruder.send(request('x')).reply;
    expect(reply).toMatchObject({
      kind: 'down',
      reason: expect.stringMatching(/refused the lane \(401: .*UNAUTHORIZED/),
    });
    expect(intruder.closed).toBe(true);
    expect(node.calls).toHaveLength(0);

    const bare = createHttpServer(kv, { bodySizeMaxBytes: 1, requestTimeoutMs: 1_000 });
    servers.push(bare);
    const bareUrl = await listen(bare);
    expect(await lane(bareUrl).send(request('y')).reply).toMatchObject({ kind: 'down' });
  });

  it('closes a lane that sends a malformed frame, answers a malformed request down', async () => {
    const { url, node } = await nodeServer();
    // A malformed request in a good frame: down for that id, the lane stays.
    const raw = await rawLane(url);
    raw.socket.write(frame([[7, { op: 'get' }]]));
    await until(() => raw.received.length > 0, 'the down reply');
    expect(Buffer.concat(raw.received).subarray(4).toString('latin1')).toMatch(/malformed/);
    expect(raw.socket.destroyed).toBe(false);
    // Bytes that are not a batch: the lane closes.
    for (const bad of [
      frame({ not: 'a batch' }),
      frame([['x', request('a')]]),
      Buffer.concat([frameHeader(3), Buffer.from([0xc1, 0xc1, 0xc1])]),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
    ]) {
      const victim = await rawLane(url);
      const closed = closedSocket(victim.socket);
      victim.socket.write(bad);
      await closed;
    }
    expect(node.calls).toHaveLength(0);
    // The node side carries on.
    const front = lane(url);
    const call = front.send(request('fine'));
    await until(() => node.calls.length === 1, 'a good request');
    node.calls[0]?.answer();
    expect(await call.reply).toEqual(answerOf('fine'));
    raw.socket.destroy();
  });

  it('bounds requests in flight on both sides', async () => {
    const { url, node } = await lanesServer({ pendingMax: 2, drainMs: 1_000 });
    const front = lane(url, { pendingMax: 3 });
    const calls = ['a', 'b', 'c', 'd'].map((trace) => front.send(request(trace)));
    expect(await calls[3]?.reply).toMatchObject({
      kind: 'down',
      reason: expect.stringMatching(/3 requests in flight/),
    });
    expect(await calls[2]?.reply).toMatchObject({
      kind: 'down',
      reason: expect.stringMatching(/2 requests in flight on its lane/),
    });
    expect(node.calls).toHaveLength(2);
    for (const call of node.calls) call.answer();
    expect(await calls[0]?.reply).toEqual(answerOf('a'));
    expect(await calls[1]?.reply).toEqual(answerOf('b'));
  });

  it('says a node that never answers the upgrade is not reachable, after the connect timeout', async () => {
    const silent = net.createServer(() => {});
    const held: Socket[] = [];
    silent.on('connection', (socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = Date.now();
      const reply = await lane(`http://127.0.0.1:${port}`, { connectTimeoutMs: 200 }).send(
        request('z'),
      ).reply;
      expect(reply).toMatchObject({
        kind: 'down',
        reason: expect.stringMatching(/did not open within 200 ms/),
      });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('drains on server close: new requests down, held ones answered, then the lane ends', async () => {
    const {
      url,
      node,
      server,
      lanes: controlLanes,
    } = await lanesServer({
      pendingMax: 10,
      drainMs: 5_000,
    });
    const front = lane(url);
    const held = front.send(request('held'));
    await until(() => node.calls.length === 1, 'the held request');
    let stopped = false;
    servers.splice(servers.indexOf(server), 1);
    const stopping = new Promise<void>((resolve) =>
      server.close(() => {
        stopped = true;
        resolve();
      }),
    );
    controlLanes.close();
    expect(await front.send(request('late')).reply).toMatchObject({
      kind: 'down',
      reason: 'is shutting down',
    });
    await sleep(50);
    expect(stopped).toBe(false);
    node.calls[0]?.answer();
    expect(await held.reply).toEqual(answerOf('held'));
    await stopping;
    await until(() => front.closed, 'the front to see the lane end');
    expect(controlLanes.size).toBe(0);
  });
});

/** A node that upgrades every lane, then sends `bytes` on it: the front must close the lane. */
async function badNode(bytes: Buffer): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (_req, socket: Duplex) => {
    upgraded.push(socket);
    socket.on('error', () => {});
    const head =
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ringkv-lane\r\n\r\n';
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), bytes]));
  });
  servers.push(server);
  return listen(server);
}

const NO_CLOSES = { peer: 0, error: 0, malformed: 0, timeout: 0, local: 0 };

describe('process request lane counters', () => {
  it('counts requests, answers and frames: a turn of sends is one frame', async () => {
    const { url, node, upgrades } = await nodeServer();
    const { ControlCaller } = await import('../../../src/client/process-link.js');
    const caller = new ControlCaller(TOKEN);
    try {
      expect(caller.laneStats()).toEqual([]);
      const calls = Array.from({ length: 50 }, (_, i) => caller.send(url, request(`c${i}`), 'n1'));
      expect(caller.laneStats()[0]).toMatchObject({
        node: 'n1',
        opened: 1,
        sent: 50,
        inFlight: 50,
      });
      await until(() => node.calls.length === 50, 'every request at the node');
      for (const call of node.calls) call.answer();
      await Promise.all(calls.map((call) => call.reply));
      expect(caller.laneStats()).toEqual([
        {
          node: 'n1',
          opened: 1,
          closed: NO_CLOSES,
          sent: 50,
          answered: 50,
          down: 0,
          refused: 0,
          framesWritten: 1, // sent in one turn: one batch
          framesRead: expect.any(Number),
          inFlight: 0,
        },
      ]);
      const { framesRead } = caller.laneStats()[0]!;
      expect(framesRead).toBeGreaterThanOrEqual(1);
      expect(framesRead).toBeLessThanOrEqual(50);
      // A cancelled call leaves flight; its late answer is not counted.
      const cancelled = caller.send(url, request('late'), 'n1');
      await until(() => node.calls.length === 51, 'the late request');
      cancelled.cancel();
      expect(caller.laneStats()[0]).toMatchObject({ sent: 51, inFlight: 0 });
      await until(() => node.calls[50]?.cancelled === true, 'the cancel at the node');
      node.calls[50]?.answer();
      await sleep(20);
      expect(caller.laneStats()[0]).toMatchObject({ answered: 50, framesWritten: 3 });
      expect(upgrades).toHaveLength(1);
    } finally {
      caller.close();
    }
    // Closing the pool closes its lane locally.
    expect(caller.laneStats()[0]?.closed).toEqual({ ...NO_CLOSES, local: 1 });
  });

  it('counts a lane the node closed, the calls it ended down, and the reopen', async () => {
    const { url, node, upgrades } = await nodeServer();
    const { ControlCaller } = await import('../../../src/client/process-link.js');
    const caller = new ControlCaller(TOKEN);
    try {
      const calls = ['a', 'b', 'c'].map((trace) => caller.send(url, request(trace), 'n2'));
      await until(() => node.calls.length === 3, 'three requests at the node');
      upgrades[0]?.end();
      await Promise.all(calls.map((call) => call.reply));
      expect(caller.laneStats()[0]).toMatchObject({
        node: 'n2',
        opened: 1,
        closed: { ...NO_CLOSES, peer: 1 },
        sent: 3,
        answered: 0,
        down: 3,
        inFlight: 0,
      });
      const again = caller.send(url, request('again'), 'n2');
      await until(() => node.calls.length === 4, 'the request on a new lane');
      node.calls[3]?.answer();
      await again.reply;
      expect(caller.laneStats()[0]).toMatchObject({ opened: 2, sent: 4, answered: 1, down: 3 });
    } finally {
      caller.close();
    }
  });

  it('counts refusals past the pending bound', async () => {
    const { url, node } = await nodeServer();
    const counters = new LaneCounters('n3');
    const front = lane(url, { pendingMax: 2 }, counters);
    const calls = ['a', 'b', 'c', 'd'].map((trace) => front.send(request(trace)));
    expect(counters.snapshot()).toMatchObject({ sent: 2, refused: 2, inFlight: 2 });
    await until(() => node.calls.length === 2, 'two requests at the node');
    for (const call of node.calls) call.answer();
    await Promise.all(calls.map((call) => call.reply));
    expect(counters.snapshot()).toMatchObject({ sent: 2, answered: 2, refused: 2, inFlight: 0 });
  });

  it('classes closes: malformed frame, bad frame header, connect timeout, refused upgrade', async () => {
    const counters = new LaneCounters('n4');
    const closes = async (front: ProcessLane) => {
      expect(await front.send(request('x')).reply).toMatchObject({ kind: 'down' });
      await until(() => front.closed, 'the lane to close');
    };
    await closes(lane(await badNode(frame({ not: 'a batch' })), {}, counters));
    await closes(lane(await badNode(Buffer.from([0xff, 0xff, 0xff, 0xff])), {}, counters));
    expect(counters.snapshot()).toMatchObject({
      closed: { ...NO_CLOSES, malformed: 2 },
      framesRead: 1,
      down: 2,
    });
    const silent = net.createServer(() => {});
    const held: Socket[] = [];
    silent.on('connection', (socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      await closes(lane(`http://127.0.0.1:${port}`, { connectTimeoutMs: 100 }, counters));
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    const { url } = await nodeServer();
    await closes(lane(url, { token: 'another-token-of-32-characters!!' }, counters));
    expect(counters.snapshot()).toMatchObject({
      opened: 4,
      closed: { ...NO_CLOSES, malformed: 2, timeout: 1, error: 1 },
      sent: 4,
      answered: 0,
      down: 4,
      inFlight: 0,
    });
  });
});
