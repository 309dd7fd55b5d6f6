/**
 * Expiry through RESP on a real cluster (ioredis): SET EX/PX/EXAT/PXAT/KEEPTTL, SETEX, PSETEX,
 * EXPIRE/PEXPIRE (NX, XX, GT, LT), TTL, PTTL, PERSIST, and a value observed to expire end to
 * end (GET answers nil once its deadline passed).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RespHarness, startRespHarness } from './harness.js';

let h: RespHarness;
let redis: Redis;

beforeAll(async () => {
  h = await startRespHarness();
  redis = h.redis({ protocol: 2 });
});

afterAll(async () => {
  await h?.close();
});

/** Polls until `check` resolves true (at most `timeoutMs`). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('RESP expiry', () => {
  it('SET EX / PX / EXAT / PXAT set an expiry TTL and PTTL report', async () => {
    await redis.set('e:ex', 'v', 'EX', 100);
    const ttl = await redis.ttl('e:ex');
    expect(ttl).toBeGreaterThanOrEqual(99);
    expect(ttl).toBeLessThanOrEqual(100);
    await redis.set('e:px', 'v', 'PX', 50_000);
    const pttl = await redis.pttl('e:px');
    expect(pttl).toBeGreaterThan(45_000);
    expect(pttl).toBeLessThanOrEqual(50_000);
    const at = Math.floor(Date.now() / 1000) + 200;
    await redis.set('e:exat', 'v', 'EXAT', at);
    expect(Math.abs((await redis.ttl('e:exat')) - 200)).toBeLessThanOrEqual(2);
    await redis.set('e:pxat', 'v', 'PXAT', Date.now() + 30_000);
    expect(await redis.pttl('e:pxat')).toBeGreaterThan(25_000);
    expect(await redis.ttl('e:none')).toBe(-2);
    await redis.set('e:plain', 'v');
    expect(await redis.ttl('e:plain')).toBe(-1);
    expect(await redis.pttl('e:plain')).toBe(-1);
  });

  it('a plain SET drops the expiry; KEEPTTL keeps it', async () => {
    await redis.set('e:keep', 'a', 'EX', 100);
    await redis.set('e:keep', 'b', 'KEEPTTL');
    expect(await redis.get('e:keep')).toBe('b');
    expect(await redis.ttl('e:keep')).toBeGreaterThan(90);
    await redis.set('e:keep', 'c');
    expect(await redis.ttl('e:keep')).toBe(-1);
  });

  it('SETEX and PSETEX', async () => {
    expect(await redis.setex('e:setex', 100, 'v')).toBe('OK');
    expect(await redis.ttl('e:setex')).toBeGreaterThan(90);
    expect(await redis.psetex('e:psetex', 100_000, 'v')).toBe('OK');
    expect(await redis.pttl('e:psetex')).toBeGreaterThan(90_000);
    await expect(redis.setex('e:setex', 0, 'v')).rejects.toThrow("invalid expire time in 'setex'");
  });

  it('EXPIRE, PEXPIRE with NX / XX / GT / LT, and PERSIST', async () => {
    await redis.set('e:x', 'v');
    expect(await redis.expire('e:missing', 10)).toBe(0);
    expect(await redis.call('EXPIRE', 'e:x', '100', 'XX')).toBe(0); // no expiry yet
    expect(await redis.call('EXPIRE', 'e:x', '100', 'NX')).toBe(1);
    expect(await redis.call('EXPIRE', 'e:x', '200', 'NX')).toBe(0);
    expect(await redis.call('EXPIRE', 'e:x', '50', 'GT')).toBe(0);
    expect(await redis.call('EXPIRE', 'e:x', '200', 'GT')).toBe(1);
    expect(await redis.call('EXPIRE', 'e:x', '300', 'LT')).toBe(0);
    expect(await redis.call('PEXPIRE', 'e:x', '150000', 'LT')).toBe(1);
    const pttl = await redis.pttl('e:x');
    expect(pttl).toBeGreaterThan(140_000);
    expect(pttl).toBeLessThanOrEqual(150_000);
    expect(await redis.get('e:x')).toBe('v');
    expect(await redis.persist('e:x')).toBe(1);
    expect(await redis.ttl('e:x')).toBe(-1);
    expect(await redis.persist('e:x')).toBe(0);
    expect(await redis.expire('e:x', 0)).toBe(1); // a non-positive expiry deletes
    expect(await redis.get('e:x')).toBeNull();
  });

  it('a value expires end to end: GET answers nil, TTL -2, EXISTS 0, DBSIZE does not count it live', async () => {
    await redis.set('e:short', 'soon', 'PX', 400);
    expect(await redis.get('e:short')).toBe('soon');
    await eventually(async () => (await redis.get('e:short')) === null);
    expect(await redis.ttl('e:short')).toBe(-2);
    expect(await redis.exists('e:short')).toBe(0);
    // A SET with EXAT in the past deletes the key at once, as Redis does.
    await redis.set('e:past', 'v');
    await redis.set('e:past', 'v', 'PXAT', Date.now() - 1000);
    expect(await redis.get('e:past')).toBeNull();
  });

  it('with siblings, TTL is when the last live one expires; -1 while one never does', async () => {
    await h.cluster.put('e:sibs', 'a', { ttlMs: 100_000 });
    await h.cluster.put('e:sibs', 'b', { ttlMs: 200_000 });
    expect((await h.cluster.get('e:sibs')).values).toHaveLength(2);
    expect(await redis.ttl('e:sibs')).toBeGreaterThan(190);
    await h.cluster.put('e:sibs', 'c');
    expect(await redis.ttl('e:sibs')).toBe(-1);
    expect(await redis.persist('e:sibs')).toBe(0);
    expect(await redis.expire('e:sibs', 50)).toBe(1); // rewrites GET's value, resolving them
    expect((await h.cluster.get('e:sibs')).values).toHaveLength(1);
    expect(await redis.ttl('e:sibs')).toBeLessThanOrEqual(50);
  });

  it('RINGKV.SIBLINGS reports each value expiry', async () => {
    const at = Date.now() + 60_000;
    await redis.set('e:sib', 'v', 'PXAT', at);
    const reply = (await redis.call('RINGKV.SIBLINGS', 'e:sib')) as unknown[];
    expect(reply[4]).toBe('expires_at_ms');
    expect(reply[5]).toEqual([at]);
  });
});
