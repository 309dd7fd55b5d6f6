/**
 * connect() to https:// nodes: the node's certificate is verified against the given CA, a client
 * certificate is presented when the node asks for one, and an untrusted node is refused.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, UnavailableError } from '../../../src/index.js';
import { createCerts, parseHosts } from '../../../src/runtime/certs.js';

const STATUS = {
  config: { n: 3, r: 2, w: 2, requestTimeoutMs: 2000, valueSizeMaxBytes: 1024 },
};

describe('connect() over TLS', () => {
  let dir = '';
  let server: https.Server;
  let url = '';
  let pem: Record<'ca' | 'key' | 'cert' | 'clientKey' | 'clientCert', Buffer>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ringkv-remote-tls-'));
    const hosts = parseHosts('n1=127.0.0.1', ['n1', 'client']);
    await createCerts({ dir, nodes: ['n1', 'client'], hosts, days: 1 });
    const file = (name: string) => readFile(join(dir, name));
    pem = {
      ca: await file('ca.crt'),
      key: await file('n1.key'),
      cert: await file('n1.crt'),
      clientKey: await file('client.key'),
      clientCert: await file('client.crt'),
    };
    // Mutual TLS: the node only talks to clients with a certificate from the same CA.
    const options = { ...pem, requestCert: true, rejectUnauthorized: true };
    server = https.createServer(options, (req, res) => {
      if (req.url === '/health') return res.end('{"ok":true}');
      if (req.url === '/status') return res.end(JSON.stringify(STATUS));
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('secret');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies the node against the CA and presents the client certificate', async () => {
    const db = await connect({
      nodes: [url],
      tls: { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey },
    });
    try {
      expect((await db.get('k')).strings()).toEqual(['secret']);
    } finally {
      await db.close();
    }
  });

  it('refuses a node whose certificate it cannot verify, and a node refuses it without one', async () => {
    const untrusted = await connect({ nodes: [url], timeoutMs: 1000 }).catch((e) => e);
    expect(untrusted).toBeInstanceOf(UnavailableError);
    expect(untrusted.message).toMatch(/SELF_SIGNED_CERT_IN_CHAIN/);
    const anonymous = await connect({ nodes: [url], tls: { ca: pem.ca }, timeoutMs: 1000 }).catch(
      (e) => e,
    );
    expect(anonymous).toBeInstanceOf(UnavailableError);
    expect(anonymous.message).toMatch(/CERTIFICATE_REQUIRED/);
  });
});
