import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../../src/server/http.js';
import type { DashboardEvent } from '../../../src/server/monitor/dashboard-feed.js';
import { FakeCluster, listen, readSse, stop, workerStats } from './monitor-fakes.js';

const CLIENTS_MAX = 2;

function serverFor(cluster: FakeCluster) {
  return createHttpServer(cluster, {
    bodySizeMaxBytes: 1024,
    requestTimeoutMs: 2_000,
    log: () => {},
    stats: cluster,
    statsTimeoutMs: 300,
    events: { intervalMs: 40, heartbeatMs: 30, clientsMax: CLIENTS_MAX },
  });
}

/** Polls `check` every 20 ms until it holds; fails after `deadlineMs`. */
async function eventually(check: () => Promise<boolean>, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('GET /events', () => {
  const cluster = new FakeCluster();
  const server = serverFor(cluster);
  let base = '';

  beforeAll(async () => {
    base = await listen(server);
  });
  afterAll(() => stop(server));

  it('streams dashboard events and heartbeat comments', async () => {
    cluster.stats.set('n1', workerStats(3, { putsOk: 10, readRepairs: 2, aeExchanges: 4 }));
    cluster.stats.set(
      'n2',
      workerStats(1, { aeExchanges: 2, aeExchangesInSync: 1, aeKeysRepaired: 5 }),
    );
    cluster.down.add('n3');
    cluster.groups = [['n1'], ['n2', 'n3']];
    const res = await fetch(`${base}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('no-cache');
    const read = await readSse(res, (r) => r.events.length >= 2 && r.comments.length >= 1, 5_000);
    const event = read.events[1] as DashboardEvent;
    expect(event.fresh).toBe(true);
    expect(event.ring?.owners).toHaveLength(6);
    expect(event.nodes.map((n) => [n.id, n.state])).toEqual([
      ['n1', 'partitioned'],
      ['n2', 'partitioned'],
      ['n3', 'down'],
    ]);
    expect(event.nodes[0]).toMatchObject({ keys: 3, readRepairs: 2, partitionGroup: 0 });
    expect(event.nodes[2]).toMatchObject({ keys: null, readRepairs: null });
    expect(event.traffic.ops.all).toHaveProperty('perSec');
    expect(event.nodes[1]).toMatchObject({ aeKeysRepaired: 5 });
    expect(event.antiEntropy).toEqual({
      exchanges: 6,
      inSync: 1,
      abandoned: 0,
      partitionsRepaired: 0,
      keysRepaired: 5,
    });
    expect(read.comments).toContain('heartbeat');
    cluster.down.clear();
    cluster.groups = null;
    cluster.stats.clear();
  });

  it('reports ops/s and p99 from the requests in the window', async () => {
    const res = await fetch(`${base}/events`);
    for (let i = 0; i < 20; i++) await fetch(`${base}/kv/k${i}`, { method: 'PUT', body: 'v' });
    const read = await readSse(
      res,
      (r) => r.events.some((e) => ((e as DashboardEvent).traffic.ops.put.perSec ?? 0) > 0),
      5_000,
    );
    const last = read.events.at(-1) as DashboardEvent;
    expect(last.traffic.ops.put.p99Ms).not.toBeNull();
    expect(last.traffic.ops.put.p99Ms!).toBeLessThanOrEqual(5_000);
  });

  it('refuses clients past the limit with a 503 and takes them again when one leaves', async () => {
    let open: Response[] = [];
    await eventually(async () => {
      for (const res of open) await res.body?.cancel();
      open = [await fetch(`${base}/events`), await fetch(`${base}/events`)];
      return open.every((res) => res.status === 200);
    }, 3_000);
    const refused = await fetch(`${base}/events`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'TOO_MANY_CLIENTS' });
    expect(refused.headers.get('retry-after')).toBe('5');
    await open[0]!.body!.cancel();
    await eventually(async () => {
      const res = await fetch(`${base}/events`);
      await res.body?.cancel();
      return res.status === 200;
    }, 3_000);
    await open[1]!.body!.cancel();
  });

  it('answers 405 to a POST', async () => {
    expect((await fetch(`${base}/events`, { method: 'POST' })).status).toBe(405);
  });
});

describe('event stream and shutdown', () => {
  it('server.close() ends open streams at once', async () => {
    const cluster = new FakeCluster();
    const server = serverFor(cluster);
    const base = await listen(server);
    const res = await fetch(`${base}/events`);
    expect(res.status).toBe(200);
    const started = Date.now();
    await stop(server);
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(readSse(res, () => false, 2_000)).rejects.toThrow('ended early');
  });

  it('sends stale events, not silence, when the nodes do not answer', async () => {
    const cluster = new FakeCluster();
    cluster.hangStats = true;
    const server = serverFor(cluster);
    const base = await listen(server);
    try {
      const res = await fetch(`${base}/events`);
      const read = await readSse(res, (r) => r.events.length >= 1, 3_000);
      const event = read.events[0] as DashboardEvent;
      expect(event.fresh).toBe(false);
      expect(event.error).toMatch(/within 300 ms/);
    } finally {
      await stop(server);
    }
  });
});
