/**
 * The RESP server's bounds against real sockets: max clients, a client that does not read its
 * replies (cut off, counted), the idle timeout, the argument count, the queue of parsed commands
 * (backpressure, no deadlock), and a fast-check fuzz (fixed seed) of hostile byte streams on
 * many connections while a well-behaved ioredis client keeps being served.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESP_PENDING_REPLY_BYTES_MAX as PENDING_REPLY_BYTES_MAX } from '../../../src/config.js';
import { type Cluster, startCluster } from '../../../src/index.js';
import { command, RawClient, type RespHarness, startRespHarness } from './harness.js';

let cluster: Cluster;
const harnesses: RespHarness[] = [];

async function serve(limits: Parameters<typeof startRespHarness>[0]): Promise<RespHarness> {
  const h = await startRespHarness({ ...limits, cluster });
  harnesses.push(h);
  return h;
}

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, n: 3, r: 2, w: 2, requestTimeoutMs: 2000 });
});

afterAll(async () => {
  for (const h of harnesses) await h.close();
  await cluster?.close();
});

/** Polls `check` until it holds (at most `timeoutMs`). */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('RESP bounds', () => {
  it('answers the client past clientsMax with an error and closes it', async () => {
    const h = await serve({ limits: { clientsMax: 2 } });
    const a = new RawClient(h.port);
    const b = new RawClient(h.port);
    await Promise.all([a.connected(), b.connected()]);
    await eventually(() => h.server.clients === 2);
    const c = new RawClient(h.port);
    await c.closedByServer();
    expect(c.text).toBe('-ERR max number of clients reached\r\n');
    expect(h.server.stats.connectionsRejected).toBe(1);
    a.send(command('PING'));
    expect(await a.read((t) => t.includes('PONG'))).toBe('+PONG\r\n');
    a.destroy();
    b.destroy();
  });

  it('cuts off a client that does not read its replies, and counts it', async () => {
    const h = await serve({ limits: { pendingRepliesMax: 8 } });
    await cluster.put('bounds:big', Buffer.alloc(512 * 1024, 120));
    const reader = h.redis({ protocol: 2 });
    const slow = new RawClient(h.port);
    await slow.connected();
    slow.socket.pause(); // never reads
    const request = command('GET', 'bounds:big');
    slow.send(Buffer.concat(Array.from({ length: 200 }, () => request)));
    await eventually(() => h.server.stats.slowReadersCutOff === 1, 20_000);
    await eventually(() => h.server.clients === 1);
    expect(await reader.ping()).toBe('PONG');
    slow.destroy();
  });

  it('cuts off a client whose unread replies pass PENDING_REPLY_BYTES_MAX, below pendingRepliesMax', async () => {
    const h = await serve({ limits: { pendingRepliesMax: 1_000_000 } });
    const value = Buffer.alloc(512 * 1024, 121);
    await cluster.put('bounds:bytes', value);
    const slow = new RawClient(h.port);
    await slow.connected();
    slow.socket.pause(); // never reads
    const count = Math.ceil((2 * PENDING_REPLY_BYTES_MAX) / value.length);
    const request = command('GET', 'bounds:bytes');
    slow.send(Buffer.concat(Array.from({ length: count }, () => request)));
    await eventually(() => h.server.stats.slowReadersCutOff === 1, 30_000);
    await eventually(() => h.server.clients === 0);
    slow.destroy();
  });

  it('closes a connection idle for idleTimeoutMs, and counts it', async () => {
    const h = await serve({ limits: { idleTimeoutMs: 1000 } });
    const idle = new RawClient(h.port);
    await idle.connected();
    idle.send(command('PING'));
    await idle.read((t) => t.includes('PONG'));
    await idle.closedByServer(5000);
    expect(h.server.stats.idleClosed).toBe(1);
  });

  it('closes the connection on more arguments than argsMax, after saying why', async () => {
    const h = await serve({ limits: { argsMax: 4 } });
    const raw = new RawClient(h.port);
    await raw.connected();
    raw.send(command('MGET', 'a', 'b', 'c', 'd'));
    await raw.closedByServer();
    expect(raw.text).toBe('-ERR Protocol error: 5 arguments (the limit is 4)\r\n');
  });

  it('serves a long pipeline through a small command queue (backpressure, no deadlock)', async () => {
    const h = await serve({ limits: { queuedCommandsMax: 4 } });
    const raw = new RawClient(h.port);
    await raw.connected();
    const count = 2000;
    raw.send(Buffer.concat(Array.from({ length: count }, (_, i) => command('ECHO', `m${i}`))));
    const text = await raw.read((t) => t.includes(`m${count - 1}\r\n`), 20_000);
    const replies = text.split('\r\n').filter((line) => line.startsWith('m'));
    expect(replies).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
    raw.destroy();
  });
});

