/**
 * Overload on a real cluster behind the HTTP server: a flood far past the admission limit gets
 * 503s with Retry-After and every request an answer (none hangs), while the controller's
 * running and waiting counts stay within their bounds; connections past the cap get a 503 and
 * are closed. Counts, not timings.
 */
import http, { type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../../src/index.js';
import { AdmissionController } from '../../../src/server/admission.js';
import { createHttpServer } from '../../../src/server/http.js';

const LIMIT = 2;
const QUEUE_MAX = 4;
const FLOOD = 300;
/** A generous bound: a request unanswered this long counts as hung (none may be). */
const HUNG_MS = 20_000;

describe('HTTP overload on a real cluster', () => {
  let db: Cluster;
  let server: Server;
  let base: string;
  const admission = new AdmissionController({
    limitInitial: LIMIT,
    limitMin: 1,
    limitMax: LIMIT,
    queueMax: QUEUE_MAX,
    queueWaitMsMax: 50,
  });

  beforeAll(async () => {
    db = await startCluster({ nodes: 3, n: 3, r: 2, w: 2 });
    server = createHttpServer(db, {
      bodySizeMaxBytes: 1024 * 1024,
      requestTimeoutMs: 5000,
      admission,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.close();
  });

  it('refuses what is past the limit with 503 + Retry-After; every request is answered', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: FLOOD });
    let inFlightMax = 0;
    let queuedMax = 0;
    const sample = () => {
      inFlightMax = Math.max(inFlightMax, admission.inFlight);
      queuedMax = Math.max(queuedMax, admission.queued);
    };
    const sampler = setInterval(sample, 1);
    const replies = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) => put(base, `flood-${i}`, agent, sample)),
    );
    clearInterval(sampler);
    agent.destroy();

    const hung = replies.filter((r) => r.status === 'hung').length;
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status === 503);
    expect(hung).toBe(0);
    expect(ok.length + refused.length).toBe(FLOOD);
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const reply of refused) {
      expect(reply.retryAfter).toBe('1');
      expect(reply.code).toBe('OVERLOAD');
    }
    const stats = admission.stats();
    expect(stats.refusedQueueFull + stats.refusedWaitExpired).toBe(refused.length);
    expect(stats.admitted).toBe(ok.length);
    expect(inFlightMax).toBeLessThanOrEqual(LIMIT);
    expect(queuedMax).toBeLessThanOrEqual(QUEUE_MAX);
    expect(stats.inFlight).toBe(0);
    expect(stats.queued).toBe(0);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    const refusedSeries = metrics
      .split('\n')
      .filter((line) => line.startsWith('ringkv_admission_refused_total{'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    expect(refusedSeries).toBe(refused.length);
    expect(metrics).toMatch(new RegExp(`^ringkv_admission_limit ${LIMIT}$`, 'm'));
    // No service times reach a controller made without them: the permits are the cluster's.
    expect(metrics).toMatch(new RegExp(`^ringkv_admission_cluster_limit ${LIMIT}$`, 'm'));
    expect(metrics).toMatch(/^ringkv_admission_hold_ratio 1$/m);
    // And the cluster still serves once the flood is over.
    expect((await fetch(`${base}/kv/after`, { method: 'PUT', body: 'x' })).status).toBe(200);
  });

  it('answers requests on connections past the cap with 503 and closes them', async () => {
    const capped = createHttpServer(db, {
      bodySizeMaxBytes: 1024,
      requestTimeoutMs: 5000,
      admission: null,
      connectionsMax: 3,
    });
    await new Promise<void>((resolve) => capped.listen(0, '127.0.0.1', resolve));
    const { port } = capped.address() as AddressInfo;
    try {
      const sockets = await Promise.all(Array.from({ length: 6 }, () => connect(port)));
      while ((await connections(capped)) < 6) await new Promise((r) => setImmediate(r));
      const answers = await Promise.all(sockets.map((socket) => rawGet(socket, '/health')));
      for (const answer of answers) {
        expect(answer).toMatch(/^HTTP\/1\.1 503 /);
        expect(answer).toMatch(/\r\nretry-after: 1\r\n/i);
        expect(answer).toMatch(/\r\nconnection: close\r\n/i);
        expect(answer).toContain('TOO_MANY_CONNECTIONS');
      }
      while ((await connections(capped)) > 0) await new Promise((r) => setImmediate(r));
      const again = await fetch(`http://127.0.0.1:${port}/health`);
      expect(again.status).toBe(200);
    } finally {
      capped.closeAllConnections();
      await new Promise((resolve) => capped.close(resolve));
    }
  });
});

interface PutReply {
  readonly status: number | 'hung';
  readonly retryAfter?: string | undefined;
  readonly code?: string;
}

function put(base: string, key: string, agent: http.Agent, onEnd: () => void): Promise<PutReply> {
  return new Promise((resolve) => {
    const req = http.request(`${base}/kv/${key}`, { method: 'PUT', agent, timeout: HUNG_MS });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        onEnd();
        const code = res.statusCode === 503 ? (JSON.parse(text) as { code: string }).code : '';
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], code });
      });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ status: 'hung' });
    });
    req.on('error', () => resolve({ status: 'hung' }));
    req.end(Buffer.alloc(1024, 'v'));
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

/** Sends one GET on `socket` and resolves with everything read until the server closes it. */
function rawGet(socket: net.Socket, path: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.once('close', () => resolve(text));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}
