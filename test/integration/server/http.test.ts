import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  ClusterStatus,
  DeleteOptions,
  GetOptions,
  GetResult,
  KvClient,
  PutOptions,
  PutResult,
  ValueInput,
} from '../../../src/client/types.js';
import {
  QuorumError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '../../../src/errors.js';
import { createHttpServer } from '../../../src/server/http.js';

interface Entry {
  values: Uint8Array[];
  /** Each value's deadline, aligned with values (absent: none expire). */
  expires?: (number | null)[];
  context: string;
}

/** The fake's "now" for turning a ttlMs into a deadline. */
const FAKE_NOW_MS = 1_700_000_000_000;

interface Call {
  op: 'put' | 'get' | 'delete' | 'status';
  key?: string;
  options?: PutOptions | GetOptions;
}

/**
 * An honest in-memory KvClient: a put with the current context replaces the values, a blind put
 * adds a sibling, a delete leaves an empty entry with a context (a tombstone). It can be armed to
 * throw on its next call, or to hang until its signal aborts.
 */
class FakeClient implements KvClient {
  readonly store = new Map<string, Entry>();
  readonly calls: Call[] = [];
  private nextError: unknown = null;
  private hangNext = false;
  private version = 0;
  /** Resolves with the signal (if the server gave one) of the last call that hung. */
  hung: Promise<AbortSignal | undefined> = Promise.resolve(undefined);
  private resolveHung: (signal: AbortSignal | undefined) => void = () => {};

  failNext(error: unknown): void {
    this.nextError = error;
  }

  hangOnce(): void {
    this.hangNext = true;
    this.hung = new Promise((resolve) => {
      this.resolveHung = resolve;
    });
  }

  reset(): void {
    this.store.clear();
    this.calls.length = 0;
    this.nextError = null;
    this.hangNext = false;
    this.version = 0;
  }

  async put(key: string, value: ValueInput, options: PutOptions = {}): Promise<PutResult> {
    await this.enter({ op: 'put', key, options }, options.signal);
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    const entry = this.store.get(key);
    const keep = entry !== undefined && entry.context !== options.context;
    const kept = keep ? entry.values : [];
    const expiry =
      options.expiresAtMs ?? (options.ttlMs === undefined ? null : FAKE_NOW_MS + options.ttlMs);
    this.store.set(key, {
      values: [...kept, new Uint8Array(bytes)],
      expires: [...(keep ? (entry.expires ?? []) : []), expiry],
      context: this.nextContext(),
    });
    return {
      acked: options.w ?? 2,
      w: options.w ?? 2,
      coordinator: 'n1',
      sloppy: false,
      siblings: 1,
    };
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    await this.enter({ op: 'get', key, options }, options.signal);
    const entry = this.store.get(key);
    const values = entry?.values ?? [];
    return {
      found: values.length > 0,
      values,
      context: entry?.context ?? '',
      replies: options.r ?? 2,
      r: options.r ?? 2,
      sloppy: false,
      siblings: values.length,
      expiresAtMs: entry?.expires ?? values.map(() => null),
      strings: () => values.map((v) => new TextDecoder().decode(v)),
      json: <T>() => values.map((v) => JSON.parse(new TextDecoder().decode(v)) as T),
    };
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<PutResult> {
    await this.enter({ op: 'delete', key, options }, options.signal);
    this.store.set(key, { values: [], context: this.nextContext() });
    return {
      acked: options.w ?? 2,
      w: options.w ?? 2,
      coordinator: 'n2',
      sloppy: false,
      siblings: 1,
    };
  }

  async status(): Promise<ClusterStatus> {
    await this.enter({ op: 'status' }, undefined);
    return {
      nodes: [
        {
          id: 'n1',
          state: 'up',
          partitions: 8,
          keys: this.store.size,
          hintsPending: 0,
          partitionGroup: null,
          messagesDropped: 0,
        },
      ],
      ring: { partitionCount: 8, owners: ['n1'] },
      config: { n: 1, r: 1, w: 1, requestTimeoutMs: 100, valueSizeMaxBytes: 64, durable: false },
      network: { delayMs: 0, jitterMs: 0, lossRate: 0, groups: null },
    };
  }

  private async enter(call: Call, signal: AbortSignal | undefined): Promise<void> {
    this.calls.push(call);
    const error = this.nextError;
    if (error !== null) {
      this.nextError = null;
      throw error;
    }
    if (this.hangNext) {
      this.hangNext = false;
      this.resolveHung(signal);
      await new Promise<never>(() => {}); // ignores the signal on purpose: the server must not wait
    }
  }

  private nextContext(): string {
    this.version += 1;
    return `ctx-${this.version}`;
  }
}

const BODY_MAX = 1024;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Sends raw bytes on a fresh socket; resolves with everything received until the server closes. */
function rawRequest(port: number, head: string, body = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', (error) => (received === '' ? reject(error) : resolve(received)));
    socket.on('close', () => resolve(received));
    socket.write(head + body);
  });
}