describe('RESP fuzz', () => {
  it('survives hostile byte streams; every reply is well-formed RESP; others keep being served', async () => {
    const h = await serve({ limits: { argsMax: 64, idleTimeoutMs: 1000 } });
    const good = h.redis({ protocol: 2 });
    const valid = fc
      .array(
        fc.oneof(
          fc.constantFrom('GET', 'SET', 'PING', 'ECHO', 'MGET', 'HELLO', 'NOPE', 'CLIENT'),
          fc.string({ maxLength: 12 }),
        ),
        { minLength: 1, maxLength: 5 },
      )
      .map((args) => command(...args));
    const chunk = fc.oneof(
      valid,
      fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)),
      valid.chain((bytes) => fc.nat(bytes.length).map((n) => bytes.subarray(0, n))),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map((n) => Buffer.from(`*1\r\n$${n}\r\n`)),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map((n) => Buffer.from(`*${n}\r\n`)),
      fc.nat({ max: 6 }).map((d) => Buffer.from(`${'*2\r\n'.repeat(d + 1)}$1\r\na\r\n$1\r\nb\r\n`)),
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 6 }), async (chunks) => {
        round++;
        const raw = new RawClient(h.port);
        await raw.connected();
        for (const piece of chunks) raw.send(piece);
        raw.socket.end(); // our side is done: the server must answer what it can, then close
        await raw.closedByServer(10_000);
        expect(wellFormed(raw.text)).toBe(true);
        expect(raw.text).not.toContain('internal error');
        expect(await good.set(`fuzz:${round % 5}`, `r${round}`)).toBe('OK');
        expect(await good.get(`fuzz:${round % 5}`)).toBe(`r${round}`);
      }),
      { seed: 0x66_75_7a, numRuns: 120 },
    );
    expect(h.server.stats.connectionsAccepted).toBeGreaterThanOrEqual(120);
  });
});

/** Whether `text` is a sequence of complete RESP2 replies (what the fuzz sends never asks for RESP3). */
function wellFormed(text: string): boolean {
  let pos = 0;
  const line = (): string | null => {
    const end = text.indexOf('\r\n', pos);
    if (end === -1) return null;
    const out = text.slice(pos, end);
    pos = end + 2;
    return out;
  };
  const reply = (): boolean => {
    const head = line();
    if (head === null || head.length === 0) return false;
    const type = head[0];
    const rest = head.slice(1);
    if (type === '+' || type === '-' || type === ':' || type === '_') return true;
    if (type === '$') {
      const length = Number(rest);
      if (length === -1) return true;
      if (!Number.isInteger(length) || pos + length + 2 > text.length) return false;
      pos += length + 2;
      return true;
    }
    if (type === '*' || type === '%') {
      const count = Number(rest) * (type === '%' ? 2 : 1);
      for (let i = 0; i < count; i++) if (!reply()) return false;
      return true;
    }
    return false;
  };
  while (pos < text.length) if (!reply()) return false;
  return true;
}
