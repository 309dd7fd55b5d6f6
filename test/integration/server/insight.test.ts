/**
 * The staleness advisor and "explain this key" end to end on a real worker-thread cluster: the
 * HTTP routes (GET /advisor, GET /explain/:key, the latency series in /metrics) and the CLI
 * commands (`ringkv advise`, `ringkv explain`) against them.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyExplanation } from '../../../src/client/key-explain.js';
import { Ring } from '../../../src/core/ring.js';
import { nodeId } from '../../../src/core/types.js';
import { type Cluster, startCluster } from '../../../src/index.js';
import { createHttpServer } from '../../../src/server/http.js';
import type { AdvisorAnswer } from '../../../src/server/monitor/advisor.js';
import { runCli } from '../../cli/run-cli.js';
import { listen } from './monitor-fakes.js';

let db: Cluster;
let server: Server;
let bare: Server;
let base = '';
let bareBase = '';

beforeAll(async () => {
  db = await startCluster({ nodes: 4, n: 3, r: 2, w: 2, requestTimeoutMs: 1000, dataDir: null });
  server = createHttpServer(db, {
    bodySizeMaxBytes: 1024 * 1024,
    requestTimeoutMs: 10_000,
    stats: db,
    explainer: db,
    advisor: { cacheMs: 0, trials: 5_000 },
  });
  base = await listen(server);
  bare = createHttpServer(db, { bodySizeMaxBytes: 1024, requestTimeoutMs: 5_000 });
  bareBase = await listen(bare);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await new Promise((resolve) => bare?.close(resolve));
  await db?.close();
});

function cli(args: string[]) {
  return runCli([...args, '--url', base], { errors: 'all' });
}

async function advice(): Promise<AdvisorAnswer> {
  const reply = await fetch(`${base}/advisor`);
  expect(reply.status).toBe(200);
  return (await reply.json()) as AdvisorAnswer;
}

describe('GET /advisor', () => {
  it('says why it cannot answer before there is traffic, then fits every (R, W)', async () => {
    const before = await advice();
    expect(before.rows).toBeNull();
    expect(before.reason).toMatch(/too few recent samples/);
    expect(before.nodesMeasured).toBe(4);

    // W=3 and R=3: every replica answers, so every class gets samples.
    for (let i = 0; i < 40; i++) {
      await db.put(`adv-${i}`, `v${i}`, { w: 3 });
      await db.get(`adv-${i}`, { r: 3 });
    }
    const answer = await advice();
    expect(answer.reason).toBeUndefined();
    expect(answer.rows).toHaveLength(9);
    expect(answer.inUse).toEqual({ r: 2, w: 2 });
    expect(answer.rows!.filter((row) => row.inUse).map((row) => [row.r, row.w])).toEqual([[2, 2]]);
    for (const row of answer.rows!) {
      expect(row.consistency.map(([t]) => t)).toEqual([0, 1, 10, 100]);
      if (row.overlapping) expect(row.consistency[0]![1]).toBe(1);
      expect(row.readP99Ms).toBeGreaterThan(0);
    }
    expect(answer.classes.w.samples).toBeGreaterThanOrEqual(80); // 40 puts × 2 remote replicas
    expect(answer.classes.r.samples).toBeGreaterThanOrEqual(80); // the coordinator's own reply is not timed
  });

  it('answers 405 to anything but GET', async () => {
    expect(
      (await fetch(`${base}/advisor`, { method: 'POST', headers: { 'x-ringkv-request': 't' } }))
        .status,
    ).toBe(405);
  });

  it('exports the histograms in /metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /ringkv_node_wars_latency_ms\{node="n\d",class="w",quantile="0.99"\} [\d.]+/,
    );
    expect(text).toMatch(/ringkv_node_wars_samples_recorded\{node="n\d",class="s"\} [1-9]/);
  });

  it('`ringkv advise` prints the table with the configuration in use marked', async () => {
    const { code, out } = await cli(['advise']);
    expect(code).toBe(0);
    expect(out).toMatch(/N=3, in use R=2 W=2/);
    expect(out).toMatch(/^\*\s+2\s+2\s+100 %/m);
    expect(out.split('\n').filter((line) => /^[* ] {0,2}\d\s+\d\s/.test(line))).toHaveLength(9);
    const json = await cli(['advise', '--json']);
    expect((JSON.parse(json.out) as AdvisorAnswer).rows).toHaveLength(9);
  });
});

describe('GET /explain/:key', () => {
  async function explain(key: string): Promise<KeyExplanation> {
    const reply = await fetch(`${base}/explain/${encodeURIComponent(key)}`);
    expect(reply.status).toBe(200);
    return (await reply.json()) as KeyExplanation;
  }

  it('shows the partition, the replicas and their agreement', async () => {
    await db.put('alpha', 'hello', { w: 3 });
    const e = await explain('alpha');
    const status = await db.status();
    const ring = Ring.fromOwners(status.ring.owners.map(nodeId));
    expect(e.preferenceList).toEqual(ring.preferenceList('alpha', 3));
    expect(e.partition).toBe(ring.partitionOf('alpha'));
    expect(e.verdict).toEqual(['3 replicas agree.']);
    const holders = e.nodes.filter((n) => n.siblings !== null);
    expect(holders.map((n) => n.node).sort()).toEqual([...e.preferenceList].sort());
    expect(holders[0]!.siblings![0]).toMatchObject({ text: 'hello', tombstone: false });
  });

  it('names the hint that will bring a down replica up to date', async () => {
    const status = await db.status();
    const ring = Ring.fromOwners(status.ring.owners.map(nodeId));
    const key = Array.from({ length: 200 }, (_, i) => `hinted-${i}`).find(
      (k) => ring.preferenceList(k, 3)[2] !== undefined,
    )!;
    const victim = ring.preferenceList(key, 3)[2]!;
    await db.killNode(victim);
    try {
      await db.put(key, 'while down', { w: 3 });
      const e = await explain(key);
      expect(e.fallbacks).toHaveLength(1);
      expect(e.fallbacks[0]!.for).toBe(victim);
      const standIn = e.fallbacks[0]!.node;
      expect(e.verdict).toContain(
        `${victim} is down: a hint on ${standIn} will deliver the newest write when it is back.`,
      );
      const holder = e.nodes.find((n) => n.node === standIn)!;
      expect(holder.hints.map((h) => h.for)).toEqual([victim]);
      const text = await cli(['explain', key]);
      expect(text.code).toBe(0);
      expect(text.out).toContain(`hint for ${victim}: "while down"`);
    } finally {
      await db.restartNode(victim);
    }
  });

  it('rejects a bad key, an extra path segment, a method, and a server with no cluster', async () => {
    expect((await fetch(`${base}/explain/`)).status).toBe(400);
    expect((await fetch(`${base}/explain/a/b`)).status).toBe(404);
    expect((await fetch(`${base}/explain/%E0%A4%A`)).status).toBe(400);
    expect(
      (await fetch(`${base}/explain/a`, { method: 'DELETE', headers: { 'x-ringkv-request': 't' } }))
        .status,
    ).toBe(405);
    const none = await fetch(`${bareBase}/explain/a`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ code: 'NO_CLUSTER' });
    const never = await cli(['explain', 'never-written']);
    expect(never.code).toBe(0);
    expect(never.out).toContain('No node holds this key: never written, or deleted and reaped.');
  });
});
