/**
 * `ringkv node --http-cert --http-key`: a node process serving its HTTP API over HTTPS, with its
 * own certificate from `ringkv certs` (made for its host): a client trusting the cluster CA gets
 * through, the banner and URL say https.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterSpec,
  cleanup,
  clusterSpec,
  makeCerts,
  type NodeProcess,
  startNode,
} from './helpers.js';

describe('ringkv node over HTTPS', () => {
  let spec: ClusterSpec;
  let url = '';
  const all = new Set<NodeProcess>();

  beforeAll(async () => {
    const bare = await clusterSpec(['n1'], { n: 1 });
    spec = bare;
    const tls = join(bare.root, 'api-tls');
    await makeCerts(tls, ['n1'], 'n1=127.0.0.1');
    const started = await startNode(spec, 'n1', [
      '--r',
      '1',
      '--w',
      '1',
      '--http-cert',
      join(tls, 'n1.crt'),
      '--http-key',
      join(tls, 'n1.key'),
    ]);
    all.add(started.process);
    url = started.url;
  }, 60_000);

  afterAll(async () => {
    await cleanup(all, spec ?? null);
  });

  it('serves the API over HTTPS with the node certificate', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(join(spec.root, 'api-tls', 'ca.crt'));
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(`${url}/health`, { ca, timeout: 10_000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });
});
