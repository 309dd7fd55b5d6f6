/**
 * Three `ringkv node` processes with mutual TLS, on certificates made by `ringkv certs`: a write
 * through one node reads back through another at R=N, and `/status` says TLS is on. A node whose
 * TLS directory lacks its files refuses to start, naming the file and the command that makes it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterSpec, cleanup, http, NodeProcess, nodeArgs, startCluster } from './helpers.js';

const IDS = ['n1', 'n2', 'n3'];

describe('ringkv node processes with mutual TLS (3 nodes)', () => {
  let spec: ClusterSpec;
  const urls = new Map<string, string>();
  const all = new Set<NodeProcess>();

  beforeAll(async () => {
    const started = await startCluster(IDS);
    spec = started.spec;
    for (const [id, url] of started.urls) urls.set(id, url);
    for (const process of started.processes.values()) all.add(process);
  }, 60_000);

  afterAll(async () => {
    await cleanup(all, spec ?? null);
  });

  it('replicates across processes over mutual TLS', async () => {
    const put = await http(`${urls.get('n1')}/kv/secret`, { method: 'PUT', body: 'tls works' });
    expect(put.status).toBe(200);
    expect(await http(`${urls.get('n3')}/kv/secret?r=3`)).toEqual({
      status: 200,
      text: 'tls works',
    });
    const status = JSON.parse((await http(`${urls.get('n2')}/status`)).text);
    expect(status.transport).toMatchObject({ tls: true });
  });

  it('refuses to start without its certificate files, naming them and `ringkv certs`', async () => {
    const empty = join(spec.root, 'empty-tls');
    await mkdir(empty);
    const lost = new NodeProcess(
      nodeArgs(spec, 'n1', ['--tls-dir', empty, '--data-dir', join(spec.root, 'lost')]),
    );
    all.add(lost);
    expect((await lost.finished()).code).toBe(2);
    expect(lost.stderr).toContain(`missing ${join(empty, 'ca.crt')}`);
    expect(lost.stderr).toContain(`ringkv certs --dir ${empty} --nodes n1,n2,n3`);
  });
});
