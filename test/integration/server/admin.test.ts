/**
 * The /admin routes against a recording fake ClusterAdmin: routing, methods, body parsing and
 * limits, and error mapping. The real-cluster behaviour is in test/integration/admin.test.ts.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  AddNodeOptions,
  ClusterAdmin,
  KvClient,
  MembershipChangeResult,
  NetworkOptions,
  NetworkStatus,
  RemoveNodeOptions,
} from '../../../src/client/types.js';
import { BusyError, TimeoutError, ValidationError } from '../../../src/errors.js';
import { createHttpServer, type HttpServerOptions } from '../../../src/server/http.js';
import { listen } from './monitor-fakes.js';

/** Admin POSTs carry this (request-guard.ts refuses what a cross-site form could send). */
const NOT_A_FORM = { 'x-ringkv-request': 'test' };

const unused = (): never => {
  throw new Error('not used by the admin tests');
};
const kv: KvClient = { put: unused, get: unused, delete: unused, status: unused };

class FakeAdmin implements ClusterAdmin {
  readonly nodeIds = ['n1', 'n2', 'n3', 'n4', 'n5'];
  readonly calls: unknown[][] = [];
  network: NetworkStatus = { delayMs: 0, jitterMs: 0, lossRate: 0, groups: null };
  /** The next addNode/removeNode fails with this. */
  nextChangeError: Error | null = null;
  /** Resolves the pending membership change (set while one waits). */
  release: (() => void) | null = null;
  holdChanges = false;

  async addNode(options: AddNodeOptions = {}): Promise<MembershipChangeResult> {
    this.calls.push(['add', options]);
    return this.change(options.id ?? 'n6', 'join');
  }
  async removeNode(id: string, options: RemoveNodeOptions = {}): Promise<MembershipChangeResult> {
    this.calls.push(options.force ? ['remove', id, options] : ['remove', id]);
    return this.change(id, 'leave');
  }
  private async change(id: string, kind: 'join' | 'leave'): Promise<MembershipChangeResult> {
    const error = this.nextChangeError;
    this.nextChangeError = null;
    if (error !== null) throw error;
    if (this.holdChanges) await new Promise<void>((resolve) => (this.release = resolve));
    return { id, kind, version: 2, ms: 5, keysSent: 10, keysDrained: 1 };
  }

