/**
 * GET /activity, GET /history and the activity carried by GET /events, against a fake cluster
 * and a fake admin: every admin request is logged whoever sent it, with its origin and outcome;
 * refused ones too; the admin token never appears anywhere in the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AddNodeOptions,
  ClusterAdmin,
  MembershipChangeResult,
  NetworkStatus,
} from '../../../src/client/types.js';
import { ValidationError } from '../../../src/errors.js';
import { createHttpServer } from '../../../src/server/http.js';
import type { ActivityEntry } from '../../../src/server/monitor/activity-log.js';
import type { DashboardEvent } from '../../../src/server/monitor/dashboard-feed.js';
import type { HistorySample } from '../../../src/server/monitor/history.js';
import { FakeCluster, listen, readSse, stop } from './monitor-fakes.js';

const TOKEN = 'tok-3f1d2e9a-very-secret';

class SmallAdmin implements ClusterAdmin {
  readonly nodeIds = ['n1', 'n2', 'n3'];
  private network: NetworkStatus = { delayMs: 0, jitterMs: 0, lossRate: 0, groups: null };
  async killNode(): Promise<boolean> {
    return true;
  }
  async restartNode(): Promise<boolean> {
    return true;
  }
  async partition(groups: readonly (readonly string[])[]): Promise<NetworkStatus> {
    this.network = { ...this.network, groups: groups.map((g) => [...g]) };
    return this.network;
  }
  async heal(): Promise<NetworkStatus> {
    this.network = { ...this.network, groups: null };
    return this.network;
  }
  async setNetwork(): Promise<NetworkStatus> {
    return this.network;
  }
  async addNode(options: AddNodeOptions = {}): Promise<MembershipChangeResult> {
    if (options.id === 'bad id') throw new ValidationError('node id "bad id" is not valid');
    return {
      id: options.id ?? 'n4',
      kind: 'join',
      version: 2,
      ms: 12,
      keysSent: 40,
      keysDrained: 0,
    };
  }
  async removeNode(id: string): Promise<MembershipChangeResult> {
    return { id, kind: 'leave', version: 3, ms: 7, keysSent: 5, keysDrained: 5 };
  }
}

describe('activity log and history over HTTP', () => {
  const cluster = new FakeCluster();
  const server = createHttpServer(cluster, {
    bodySizeMaxBytes: 1024,
    requestTimeoutMs: 2_000,
    log: () => {},
    stats: cluster,
    statsTimeoutMs: 300,
    admin: new SmallAdmin(),
    adminToken: TOKEN,
    events: { intervalMs: 40 },
    history: { sampleMs: 250, spanMs: 10_000 },
  });
  let base = '';
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    base = await listen(server);
  });
  afterAll(() => stop(server));

  async function entries(): Promise<ActivityEntry[]> {
    return ((await (await fetch(`${base}/activity`)).json()) as { entries: ActivityEntry[] })
      .entries;
  }

  it('logs each admin request with its origin and outcome, refused ones included', async () => {
    const cli = { ...auth, 'x-ringkv-request': 'cli' };
    expect(
      (await fetch(`${base}/admin/nodes/n2/kill`, { method: 'POST', headers: cli })).status,
    ).toBe(200);
    const partition = await fetch(`${base}/admin/partition`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ groups: [['n1'], ['n2', 'n3']] }),
    });
    expect(partition.status).toBe(200);
    const bad = await fetch(`${base}/admin/nodes`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'x-ringkv-request': 'dashboard' },
      body: JSON.stringify({ id: 'bad id' }),
    });
    expect(bad.status).toBe(400);
    const wrong = await fetch(`${base}/admin/heal`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong', 'x-ringkv-request': 'cli' },
    });
    expect(wrong.status).toBe(401);
    const removed = await fetch(`${base}/admin/nodes/n3`, { method: 'DELETE', headers: auth });
    expect(removed.status).toBe(200);

    const log = await entries();
    expect(log.map((e) => [e.action, e.outcome, e.origin])).toEqual([
      ['kill n2', 'ok', 'cli@127.0.0.1'],
      ['partition', 'ok', 'http@127.0.0.1'],
      ['add-node', 'failed', 'dashboard@127.0.0.1'],
      ['heal', 'refused', 'cli@127.0.0.1'],
      ['remove-node n3', 'ok', 'http@127.0.0.1'],
    ]);
    expect(log[1]!.detail).toBe('groups n1 | n2,n3; delay 0 ms, jitter 0 ms, loss 0 %');
    expect(log[2]!.detail).toMatch(/^400: .*bad id/);
    expect(log[3]!.detail).toMatch(/^401: /);
    expect(log[4]!.detail).toBe('leave n3, 5 keys sent');
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    for (const entry of log) expect(entry.atMs).toBeLessThanOrEqual(Date.now());
    expect(JSON.stringify(log)).not.toContain(TOKEN);
    expect(JSON.stringify(log)).not.toContain('wrong');
  });

  it('pushes the newest entries to every event-stream client', async () => {
    const res = await fetch(`${base}/events`);
    const read = await readSse(
      res,
      (r) => r.events.some((e) => (e as DashboardEvent).activity.length >= 5),
      5_000,
    );
    const event = read.events.at(-1) as DashboardEvent;
    expect(event.activity.at(-1)).toMatchObject({ action: 'remove-node n3', outcome: 'ok' });
    // The fake's 6-partition ring is no valid ring (not a power of two): no replica view
    // rather than a wrong one.
    expect(event.replication).toBeNull();
  });

  it('keeps a bounded history that a new page gets in one request', async () => {
    const deadline = Date.now() + 5_000;
    let samples: HistorySample[] = [];
    while (samples.length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const body = (await (await fetch(`${base}/history`)).json()) as {
        sampleMs: number;
        spanMs: number;
        samples: HistorySample[];
      };
      expect(body).toMatchObject({ sampleMs: 250, spanMs: 10_000 });
      samples = body.samples;
    }
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(samples.length).toBeLessThanOrEqual(40);
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i]!.atMs).toBeGreaterThan(samples[i - 1]!.atMs);
    }
    expect(Object.keys(samples[0]!.nodes)).toEqual(['n1', 'n2', 'n3']);
  });

  it('refuses history settings outside their range', () => {
    const make = (history: { sampleMs?: number; spanMs?: number }) =>
      createHttpServer(cluster, { bodySizeMaxBytes: 1, requestTimeoutMs: 1_000, history });
    expect(() => make({ sampleMs: 10 })).toThrow(/sampleMs must be an integer in 250\.\.60000/);
    expect(() => make({ spanMs: 99_999_999 })).toThrow(/spanMs/);
    expect(() => make({ sampleMs: 60_000, spanMs: 10_000 })).toThrow(/at least sampleMs/);
  });
});
