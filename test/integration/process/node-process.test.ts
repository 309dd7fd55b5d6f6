/**
 * Three `ringkv node` processes on loopback with --insecure: a write through one node's HTTP
 * reads back through another's at R=N; the node's identity survives a SIGTERM and a restart with
 * the same command; its data dir refuses a second process and another node id.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterSpec,
  cleanup,
  clusterSpec,
  http,
  NodeProcess,
  nodeArgs,
  startNode,
  waitFor,
} from './helpers.js';

const IDS = ['n1', 'n2', 'n3'];

describe('ringkv node processes (insecure, 3 nodes)', () => {
  let spec: ClusterSpec;
  const processes = new Map<string, NodeProcess>();
  const urls = new Map<string, string>();
  const all = new Set<NodeProcess>();

  beforeAll(async () => {
    spec = await clusterSpec(IDS);
    // n3 asks every replica on a get (Riak's read path); the others keep the default.
    const extra = (id: string) => (id === 'n3' ? ['--read-speculate-ms', '0'] : []);
    const started = await Promise.all(IDS.map((id) => startNode(spec, id, extra(id))));
    started.forEach(({ process, url }, i) => {
      processes.set(IDS[i] as string, process);
      urls.set(IDS[i] as string, url);
      all.add(process);
    });
  }, 60_000);

  afterAll(async () => {
    await cleanup(all, spec ?? null);
  });

  const url = (id: string) => urls.get(id) as string;

  it('a PUT through n1 reads back through n3 at r=3', async () => {
    const put = await http(`${url('n1')}/kv/greeting`, { method: 'PUT', body: 'hello' });
    expect(put.status).toBe(200);
    expect(JSON.parse(put.text)).toMatchObject({ acked: 2, w: 2, coordinator: 'n1' });
    const get = await http(`${url('n3')}/kv/greeting?r=3`);
    expect(get).toEqual({ status: 200, text: 'hello' });
  });

  it('a PUT with ttl_ms carries its deadline over TCP; after it no node returns the value', async () => {
    const before = Date.now();
    const put = await fetch(`${url('n1')}/kv/session?ttl_ms=500&w=3`, { method: 'PUT', body: 't' });
    expect(put.status).toBe(200);
    const live = await fetch(`${url('n3')}/kv/session?r=3`);
    expect(live.status).toBe(200);
    const deadline = Number(live.headers.get('x-ringkv-expires-at-ms'));
    expect(deadline).toBeGreaterThanOrEqual(before + 500);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now()) + 5));
    for (const id of IDS) expect((await fetch(`${url(id)}/kv/session?r=1`)).status).toBe(404);
  });

  it('says it runs without TLS, at start-up and in /status', async () => {
    expect(processes.get('n1')?.stderr).toContain('WITHOUT TLS');
    expect(processes.get('n1')?.stdout).toContain('INSECURE');
    const status = JSON.parse((await http(`${url('n2')}/status`)).text);
    expect(status.transport).toMatchObject({ tls: false, clusterName: 'ringkv' });
    expect(Object.keys(status.transport.peers).sort()).toEqual(['n1', 'n3']);
    expect(status.nodes.map((n: { id: string }) => n.id)).toEqual(['n2']);
    expect(status.config).toMatchObject({ n: 3, durable: true });
  });

  it('--read-speculate-ms reaches the node: /status says which read path it runs', async () => {
    const statusOf = async (id: string) => JSON.parse((await http(`${url(id)}/status`)).text);
    expect((await statusOf('n2')).config.readSpeculateMs).toBe(20);
    expect((await statusOf('n3')).config.readSpeculateMs).toBe(0);
    // Both read paths answer the same.
    expect((await http(`${url('n1')}/kv/read-path`, { method: 'PUT', body: 'v' })).status).toBe(
      200,
    );
    expect(await http(`${url('n3')}/kv/read-path?r=2`)).toEqual({ status: 200, text: 'v' });
    expect(await http(`${url('n2')}/kv/read-path?r=2`)).toEqual({ status: 200, text: 'v' });
  });

  it('refuses a second process on a data dir in use', async () => {
    const second = new NodeProcess(nodeArgs(spec, 'n1'));
    all.add(second);
    const { code } = await second.finished();
    expect(code).toBe(2);
    expect(second.stderr).toMatch(/is in use by process \d+/);
  });

  it('exits with code 5 when its peer port is in use, so a supervisor can pick another', async () => {
    // n1 again on a data dir of its own, told to listen on n2's peer port.
    const n2 = spec.nodes.find((n) => n.id === 'n2') as (typeof spec.nodes)[number];
    const taken = {
      ...spec,
      root: join(spec.root, 'port-taken'),
      nodes: spec.nodes.map((n) => (n.id === 'n1' ? { ...n, peerPort: n2.peerPort } : n)),
    };
    const clash = new NodeProcess(nodeArgs(taken, 'n1'));
    all.add(clash);
    const { code } = await clash.finished();
    expect(code).toBe(5);
    expect(clash.stderr).toMatch(new RegExp(`EADDRINUSE.*${n2.peerPort}`));
  });

  it('drains on SIGTERM (exit 0) and comes back as itself with its data', async () => {
    const n1 = processes.get('n1') as NodeProcess;
    const actor = n1.actor;
    expect(actor).toMatch(/^n1\./);
    // A request in flight when SIGTERM comes is finished: half its body is sent before the
    // signal, the rest after, and it is answered and acknowledged.
    const inFlight = slowPut(`${url('n1')}/kv/drained`, 'written during the drain');
    await inFlight.firstHalfSent;
    n1.child.kill('SIGTERM');
    await waitFor(
      'the drain to start',
      async () => (n1.stderr.includes('SIGTERM') ? true : undefined),
      5_000,
      20,
    );
    const answer = await inFlight.finish();
    expect(answer.status).toBe(200);
    expect(await n1.finished()).toEqual({ code: 0, signal: null });
    expect(n1.stderr).toContain('node closed');
    expect(await http(`${url('n2')}/kv/drained?r=2`)).toEqual({
      status: 200,
      text: 'written during the drain',
    });

    // Another id on n1's data dir is refused, and changes nothing.
    const impostor = new NodeProcess(nodeArgs(spec, 'n2', ['--data-dir', join(spec.root, 'n1')]));
    all.add(impostor);
    expect((await impostor.finished()).code).toBe(2);
    expect(impostor.stderr).toContain('holds node n1');

    const again = await startNode(spec, 'n1');
    all.add(again.process);
    expect(again.process.actor).toBe(actor);
    // Peers redial a restarted node after their reconnect backoff (up to reconnectDelayMaxMs):
    // until then its requests lack their answers, so the first reads may miss the quorum.
    const get = await waitFor(
      'a read at r=3 through the restarted node',
      async () => {
        const answer = await http(`${again.url}/kv/greeting?r=3`);
        return answer.status === 200 ? answer : undefined;
      },
      15_000,
    );
    expect(get).toEqual({ status: 200, text: 'hello' });
    // A write coordinated by the restarted node reaches its peers again.
    expect((await http(`${again.url}/kv/after`, { method: 'PUT', body: 'x' })).status).toBe(200);
    expect(await http(`${url('n2')}/kv/after?r=3`)).toEqual({ status: 200, text: 'x' });
  });
});

/** A PUT whose body goes in two halves: the second only when `finish` is called. */
function slowPut(url: string, body: string) {
  const bytes = Buffer.from(body);
  const half = Math.floor(bytes.length / 2);
  const req = request(url, {
    method: 'PUT',
    headers: { 'content-length': String(bytes.length) },
    timeout: 10_000,
  });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
  });
  const firstHalfSent = new Promise<void>((resolve) =>
    req.write(bytes.subarray(0, half), () => resolve()),
  );
  return {
    firstHalfSent,
    finish: () => {
      req.end(bytes.subarray(half));
      return response;
    },
  };
}
