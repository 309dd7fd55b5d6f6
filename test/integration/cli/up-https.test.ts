/**
 * `ringkv up --http-cert --http-key`: the client API over HTTPS, with a certificate from
 * `ringkv certs` (its CA is the only trust root the client is given).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningUp, startUp } from '../../../src/cli/up.js';
import { createCerts } from '../../../src/runtime/certs.js';

const dir = mkdtempSync(join(tmpdir(), 'ringkv-https-'));
let running: RunningUp | undefined;
let ca: Buffer;

const quietIo = { out: () => {}, err: () => {}, exit: () => {}, onSignal: () => {} };

beforeAll(async () => {
  await createCerts({ dir, nodes: ['api'], hosts: new Map([['api', ['127.0.0.1']]]) });
  ca = readFileSync(join(dir, 'ca.crt'));
  running = await startUp(
    {
      config: { nodes: 3, n: 3, r: 2, w: 2, dataDir: null },
      host: '127.0.0.1',
      port: 0,
      https: { certFile: join(dir, 'api.crt'), keyFile: join(dir, 'api.key') },
    },
    quietIo,
  );
});

afterAll(async () => {
  await running?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function request(
  url: string,
  method: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('ringkv up over HTTPS', () => {
  it('prints an https URL and serves the API with the given certificate', async () => {
    expect(running!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await request(`${running!.url}/kv/greeting`, 'PUT', 'hello')).status).toBe(200);
    expect(await request(`${running!.url}/kv/greeting`, 'GET')).toEqual({
      status: 200,
      body: 'hello',
    });
  });

  it('a client that does not trust the CA is refused by TLS', async () => {
    const untrusted = new Promise((resolve, reject) => {
      const req = https.request(`${running!.url}/health`, { timeout: 10_000 }, resolve);
      req.on('error', reject);
      req.end();
    });
    await expect(untrusted).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });
});