  /** Nodes that are down (kill of one, or restart of another, changes nothing). */
  readonly down = new Set<string>();
  async killNode(id: string): Promise<boolean> {
    this.calls.push(['kill', id]);
    if (this.down.has(id)) return false;
    this.down.add(id);
    return true;
  }
  async restartNode(id: string): Promise<boolean> {
    this.calls.push(['restart', id]);
    return this.down.delete(id);
  }
  async partition(groups: readonly (readonly string[])[]): Promise<NetworkStatus> {
    this.calls.push(['partition', groups]);
    if (groups.flat().includes('n9')) throw new ValidationError('unknown node "n9"');
    this.network = { ...this.network, groups };
    return this.network;
  }
  async heal(): Promise<NetworkStatus> {
    this.calls.push(['heal']);
    this.network = { ...this.network, groups: null };
    return this.network;
  }
  async setNetwork(options: NetworkOptions): Promise<NetworkStatus> {
    this.calls.push(['network', options]);
    this.network = { ...this.network, ...options };
    return this.network;
  }
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const options = (admin?: ClusterAdmin): HttpServerOptions => ({
  bodySizeMaxBytes: 1024 * 1024,
  requestTimeoutMs: 2000,
  log: () => {},
  ...(admin ? { admin } : {}),
});

describe('admin routes', () => {
  const admin = new FakeAdmin();
  const server = createHttpServer(kv, options(admin));
  let base = '';
  const post = (path: string, body?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: NOT_A_FORM,
      ...(body === undefined ? {} : { body }),
    });

  beforeAll(async () => {
    base = await listen(server);
  });
  afterAll(() => stop(server));
  beforeEach(() => {
    admin.calls.length = 0;
  });

  it('kill and restart a node by id', async () => {
    const killed = await post('/admin/nodes/n3/kill');
    expect(killed.status).toBe(200);
    expect(await killed.json()).toEqual({ node: 'n3', state: 'down', changed: true });
    const restarted = await post('/admin/nodes/n3/restart');
    expect(await restarted.json()).toEqual({ node: 'n3', state: 'up', changed: true });
    expect(admin.calls).toEqual([
      ['kill', 'n3'],
      ['restart', 'n3'],
    ]);
  });

  it('says when nothing happened: restart of a running node, kill of a down one', async () => {
    expect(await (await post('/admin/nodes/n4/restart')).json()).toEqual({
      node: 'n4',
      state: 'up',
      changed: false,
    });
    await post('/admin/nodes/n4/kill');
    expect(await (await post('/admin/nodes/n4/kill')).json()).toEqual({
      node: 'n4',
      state: 'down',
      changed: false,
    });
    await post('/admin/nodes/n4/restart');
  });

  it('an unknown node in the path is a 404 and calls nothing', async () => {
    for (const path of [
      '/admin/nodes/n9/kill',
      '/admin/nodes/n9/restart',
      '/admin/nodes/%E0/kill',
    ]) {
      const res = await post(path);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'NODE_NOT_FOUND' });
    }
    expect(admin.calls).toEqual([]);
  });

  it('partition passes the groups and answers the network state', async () => {
    const res = await post('/admin/partition', '{"groups":[["n1","n2"],["n3","n4","n5"]]}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      network: {
        delayMs: 0,
        jitterMs: 0,
        lossRate: 0,
        groups: [
          ['n1', 'n2'],
          ['n3', 'n4', 'n5'],
        ],
      },
    });
    expect(admin.calls).toEqual([
      [
        'partition',
        [
          ['n1', 'n2'],
          ['n3', 'n4', 'n5'],
        ],
      ],
    ]);
  });

  it('heal answers the network state', async () => {
    const res = await post('/admin/heal');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { network: NetworkStatus }).network.groups).toBeNull();
  });

  it('network maps delay_ms, jitter_ms and loss; omitted fields are left out', async () => {
    const res = await post('/admin/network', '{"delay_ms":5,"jitter_ms":1,"loss":0.01}');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      network: { delayMs: 5, jitterMs: 1, lossRate: 0.01 },
    });
    await post('/admin/network', '{"loss":0}');
    expect(admin.calls).toEqual([
      ['network', { delayMs: 5, jitterMs: 1, lossRate: 0.01 }],
      ['network', { lossRate: 0 }],
    ]);
  });

  it.each([
    ['/admin/partition', ''],
    ['/admin/partition', '{"groups":'],
    ['/admin/partition', '[["n1"]]'],
    ['/admin/partition', '{"groups":"n1,n2"}'],
    ['/admin/partition', '{"groups":[["n1",2]]}'],
    ['/admin/partition', '{"groups":["n1"]}'],
    ['/admin/partition', '{"groups":[["n1"]],"extra":1}'],
    ['/admin/partition', '{}'],
    ['/admin/partition', '{"groups":[["n1"],["n9"]]}'], // unknown id in a body: the cluster's 400
    ['/admin/network', 'null'],
    ['/admin/network', '{"delay_ms":"5ms"}'],
    ['/admin/network', '{"delay":5}'],
  ])('POST %s %j is a 400', async (path, body) => {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'VALIDATION' });
  });

  it('caps admin bodies at 64 KiB (413)', async () => {
    const big = JSON.stringify({ groups: [['n1'.repeat(40_000)]] });
    const res = await post('/admin/partition', big);
    expect(res.status).toBe(413);
    expect(admin.calls).toEqual([]);
  });

  it('POST /admin/nodes adds a node (201), with or without an id', async () => {
    const added = await post('/admin/nodes');
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({
      id: 'n6',
      kind: 'join',
      version: 2,
      ms: 5,
      keysSent: 10,
      keysDrained: 1,
    });
    expect((await post('/admin/nodes', '{}')).status).toBe(201);
    expect((await post('/admin/nodes', '{"id":"n7"}')).status).toBe(201);
    expect(admin.calls).toEqual([
      ['add', {}],
      ['add', {}],
      ['add', { id: 'n7' }],
    ]);
  });

  it('DELETE /admin/nodes/:id removes a known node (200); an unknown one is a 404', async () => {
    const removed = await fetch(`${base}/admin/nodes/n2`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ id: 'n2', kind: 'leave' });
    const unknown = await fetch(`${base}/admin/nodes/n9`, { method: 'DELETE' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NODE_NOT_FOUND' });
    expect(admin.calls).toEqual([['remove', 'n2']]);
  });

  it.each([['{"id":5}'], ['{"name":"n7"}'], ['["n7"]'], ['{"id":']])(
    'POST /admin/nodes %s is a 400 and calls nothing',
    async (body) => {
      const res = await post('/admin/nodes', body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'VALIDATION' });
      expect(admin.calls).toEqual([]);
    },
  );

  it.each([
    [new ValidationError('node id n3 is in use'), 400, 'VALIDATION'],
    [new BusyError('membership change 3 is still running'), 409, 'BUSY'],
    [new TimeoutError('join n6 did not finish'), 504, 'TIMEOUT'],
  ])('a failed change (%s) maps to %i', async (error, status, code) => {
    admin.nextChangeError = error;
    const res = await post('/admin/nodes', '{"id":"n3"}');
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: error.message, code });
  });

  it('a change outlasts the request deadline: the reply waits for it', async () => {
    const slow = createHttpServer(kv, { ...options(admin), requestTimeoutMs: 50 });
    const slowBase = await listen(slow);
    admin.holdChanges = true;
    try {
      const reply = fetch(`${slowBase}/admin/nodes`, { method: 'POST', headers: NOT_A_FORM });
      await new Promise((resolve) => setTimeout(resolve, 200)); // well past the 50 ms deadline
      expect(admin.release).not.toBeNull();
      admin.release?.();
      expect((await reply).status).toBe(201);
    } finally {
      admin.holdChanges = false;
      admin.release = null;
      await stop(slow);
    }
  });

  it.each([
    ['GET', '/admin/nodes/n1/kill', 'POST'],
    ['PUT', '/admin/partition', 'POST'],
    ['GET', '/admin/heal', 'POST'],
    ['GET', '/admin/nodes', 'POST'],
    ['POST', '/admin/nodes/n1', 'DELETE'],
  ])('%s %s is a 405 allowing %s', async (method, path, allow) => {
    const res = await fetch(`${base}${path}`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
  });

  it.each(['/admin', '/admin/', '/admin/nodes/', '/admin/nodes/n1/stop', '/admin/nodes/n1/kill/x'])(
    'POST %s is a 404',
    async (path) => {
      expect((await post(path)).status).toBe(404);
    },
  );
});

