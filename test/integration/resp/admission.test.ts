/**
 * `ringkv up --resp`: RESP commands take the process's one admission bound, the one HTTP requests
 * take (issue 14: one bound for every front), so /metrics counts them as admitted.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningUp, startUp } from '../../../src/cli/up.js';

/** ringkv_admission_admitted_total from /metrics. */
async function admitted(url: string): Promise<number> {
  const text = await (
    await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })
  ).text();
  const line = text.split('\n').find((l) => l.startsWith('ringkv_admission_admitted_total '));
  expect(line, 'the admission counter is exported').toBeDefined();
  return Number(line?.split(' ')[1]);
}

describe('RESP behind the admission controller', () => {
  let running: RunningUp | null = null;
  let redis: Redis | null = null;

  beforeAll(async () => {
    running = await startUp(
      {
        config: { nodes: 3, n: 3, r: 2, w: 2, dataDir: null },
        host: '127.0.0.1',
        port: 0,
        resp: 0,
      },
      { out: () => {}, err: () => {}, exit: () => {}, onSignal: () => {} },
    );
    const port = Number(new URL(running.resp?.url as string).port);
    redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });

  afterAll(async () => {
    redis?.disconnect();
    await running?.shutdown();
  });

  it('counts RESP reads and writes as admitted requests, as HTTP ones', async () => {
    const before = await admitted(running!.url);
    expect(await redis!.set('admitted', 'v')).toBe('OK');
    expect(await redis!.get('admitted')).toBe('v');
    expect(await redis!.ping()).toBe('PONG'); // no key operation: not admitted
    expect((await admitted(running!.url)) - before).toBeGreaterThanOrEqual(2);
  });

  it('serves an MGET naming more keys than the admission limit plus its queue', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => `admitted:many:${i}`);
    await redis!.set(keys[599]!, 'last');
    const values = await redis!.mget(...keys);
    expect(values).toHaveLength(600);
    expect(values[599]).toBe('last');
    expect(values.slice(0, 599).every((value) => value === null)).toBe(true);
  });
});
