/**
 * The floor server of bench/overload: whatever it is sent, it answers 503 with Retry-After once
 * the body is read, and keeps the connection for the next request (the flood's clients reuse
 * theirs, so a server that closed would measure connection set-up instead of refusals).
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startListening, stopListeningChildren } from './listening-child.js';

afterEach(stopListeningChildren);

function start(): Promise<number> {
  return startListening(['bench/overload/refuse-all.mjs']);
}

function put(agent: http.Agent, port: number, body: Buffer) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', path: '/kv/a', method: 'PUT', agent });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('bench/overload floor server', () => {
  it('answers every request 503 with Retry-After, on one kept-alive connection', async () => {
    const port = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    agent.on('free', (socket) => sockets.add(socket));
    for (const size of [0, 1024, 100_000]) {
      const reply = await put(agent, port, Buffer.alloc(size, 'v'));
      expect(reply.status).toBe(503);
      expect(reply.headers['retry-after']).toBe('1');
      expect(JSON.parse(reply.body)).toMatchObject({ code: 'OVERLOAD' });
    }
    expect(sockets.size).toBe(1);
    agent.destroy();
  });
});