describe('admin routes without a cluster admin', () => {
  it('answer 404', async () => {
    const server = createHttpServer(kv, options());
    const base = await listen(server);
    try {
      const res = await fetch(`${base}/admin/heal`, { method: 'POST' });
      expect(res.status).toBe(404);
    } finally {
      await stop(server);
    }
  });
});

describe('the admin surface refuses what another site or a stranger sends', () => {
  const admin = new FakeAdmin();
  const TOKEN = 'a-token-of-at-least-16-chars';
  const open = createHttpServer(kv, options(admin));
  const guarded = createHttpServer(kv, { ...options(admin), adminToken: TOKEN });
  let base = '';
  let guardedBase = '';

  beforeAll(async () => {
    base = await listen(open);
    guardedBase = await listen(guarded);
  });
  afterAll(async () => {
    await stop(open);
    await stop(guarded);
  });
  beforeEach(() => {
    admin.calls.length = 0;
  });

  const kill = (url: string, headers: Record<string, string>) =>
    fetch(`${url}/admin/nodes/n1/kill`, { method: 'POST', headers });

  it.each([
    [
      'a form post from another site',
      { origin: 'http://evil.example', 'content-type': 'text/plain' },
    ],
    [
      'JSON from another origin',
      { origin: 'http://evil.example', 'content-type': 'application/json' },
    ],
    ['a browser that says cross-site', { 'sec-fetch-site': 'cross-site', ...NOT_A_FORM }],
    ['a browser that says same-site', { 'sec-fetch-site': 'same-site', ...NOT_A_FORM }],
    ['an opaque origin', { origin: 'null', ...NOT_A_FORM }],
    [
      'a simple form post without a marker',
      { 'content-type': 'application/x-www-form-urlencoded' },
    ],
  ])('%s is a 403 and kills nothing', async (_what, headers) => {
    const res = await kill(base, headers);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('CROSS_SITE');
    expect(admin.calls).toEqual([]);
  });

  it('the dashboard on the same origin, and tools that send no Origin, get through', async () => {
    const host = new URL(base).host;
    const sameOrigin = { origin: `http://${host}`, 'sec-fetch-site': 'same-origin', ...NOT_A_FORM };
    expect((await kill(base, sameOrigin)).status).toBe(200);
    expect((await kill(base, { 'content-type': 'application/json' })).status).toBe(200);
    expect(admin.calls).toEqual([
      ['kill', 'n1'],
      ['kill', 'n1'],
    ]);
  });

  it('a cross-site write to /kv is a 403 before it reaches the client', async () => {
    const res = await fetch(`${base}/kv/k`, {
      method: 'PUT',
      body: 'x',
      headers: { origin: 'http://evil.example' },
    });
    expect(res.status).toBe(403);
  });

  it('with an admin token, /admin needs it as a bearer token', async () => {
    const noToken = await kill(guardedBase, NOT_A_FORM);
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await kill(guardedBase, { ...NOT_A_FORM, authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(admin.calls).toEqual([]);
    const right = await kill(guardedBase, { ...NOT_A_FORM, authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    expect(admin.calls).toEqual([['kill', 'n1']]);
  });

  it('the token guards /admin only: reads and status stay open', async () => {
    expect((await fetch(`${guardedBase}/health`)).status).toBe(200);
  });
});

describe('removing below n nodes', () => {
  it('DELETE /admin/nodes/:id?force=1 passes force; a bad force value is a 400', async () => {
    const admin = new FakeAdmin();
    const server = createHttpServer(kv, options(admin));
    const base = await listen(server);
    try {
      const forced = await fetch(`${base}/admin/nodes/n2?force=1`, { method: 'DELETE' });
      expect(forced.status).toBe(200);
      expect(admin.calls).toEqual([['remove', 'n2', { force: true }]]);
      const bad = await fetch(`${base}/admin/nodes/n2?force=yes`, { method: 'DELETE' });
      expect(bad.status).toBe(400);
      expect(admin.calls).toHaveLength(1);
    } finally {
      await stop(server);
    }
  });
});