/**
 * Streams a chunked body that never ends; resolves with the reply once the server closes the
 * socket, or rejects after 64 MiB (the server kept reading: the upload was never stopped).
 */
function endlessChunkedUpload(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunk = `4000\r\n${'x'.repeat(0x4000)}\r\n`;
    let received = '';
    let writtenBytes = 0;
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      received += data;
    });
    socket.on('error', () => {}); // EPIPE/ECONNRESET once the server closes: expected
    socket.on('close', () => resolve(received));
    const pump = (): void => {
      while (!socket.destroyed) {
        writtenBytes += chunk.length;
        if (writtenBytes > 64 * 1024 * 1024) {
          socket.destroy();
          reject(new Error('server kept reading an oversized upload'));
          return;
        }
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.write('PUT /kv/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    pump();
  });
}

describe('HTTP API', () => {
  const client = new FakeClient();
  const logged: string[] = [];
  const server = createHttpServer(client, {
    bodySizeMaxBytes: BODY_MAX,
    requestTimeoutMs: 5_000,
    log: (line) => logged.push(line),
  });
  let base = '';

  beforeAll(async () => {
    base = await listen(server);
  });
  afterAll(() => stop(server));
  beforeEach(() => {
    client.reset();
    logged.length = 0;
  });

  const kv = (key: string, query = ''): string => `${base}/kv/${key}${query}`;

  describe('GET /kv/:key', () => {
    it('returns 404 with JSON for a key never written, without a context', async () => {
      const res = await fetch(kv('missing'));
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'not found', code: 'NOT_FOUND' });
      expect(res.headers.get('x-ringkv-context')).toBeNull();
    });

    it('returns 200 with the raw bytes and the context for one value', async () => {
      const bytes = new Uint8Array([0, 1, 2, 255]);
      await fetch(kv('bin'), { method: 'PUT', body: bytes });
      const res = await fetch(kv('bin'));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('x-ringkv-context')).toBe('ctx-1');
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    });

    it('returns 300 with base64 siblings after two blind writes', async () => {
      await fetch(kv('k'), { method: 'PUT', body: 'one' });
      await fetch(kv('k'), { method: 'PUT', body: 'two' });
      const res = await fetch(kv('k'));
      expect(res.status).toBe(300);
      expect(res.headers.get('x-ringkv-context')).toBe('ctx-2');
      const body = (await res.json()) as { siblings: { value: string }[] };
      const values = body.siblings.map((s) => Buffer.from(s.value, 'base64').toString('utf8'));
      expect(values).toEqual(['one', 'two']);
    });

    it('passes r and timeout_ms to the client', async () => {
      await fetch(kv('k', '?r=3&timeout_ms=250'));
      expect(client.calls[0]?.options).toEqual({ r: 3, timeoutMs: 250 });
    });

    it('leaves absent options out instead of passing undefined', async () => {
      await fetch(kv('k'));
      expect(Object.keys(client.calls[0]?.options ?? {})).toEqual([]);
    });
  });

  describe('PUT and DELETE /kv/:key', () => {
    it('put answers 200 JSON with acked and w and stores the raw body', async () => {
      const res = await fetch(kv('k', '?w=3'), { method: 'PUT', body: 'hello' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        acked: 3,
        w: 3,
        coordinator: 'n1',
        sloppy: false,
        siblings: 1,
      });
      expect(client.calls[0]).toMatchObject({ op: 'put', key: 'k', options: { w: 3 } });
      expect(new TextDecoder().decode(client.store.get('k')?.values[0])).toBe('hello');
    });

    it('accepts an empty body', async () => {
      const res = await fetch(kv('empty'), { method: 'PUT' });
      expect(res.status).toBe(200);
      expect(client.store.get('empty')?.values[0]).toEqual(new Uint8Array());
    });

    it('round-trips the context: a put with it replaces the siblings', async () => {
      await fetch(kv('k'), { method: 'PUT', body: 'a' });
      await fetch(kv('k'), { method: 'PUT', body: 'b' });
      const context = (await fetch(kv('k'))).headers.get('x-ringkv-context') ?? '';
      const res = await fetch(kv('k'), {
        method: 'PUT',
        body: 'merged',
        headers: { 'X-Ringkv-Context': context },
      });
      expect(res.status).toBe(200);
      expect(client.calls.at(-1)?.options).toMatchObject({ context });
      const read = await fetch(kv('k'));
      expect(read.status).toBe(200);
      expect(await read.text()).toBe('merged');
    });

    it('delete answers 200 JSON; a get then is 404 but still carries the tombstone context', async () => {
      await fetch(kv('k'), { method: 'PUT', body: 'v' });
      const del = await fetch(kv('k', '?w=1&timeout_ms=100'), {
        method: 'DELETE',
        headers: { 'X-Ringkv-Context': 'ctx-1' },
      });
      expect(del.status).toBe(200);
      expect(await del.json()).toEqual({
        acked: 1,
        w: 1,
        coordinator: 'n2',
        sloppy: false,
        siblings: 1,
      });
      expect(client.calls.at(-1)?.options).toMatchObject({
        context: 'ctx-1',
        w: 1,
        timeoutMs: 100,
      });
      const res = await fetch(kv('k'));
      expect(res.status).toBe(404);
      expect(res.headers.get('x-ringkv-context')).toBe('ctx-2');
    });
  });

  describe('keys', () => {
    it('decodes percent-encoding, including an encoded slash', async () => {
      await fetch(kv('a%2Fb%20c%C3%A9'), { method: 'PUT', body: 'x' });
      expect(client.calls[0]?.key).toBe('a/b cé');
    });

    it('rejects malformed percent-encoding with 400 before calling the client', async () => {
      const res = await fetch(kv('%E0%A4%A'));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'VALIDATION' });
      expect(client.calls).toEqual([]);
    });

    it('rejects an empty key with 400', async () => {
      const res = await fetch(`${base}/kv/`, { method: 'PUT', body: 'x' });
      expect(res.status).toBe(400);
      expect(client.calls).toEqual([]);
    });

    it('treats an unencoded slash as an unknown route (404)', async () => {
      const res = await fetch(kv('a/b'));
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'NO_ROUTE' });
    });
  });

  describe('query validation', () => {
    it.each([
      ['?r=abc'],
      ['?r=1.5'],
      ['?r=0'],
      ['?r=-1'],
      ['?r='],
      ['?timeout_ms=-1'],
      ['?timeout_ms=1e3'],
      ['?timeout_ms=999999999'],
      ['?w=2'],
      ['?R=2'],
      ['?r=1&r=2'],
    ])('GET %s is a 400 and never reaches the client', async (query) => {
      const res = await fetch(kv('k', query));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'VALIDATION' });
      expect(client.calls).toEqual([]);
    });

    it.each([['?w=abc'], ['?r=2'], ['?timeout_ms=0']])('PUT %s is a 400', async (query) => {
      const res = await fetch(kv('k', query), { method: 'PUT', body: 'x' });
      expect(res.status).toBe(400);
      expect(client.calls).toEqual([]);
    });
  });

  describe('expiry (TTL)', () => {
    it('passes ?ttl_ms= and ?expires_at_ms= to the client and reports the deadline on GET', async () => {
      const put = await fetch(kv('k', '?ttl_ms=30000'), { method: 'PUT', body: 'v' });
      expect(put.status).toBe(200);
      expect(client.calls[0]?.options).toMatchObject({ ttlMs: 30_000 });
      const res = await fetch(kv('k'));
      expect(res.headers.get('x-ringkv-expires-at-ms')).toBe(String(FAKE_NOW_MS + 30_000));
      await fetch(kv('at', '?expires_at_ms=1800000000000'), { method: 'PUT', body: 'v' });
      expect(client.calls[2]?.options).toMatchObject({ expiresAtMs: 1_800_000_000_000 });
    });

    it('takes the X-Ringkv-Ttl-Ms and X-Ringkv-Expires-At-Ms headers too', async () => {
      await fetch(kv('k'), { method: 'PUT', body: 'v', headers: { 'X-Ringkv-Ttl-Ms': '500' } });
      const headers = { 'X-Ringkv-Expires-At-Ms': '1800000000000' };
      await fetch(kv('k2'), { method: 'PUT', body: 'v', headers });
      expect(client.calls.map((c) => c.options)).toMatchObject([
        { ttlMs: 500 },
        { expiresAtMs: 1_800_000_000_000 },
      ]);
    });

    it('lists each sibling with its deadline (null: none) on a 300', async () => {
      await fetch(kv('k', '?ttl_ms=1000'), { method: 'PUT', body: 'one' });
      await fetch(kv('k'), { method: 'PUT', body: 'two' });
      const res = await fetch(kv('k'));
      expect(res.status).toBe(300);
      const body = (await res.json()) as { siblings: { expiresAtMs: number | null }[] };
      expect(body.siblings.map((s) => s.expiresAtMs)).toEqual([FAKE_NOW_MS + 1000, null]);
    });

    it.each([
      ['?ttl_ms=0', {}],
      ['?ttl_ms=1.5', {}],
      ['?ttl_ms=99999999999999', {}],
      ['?expires_at_ms=-5', {}],
      ['?ttl_ms=5&expires_at_ms=5', {}],
      ['?ttl_ms=5', { 'X-Ringkv-Ttl-Ms': '5' }],
      ['', { 'X-Ringkv-Ttl-Ms': 'soon' }],
      ['', { 'X-Ringkv-Ttl-Ms': '5', 'X-Ringkv-Expires-At-Ms': '5' }],
    ])('PUT %s with headers %j is a 400 and never reaches the client', async (query, headers) => {
      const res = await fetch(kv('k', query), { method: 'PUT', body: 'x', headers });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'VALIDATION' });
      expect(client.calls).toEqual([]);
    });

    it('DELETE refuses ttl_ms (a tombstone does not expire)', async () => {
      const res = await fetch(kv('k', '?ttl_ms=5'), { method: 'DELETE' });
      expect(res.status).toBe(400);
      expect(client.calls).toEqual([]);
    });
  });

  describe('Idempotency-Key', () => {
    it("passes a write's key, bare or as a structured-field string, as its requestId", async () => {
      await fetch(kv('a'), { method: 'PUT', body: 'v', headers: { 'Idempotency-Key': 'id-1' } });
      await fetch(kv('b'), { method: 'PUT', body: 'v', headers: { 'Idempotency-Key': '"id-2"' } });
      await fetch(kv('c'), { method: 'DELETE', headers: { 'Idempotency-Key': 'id-3' } });
      await fetch(kv('d'), { method: 'PUT', body: 'v' });
      expect(client.calls.map((c) => (c.options as PutOptions).requestId)).toEqual([
        'id-1',
        'id-2',
        'id-3',
        undefined,
      ]);
    });

    it.each([['""'], [`"${'x'.repeat(129)}"`], ['caf\u00e9']])(
      'refuses Idempotency-Key %j with a 400 that never reaches the client',
      async (value) => {
        // fetch refuses some of these header values itself: send the bytes raw.
        const { port } = server.address() as AddressInfo;
        const head =
          `PUT /kv/k HTTP/1.1\r\nHost: x\r\nIdempotency-Key: ${value}\r\n` +
          'Content-Length: 1\r\nConnection: close\r\n\r\n';
        const reply = await rawRequest(port, head, 'v');
        expect(reply).toMatch(/^HTTP\/1\.1 400 /);
        expect(reply).toMatch(/Idempotency-Key must be 1\.\.128 printable ASCII/);
        expect(client.calls).toEqual([]);
      },
    );
  });

  describe('supersede', () => {
    it('passes ?supersede=local and X-Ringkv-Supersede: local to the client', async () => {
      const query = await fetch(kv('k', '?supersede=local'), { method: 'PUT', body: 'v' });
      expect(query.status).toBe(200);
      const headers = { 'X-Ringkv-Supersede': 'local' };
      await fetch(kv('k2'), { method: 'PUT', body: 'v', headers });
      await fetch(kv('k3'), { method: 'PUT', body: 'v' });
      expect(client.calls.map((c) => (c.options as PutOptions).supersede)).toEqual([
        'local',
        'local',
        undefined,
      ]);
    });

    it.each([
      ['?supersede=global', {}, /query parameter 'supersede' must be 'local'.*got 'global'/],
      ['?supersede=', {}, /must be 'local'/],
      ['?supersede=local&supersede=local', {}, /more than once/],
      ['', { 'X-Ringkv-Supersede': 'LOCAL' }, /header x-ringkv-supersede must be 'local'/],
      ['', { 'X-Ringkv-Supersede': '' }, /must be 'local'/],
      ['?supersede=local', { 'X-Ringkv-Supersede': 'local' }, /not both/],
    ])(
      'PUT %s with headers %j is a 400 and never reaches the client',
      async (query, headers, message) => {
        const res = await fetch(kv('k', query), { method: 'PUT', body: 'x', headers });
        expect(res.status).toBe(400);
        const body = (await res.json()) as { code: string; error: string };
        expect(body.code).toBe('VALIDATION');
        expect(body.error).toMatch(message);
        expect(client.calls).toEqual([]);
      },
    );

    it('DELETE refuses supersede, as a parameter and as a header', async () => {
      expect((await fetch(kv('k', '?supersede=local'), { method: 'DELETE' })).status).toBe(400);
      const headers = { 'X-Ringkv-Supersede': 'local' };
      const res = await fetch(kv('k'), { method: 'DELETE', headers });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/PUT only/);
      expect(client.calls).toEqual([]);
    });
  });

  describe('body size', () => {
    it('accepts a body of exactly the limit', async () => {
      const res = await fetch(kv('k'), { method: 'PUT', body: new Uint8Array(BODY_MAX) });
      expect(res.status).toBe(200);
    });

    it('refuses an over-limit Content-Length with 413', async () => {
      const res = await fetch(kv('k'), { method: 'PUT', body: new Uint8Array(BODY_MAX + 1) });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ code: 'VALIDATION', tooLarge: true });
      expect(client.calls).toEqual([]);
    });

    it('refuses an over-limit chunked body with 413', async () => {
      const chunk = new Uint8Array(300);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 5) controller.close();
          else controller.enqueue(chunk);
          sent += 1;
        },
      });
      const res = await fetch(kv('k'), { method: 'PUT', body, duplex: 'half' } as RequestInit);
      expect(res.status).toBe(413);
      expect(client.calls).toEqual([]);
    });

    it('answers 413 to a huge declared upload and closes the socket without reading it', async () => {
      const { port } = server.address() as AddressInfo;
      const head = 'PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n';
      const reply = await rawRequest(port, head, 'x'.repeat(2000));
      expect(reply).toMatch(/^HTTP\/1\.1 413 /);
      expect(reply.toLowerCase()).toContain('connection: close');
    });

    it('answers 413 to an endless chunked upload and closes the socket', async () => {
      const { port } = server.address() as AddressInfo;
      const reply = await endlessChunkedUpload(port);
      expect(reply).toMatch(/^HTTP\/1\.1 413 /);
      expect(client.calls).toEqual([]);
    });

    it('answers 413 to an oversized Expect: 100-continue request without a 100', async () => {
      const { port } = server.address() as AddressInfo;
      const head =
        'PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n';
      const reply = await rawRequest(port, head);
      expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    });

    it('sends 100 Continue and stores the body for an acceptable Expect request', async () => {
      const { port } = server.address() as AddressInfo;
      const head =
        'PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n';
      const reply = await rawRequest(port, head, 'ok');
      expect(reply).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
      expect(new TextDecoder().decode(client.store.get('k')?.values[0])).toBe('ok');
    });
  });

  describe('routes', () => {
    it('GET /health answers ok', async () => {
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
    });

    it('GET /status answers the client status as JSON', async () => {
      const res = await fetch(`${base}/status`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ring: { partitionCount: 8 }, config: { n: 1 } });
    });

    it.each([['/kv'], ['/status/'], ['/nope'], ['/kv/a/b/c'], ['/dashboard.js/x']])(
      '%s is a 404',
      async (path) => {
        const res = await fetch(`${base}${path}`);
        expect(res.status).toBe(404);
        // Not NOT_FOUND, which means a key: a client must tell a wrong URL from a missing key.
        expect(await res.json()).toMatchObject({ code: 'NO_ROUTE' });
      },
    );

    it('a wrong method on a key is a 405 with Allow', async () => {
      const res = await fetch(kv('k'), { method: 'POST', body: 'x' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, PUT, DELETE');
      expect(await res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    });

    it.each([['/health'], ['/status']])(
      'a wrong method on %s is a 405 with Allow: GET',
      async (path) => {
        const res = await fetch(`${base}${path}`, { method: 'DELETE' });
        expect(res.status).toBe(405);
        expect(res.headers.get('allow')).toBe('GET');
      },
    );
  });

  describe('client errors', () => {
    it('QuorumError is a 503 with needed and acked', async () => {
      client.failNext(new QuorumError('write quorum not met: 1 of 2 acks', 2, 1));
      const res = await fetch(kv('k'), { method: 'PUT', body: 'x' });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: 'write quorum not met: 1 of 2 acks',
        code: 'QUORUM',
        needed: 2,
        acked: 1,
      });
    });

    it('UnavailableError is a 503', async () => {
      client.failNext(new UnavailableError('cluster closed'));
      const res = await fetch(kv('k'));
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'cluster closed', code: 'UNAVAILABLE' });
    });

    it('TimeoutError is a 504', async () => {
      client.failNext(new TimeoutError('coordinator n3 did not answer'));
      const res = await fetch(kv('k'), { method: 'DELETE' });
      expect(res.status).toBe(504);
      expect(await res.json()).toEqual({ error: 'coordinator n3 did not answer', code: 'TIMEOUT' });
    });

    it('ValidationError is a 400, or a 413 when tooLarge', async () => {
      client.failNext(new ValidationError('key too long'));
      expect((await fetch(kv('k'))).status).toBe(400);
      client.failNext(new ValidationError('value too large', true));
      expect((await fetch(kv('k'), { method: 'PUT', body: 'x' })).status).toBe(413);
    });

    it('an unexpected throw is a 500 with a generic message, and is logged', async () => {
      client.failNext(new Error('secret internals'));
      const res = await fetch(`${base}/status`);
      expect(res.status).toBe(500);
      const body = await res.json();
      expect(body).toEqual({ error: 'internal server error', code: 'INTERNAL' });
      expect(JSON.stringify(body)).not.toContain('secret');
      expect(logged.join('\n')).toContain('secret internals');
    });

    it('a synchronous throw and a non-Error rejection are 500s too', async () => {
      const original = client.status;
      client.status = () => {
        throw new TypeError('sync');
      };
      try {
        expect((await fetch(`${base}/status`)).status).toBe(500);
      } finally {
        client.status = original;
      }
      client.failNext('a string');
      expect((await fetch(kv('k'))).status).toBe(500);
    });

    it('ends a request whose caller disconnects at once, not when the client call ends', async () => {
      const gone = async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        const line = text
          .split('\n')
          .find((l) => /^ringkv_http_requests_total\{.*outcome="client_gone"/.test(l));
        return line === undefined ? 0 : Number(line.split(' ').at(-1));
      };
      const before = await gone();
      client.hangOnce();
      const caller = new AbortController();
      const pending = fetch(kv('k'), { signal: caller.signal }).catch((error: unknown) => error);
      // The client call takes no signal: its own deadline bounds it (request-signal.ts).
      expect(await client.hung).toBeUndefined();
      caller.abort();
      await pending;
      const deadline = Date.now() + 5_000;
      while ((await gone()) === before && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await gone()).toBe(before + 1);
    });

    it('still answers /health after all of the above', async () => {
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(200);
    });
  });
});

describe('HTTP API request timeout', () => {
  const client = new FakeClient();
  const server = createHttpServer(client, { bodySizeMaxBytes: 64, requestTimeoutMs: 150 });
  let base = '';

  beforeAll(async () => {
    base = await listen(server);
  });
  afterAll(() => stop(server));

  it('answers 504 when the client call outlives requestTimeoutMs, without waiting for it', async () => {
    client.hangOnce();
    const res = await fetch(`${base}/kv/k`);
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: 'TIMEOUT' });
    expect(await client.hung).toBeUndefined(); // the call still hangs: the server did not wait
  });

  it('answers 504 when the body upload stalls', async () => {
    const { port } = server.address() as AddressInfo;
    const head = 'PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n';
    const reply = await rawRequest(port, head, 'abc'); // 7 bytes never come
    expect(reply).toMatch(/^HTTP\/1\.1 504 /);
  });

  it('rejects a timeout_ms above the server request timeout', async () => {
    const res = await fetch(`${base}/kv/k?timeout_ms=151`);
    expect(res.status).toBe(400);
  });

  it('still answers /health', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
