/**
 * `ringkv node --join` over mutual TLS: a node with a certificate of the cluster CA joins, one of
 * another CA is not answered; the joined node, killed -9 and started again on new ports with the
 * same data dir, is itself again (it does not join twice) and gossip takes its new address to
 * the others.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterSpec,
  cleanup,
  http,
  joinerArgs,
  makeCerts,
  NodeProcess,
  startCluster,
  waitFor,
} from './helpers.js';

const N = 3;

describe('--join over mutual TLS (3 nodes), then a restart at a new address', () => {
  let spec: ClusterSpec;
  const all = new Set<NodeProcess>();
  let urls: Map<string, string>;

  beforeAll(async () => {
    const started = await startCluster(['n1', 'n2', 'n3']);
    spec = started.spec;
    urls = started.urls;
    for (const process of started.processes.values()) all.add(process);
  }, 60_000);

  afterAll(async () => {
    await cleanup(all, spec ?? null);
  }, 30_000);

  it('a node of the cluster CA joins, one of another CA is refused; a restart moves n4', async () => {
    const tlsDir = spec.tlsDir as string;
    await makeCerts(tlsDir, ['n4']); // the same CA: `ringkv certs` reuses it for new nodes
    const strangerDir = join(spec.root, 'other-ca');
    await makeCerts(strangerDir, ['n5']);
    const seed = spec.nodes[0]?.peerPort as number;
    const joiner = new NodeProcess(await joinerArgs(spec, 'n4', seed));
    const strangerArgs = await joinerArgs(spec, 'n5', seed, ['--tls-dir', strangerDir]);
    const stranger = new NodeProcess(strangerArgs);
    all.add(joiner);
    all.add(stranger);
    const url4 = await joiner.up();
    const put = await http(`${url4}/kv/over-tls`, { method: 'PUT', body: 'yes' });
    expect(put.status, put.text).toBe(200);
    const got = await http(`${urls.get('n1')}/kv/over-tls?r=${N}`);
    expect(got).toEqual({ status: 200, text: 'yes' });
    const status = JSON.parse((await http(`${url4}/status`)).text);
    expect(status.transport.tls).toBe(true);
    expect(Object.keys(status.transport.peers).sort()).toEqual(['n1', 'n2', 'n3']);
    const { code } = await stranger.finished(30_000);
    expect(code).not.toBe(0);
    expect(stranger.stderr).toMatch(/cannot ask the member/);

    // kill -9, then the same command on new ports: it is n4 again, does not join twice, and
    // gossip takes its new address to the others.
    await joiner.stop('SIGKILL');
    const moved = await joinerArgs(spec, 'n4', seed);
    const again = new NodeProcess(moved);
    all.add(again);
    const url4again = await again.up();
    expect(again.stderr).toMatch(/a member already: not joining again/);
    expect(again.stderr).not.toMatch(/join accepted/);
    const listen = moved[moved.indexOf('--listen') + 1];
    await waitFor(
      'n1 dials n4 at its new address',
      async () => {
        const peers = JSON.parse((await http(`${urls.get('n1')}/status`)).text).transport.peers;
        return peers.n4 === listen ? true : undefined;
      },
      20_000,
    );
    const after = await http(`${url4again}/kv/over-tls?r=${N}`);
    expect(after).toEqual({ status: 200, text: 'yes' });
    const put2 = await http(`${urls.get('n2')}/kv/after-move`, { method: 'PUT', body: 'moved' });
    expect(put2.status, put2.text).toBe(200);
    expect(await http(`${url4again}/kv/after-move?r=${N}`)).toEqual({ status: 200, text: 'moved' });
  }, 120_000);
});
