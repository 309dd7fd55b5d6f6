/**
 * The /control routes a node process serves its supervisor (server/node-control.ts), against a
 * recording fake NodeControl, and through the client's ControlCaller: the token is required on
 * every route, GET never slips past it, bodies are checked, and a request's answer, a stopped
 * node and a cancelled call come back as the process link expects.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlCaller, ProcessLink } from '../../../src/client/process-link.js';
import type { KvClient } from '../../../src/client/types.js';
import type { ClientRequest } from '../../../src/core/messages.js';
import { ValidationError } from '../../../src/errors.js';
import { parseNodeFaults } from '../../../src/runtime/node-faults.js';
import type { NodeControl } from '../../../src/server/control-settings.js';
import { createHttpServer } from '../../../src/server/http.js';
import { listen } from './monitor-fakes.js';

const TOKEN = 'a-control-token-of-32-characters';
const unused = (): never => {
  throw new Error('not used by the control tests');
};
const kv: KvClient = { put: unused, get: unused, delete: unused, status: unused };

const getRequest: ClientRequest = { op: 'get', key: 'k', r: 2, pr: 0, timeoutMs: 500, trace: 't' };

class FakeNode implements NodeControl {
  readonly faults: unknown[] = [];
  readonly requests: ClientRequest[] = [];
  cancelled = 0;
  /** What the next request resolves with; null: it never answers. */
  answer: unknown = { kind: 'answer', result: { ok: true, op: 'get', replies: [] } };

  request(request: ClientRequest) {
    this.requests.push(request);
    const answer = this.answer;
    return {
      reply: answer === null ? new Promise<unknown>(() => {}) : Promise.resolve(answer),
      cancel: () => {
        this.cancelled++;
      },
    };
  }
  stats() {
    return { actor: 'a1', keys: 3 };
  }
  inspect(key: string) {
    return key === 'held'
      ? { siblings: [{ dot: ['a1', 1], value: new Uint8Array([1, 2]) }] }
      : null;
  }
  explain(key: string) {
    return key === 'held' ? { node: 'n1', key, holds: true } : null;
  }
  applyFaults(faults: unknown): void {
    this.faults.push(parseNodeFaults(faults));
  }
}

describe('node control routes', () => {
  const node = new FakeNode();
  let server: Server;
  let bare: Server;
  let url: string;
  let bareUrl: string;
  const caller = new ControlCaller(TOKEN);

  beforeAll(async () => {
    const options = { bodySizeMaxBytes: 1024, requestTimeoutMs: 2_000, log: () => {} };
    server = createHttpServer(kv, { ...options, control: { node, token: TOKEN } });
    bare = createHttpServer(kv, options);
    url = await listen(server);
    bareUrl = await listen(bare);
  });

  afterAll(async () => {
    caller.close();
    await Promise.all([server, bare].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('refuses callers without the token, GETs, unknown routes, and servers without control', async () => {
    const post = (base: string, path: string, headers: Record<string, string>) =>
      fetch(`${base}${path}`, { method: 'POST', headers, body: '{}' }).then((r) => r.status);
    const json = { 'content-type': 'application/json' };
    expect(await post(url, '/control/stats', json)).toBe(401);
    expect(await post(url, '/control/stats', { ...json, authorization: 'Bearer wrong' })).toBe(401);
    expect((await fetch(`${url}/control/stats`)).status).toBe(405);
    expect(await post(url, '/control/nope', json)).toBe(404);
    expect(await post(bareUrl, '/control/stats', json)).toBe(404);
    const other = new ControlCaller('another-token-of-32-characters!!');
    await expect(other.call(url, 'stats', {}, 1_000)).rejects.toThrow(/401/);
    other.close();
  });

  it('checks bodies: a malformed request or bad faults is a 400 and changes nothing', async () => {
    await expect(caller.call(url, 'request', { op: 'get' }, 1_000)).rejects.toThrow(/400/);
    await expect(
      caller.call(
        url,
        'faults',
        { blockedPeers: [], delayMs: -1, jitterMs: 0, lossRate: 0 },
        1_000,
      ),
    ).rejects.toThrow(/400.*delayMs/);
    await expect(caller.call(url, 'faults', { lossRate: 2 }, 1_000)).rejects.toThrow(/400/);
    expect(node.faults).toEqual([]);
    expect(node.requests).toEqual([]);
    const faults = { blockedPeers: ['n2'], delayMs: 5, jitterMs: 1, lossRate: 0.5 };
    expect(await caller.call(url, 'faults', faults, 1_000)).toEqual({ ok: true });
    expect(node.faults).toEqual([faults]);
    expect(() => parseNodeFaults({ ...faults, extra: 1 })).toThrow(ValidationError);
  });

  it('carries requests, counters and records through the process link', async () => {
    const link = new ProcessLink(
      { isUp: (id) => id === 'n1', endpoint: (id) => (id === 'n1' ? { url, pid: 1 } : null) },
      caller,
    );
    expect(await link.send('n1', getRequest).reply).toEqual(node.answer);
    expect(node.requests).toEqual([getRequest]);
    expect(await link.send('n2', getRequest).reply).toEqual({
      kind: 'down',
      reason: 'is not running',
    });
    expect(await link.stats('n1')).toEqual({ actor: 'a1', keys: 3 });
    const record = await link.inspect('n1', 'held');
    expect(record?.siblings[0]?.value).toEqual(new Uint8Array([1, 2]));
    expect(await link.inspect('n1', 'missing')).toBeNull();
    expect(await link.explain('n1', 'held')).toEqual({ node: 'n1', key: 'held', holds: true });
    expect(await link.explain('n1', 'missing')).toBeNull();

    node.answer = { kind: 'down', reason: 'is shutting down' };
    expect(await link.send('n1', getRequest).reply).toEqual(node.answer);

    // A call the client gives up on: the node is told to stop waiting, the reply never settles.
    node.answer = null;
    const call = link.send('n1', getRequest);
    let settled = false;
    void call.reply.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    call.cancel();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(false);
    expect(node.cancelled).toBe(1);
  });

  it('says a node whose port refuses connections is not reachable', async () => {
    const closed = createHttpServer(kv, { bodySizeMaxBytes: 1, requestTimeoutMs: 1_000 });
    const deadUrl = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const link = new ProcessLink(
      { isUp: () => true, endpoint: () => ({ url: deadUrl, pid: 1 }) },
      caller,
    );
    const reply = await link.send('n1', getRequest).reply;
    expect(reply).toMatchObject({ kind: 'down', reason: expect.stringMatching(/not reachable/) });
    expect(await link.stats('n1')).toBeNull();
  });
});
