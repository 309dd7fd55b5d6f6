/**
 * The address forms the deploy recipes use (deploy/compose.yaml, deploy/k8s/ringkv.yaml), run
 * for real: `--listen 0.0.0.0:PORT` (every interface), `--advertise NAME:PORT`, and host names,
 * not addresses, in `--initial-cluster` — over mutual TLS, as there.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  type ClusterSpec,
  cleanup,
  clusterSpec,
  http,
  makeCerts,
  NodeProcess,
} from './helpers.js';

const IDS = ['n1', 'n2', 'n3'];

describe("ringkv node with the recipes' address forms", () => {
  let spec: ClusterSpec;
  const all = new Set<NodeProcess>();
  const urls = new Map<string, string>();

  beforeAll(async () => {
    spec = await clusterSpec(IDS);
    const tls = join(spec.root, 'tls');
    await makeCerts(tls, IDS);
    const initial = spec.nodes.map((n) => `${n.id}=localhost:${n.peerPort}`).join(',');
    const started = spec.nodes.map((n) => {
      const process = new NodeProcess([
        BIN,
        'node',
        '--id',
        n.id,
        '--listen',
        `0.0.0.0:${n.peerPort}`,
        '--advertise',
        `localhost:${n.peerPort}`,
        '--http',
        `127.0.0.1:${n.httpPort}`,
        '--data-dir',
        join(spec.root, n.id),
        '--tls-dir',
        tls,
        '--initial-cluster',
        initial,
      ]);
      all.add(process);
      return process.up().then((url) => urls.set(n.id, url));
    });
    await Promise.all(started);
  }, 60_000);

  afterAll(async () => {
    await cleanup(all, spec ?? null);
  });

  it('replicates across the nodes', async () => {
    expect((await http(`${urls.get('n1')}/kv/k`, { method: 'PUT', body: 'v' })).status).toBe(200);
    expect(await http(`${urls.get('n3')}/kv/k?r=3`)).toEqual({ status: 200, text: 'v' });
    const status = JSON.parse((await http(`${urls.get('n2')}/status`)).text);
    expect(status.transport).toMatchObject({
      tls: true,
      listen: `0.0.0.0:${spec.nodes[1]!.peerPort}`,
    });
  });
});
