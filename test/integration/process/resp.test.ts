/**
 * `ringkv node --resp HOST:PORT`: two node processes (N=1, so half the keys live on the other
 * node and a SET through this one is forwarded), RESP served by one of them: the banner names
 * the redis:// address, commands work, and sequential SETs of a key the other node owns still
 * make no sibling (the forward carries `supersede: 'local'` to the key's replica). Its /metrics
 * counts the commands (ringkv_resp_*); the other node's has no RESP series.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterSpec, cleanup, clusterSpec, type NodeProcess, startNode } from './helpers.js';

describe('ringkv node --resp', () => {
  let spec: ClusterSpec;
  const all = new Set<NodeProcess>();
  let redis: Redis;
  let urls: { readonly resp: string; readonly plain: string };

  beforeAll(async () => {
    spec = await clusterSpec(['n1', 'n2'], { n: 1 });
    const quorum = ['--r', '1', '--w', '1'];
    const [first, second] = await Promise.all([
      startNode(spec, 'n1', [...quorum, '--resp', '127.0.0.1:0']),
      startNode(spec, 'n2', quorum),
    ]);
    all.add(first.process);
    all.add(second.process);
    urls = { resp: first.url, plain: second.url };
    const match = /redis:\/\/127\.0\.0\.1:(\d+)/.exec(first.process.stdout);
    if (match === null) throw new Error(`no redis:// line in the banner:\n${first.process.stdout}`);
    redis = new Redis({ port: Number(match[1]), host: '127.0.0.1', maxRetriesPerRequest: 0 });
    redis.on('error', () => {});
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await cleanup(all, spec ?? null);
  });

  it('serves RESP; SETs forwarded to the other node supersede each other', async () => {
    expect(await redis.ping()).toBe('PONG');
    // Keys on both nodes: with N=1 about half are forwarded to n2.
    for (let k = 0; k < 8; k++) {
      for (let i = 0; i < 5; i++) expect(await redis.set(`proc:${k}`, `v${i}`)).toBe('OK');
    }
    for (let k = 0; k < 8; k++) {
      const reply = (await redis.call('RINGKV.SIBLINGS', `proc:${k}`)) as unknown[];
      expect(reply[3]).toEqual(['v4']);
      expect(await redis.get(`proc:${k}`)).toBe('v4');
    }
    expect(await redis.dbsize()).toBeGreaterThanOrEqual(1);
  });

  it('exports its RESP counters in /metrics; a node without RESP has none', async () => {
    const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();
    const text = await metrics(urls.resp);
    const commands = /^ringkv_resp_commands_total (\d+)$/m.exec(text);
    // PING, 40 SETs, 8 RINGKV.SIBLINGS, 8 GETs, DBSIZE above, plus what ioredis sends itself.
    expect(Number(commands?.[1])).toBeGreaterThanOrEqual(58);
    expect(text).toMatch(/^ringkv_resp_clients 1$/m);
    expect(text).toMatch(/^ringkv_resp_connections_accepted_total 1$/m);
    expect(await metrics(urls.plain)).not.toContain('ringkv_resp_');
  });
});
