/**
 * Expiry end to end on a real worker-thread cluster (real clocks, short TTLs): the embedded API
 * and the HTTP API. A value is returned with its deadline until it passes, then never again —
 * not by a get, not by inspect — and the reaper removes what is left.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TTL_MS_MAX } from '../../src/config.js';
import { type Cluster, connect, startCluster, ValidationError } from '../../src/index.js';
import { createHttpServer } from '../../src/server/http.js';
import { listen } from './server/monitor-fakes.js';

/** Long enough for a put and a get on a loaded 2-core machine, short enough to wait out. */
const TTL_MS = 500;

/** Polls `check` every 25 ms until it is true or `budgetMs` passed; returns whether it held. */
async function eventually(check: () => Promise<boolean>, budgetMs: number): Promise<boolean> {
  const endMs = Date.now() + budgetMs;
  while (Date.now() < endMs) {
    if (await check()) return true;
    await sleep(25);
  }
  return check();
}

describe('expiry on a real cluster', () => {
  let db: Cluster;
  let server: Server;
  let base = '';

  beforeAll(async () => {
    // Short ticks and grace so the sweep and the reap happen within the test.
    db = await startCluster({ nodes: 3, n: 3, tickIntervalMs: 50, tombstoneGraceMs: 100 });
    server = createHttpServer(db, { bodySizeMaxBytes: 1024 * 1024, requestTimeoutMs: 5000 });
    base = await listen(server);
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.close();
  });

  it('returns a value with its deadline until it passes, then never again, then reaps it', async () => {
    const before = Date.now();
    await db.put('session', 'token', { ttlMs: TTL_MS, w: 3 });
    const live = await db.get('session', { r: 3 });
    expect(live.strings()).toEqual(['token']);
    const deadline = live.expiresAtMs[0]!;
    expect(deadline).toBeGreaterThanOrEqual(before + TTL_MS);
    expect(deadline).toBeLessThanOrEqual(Date.now() + TTL_MS);
    await sleep(Math.max(0, deadline - Date.now()) + 5);
    const gone = await db.get('session', { r: 1 });
    expect(gone).toMatchObject({ found: false, values: [], expiresAtMs: [] });
    for (const view of await db.inspect('session')) {
      for (const version of view.versions ?? []) expect(version.value).toBeNull();
    }
    const reaped = await eventually(async () => {
      await db.get('session', { r: 3 }); // a read that sees only tombstones arms the reap too
      const views = await db.inspect('session');
      return views.every((view) => view.versions === null);
    }, 3000);
    expect(reaped).toBe(true);
  });

  it('siblings expire on their own; expiresAtMs stays aligned with values', async () => {
    await db.put('pair', 'short', { ttlMs: TTL_MS, w: 3 });
    await db.put('pair', 'forever', { w: 3 });
    const both = await db.get('pair', { r: 3 });
    const byValue = new Map(both.strings().map((v, i) => [v, both.expiresAtMs[i]]));
    expect(byValue.get('forever')).toBeNull();
    expect(typeof byValue.get('short')).toBe('number');
    await sleep(Math.max(0, byValue.get('short')! - Date.now()) + 5);
    const one = await db.get('pair', { r: 3 });
    expect(one.strings()).toEqual(['forever']);
    expect(one.expiresAtMs).toEqual([null]);
  });

  it('an absolute deadline in the past writes an already-expired value', async () => {
    await db.put('old', 'v', { expiresAtMs: Date.now() - 1000, w: 3 });
    expect((await db.get('old', { r: 3 })).found).toBe(false);
    await db.put('later', 'v', { expiresAtMs: Date.now() + 60_000 });
    expect((await db.get('later')).found).toBe(true);
  });

  it.each([
    [{ ttlMs: 100, expiresAtMs: Date.now() + 100 }, /not both/],
    [{ ttlMs: 0 }, /ttlMs/],
    [{ ttlMs: 1.5 }, /ttlMs/],
    [{ ttlMs: TTL_MS_MAX + 1 }, /ttlMs/],
    [{ expiresAtMs: -1 }, /expiresAtMs/],
  ])('put with %j is a ValidationError', async (options, message) => {
    const error = await db.put('k', 'v', options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
  });

  it('a delete with an expiry is a ValidationError', async () => {
    await expect(db.delete('k', { ttlMs: 100 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('the remote client sends ttlMs and expiresAtMs and reads deadlines back, siblings too', async () => {
    const remote = await connect({ nodes: [base] });
    try {
      const expiresAtMs = Date.now() + 60_000;
      await remote.put('remote', 'a', { expiresAtMs, w: 3 });
      expect((await remote.get('remote', { r: 3 })).expiresAtMs).toEqual([expiresAtMs]);
      await remote.put('remote', 'b', { ttlMs: 60_000, w: 3 });
      const both = await remote.get('remote', { r: 3 });
      expect(both.values).toHaveLength(2);
      const deadlines = both.expiresAtMs;
      expect(deadlines).toContain(expiresAtMs);
      expect(deadlines.every((d) => typeof d === 'number' && d > Date.now())).toBe(true);
      await expect(remote.put('remote', 'c', { ttlMs: 1, expiresAtMs })).rejects.toBeInstanceOf(
        ValidationError,
      );
    } finally {
      await remote.close();
    }
  });

  it('over HTTP: PUT ?ttl_ms= answers the deadline on GET, then 404 once it passed', async () => {
    const before = Date.now();
    const put = await fetch(`${base}/kv/h?ttl_ms=${TTL_MS}&w=3`, { method: 'PUT', body: 'v' });
    expect(put.status).toBe(200);
    const live = await fetch(`${base}/kv/h?r=3`);
    expect(live.status).toBe(200);
    const deadline = Number(live.headers.get('x-ringkv-expires-at-ms'));
    expect(deadline).toBeGreaterThanOrEqual(before + TTL_MS);
    await sleep(Math.max(0, deadline - Date.now()) + 5);
    expect((await fetch(`${base}/kv/h`)).status).toBe(404);
  });
});

describe('expiry on a durable cluster', () => {
  it('keeps each deadline across a restart from the same data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ringkv-ttl-'));
    try {
      const first = await startCluster({ nodes: 3, n: 3, dataDir });
      const expiresAtMs = Date.now() + 3_600_000;
      await first.put('kept', 'v', { expiresAtMs, w: 3 });
      await first.put('plain', 'v', { w: 3 });
      await first.close();
      const second = await startCluster({ nodes: 3, n: 3, dataDir });
      try {
        expect((await second.get('kept', { r: 3 })).expiresAtMs).toEqual([expiresAtMs]);
        expect((await second.get('plain', { r: 3 })).expiresAtMs).toEqual([null]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
