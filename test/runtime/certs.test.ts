import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCerts, nodeIdOfCertificate, parseHosts } from '../../src/runtime/certs.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ringkv-certs-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cert = async (name: string) => new X509Certificate(await readFile(join(dir, name)));

describe('createCerts', () => {
  it('makes a CA and node certificates that verify against it, naming each node', async () => {
    const hosts = parseHosts('n1=127.0.0.1,n1=node1.example,n2=::1', ['n1', 'n2']);
    const result = await createCerts({ dir, nodes: ['n1', 'n2'], hosts, days: 30 });
    expect(result.reusedCa).toBe(false);
    expect(result.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(
      ['ca.crt', 'ca.key', 'n1.crt', 'n1.key', 'n2.crt', 'n2.key'].sort(),
    );
    const ca = await cert('ca.crt');
    expect(ca.ca).toBe(true);
    expect(ca.keyUsage).toBeUndefined(); // X509Certificate.keyUsage is the EKU: a CA has none
    for (const id of ['n1', 'n2']) {
      const node = await cert(`${id}.crt`);
      expect(node.verify(ca.publicKey)).toBe(true);
      expect(node.checkIssued(ca)).toBe(true);
      expect(node.ca).toBe(false);
      expect(node.subject).toBe(`CN=${id}`);
      expect(nodeIdOfCertificate(node)).toBe(id);
      expect(node.keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      const days = (Date.parse(node.validTo) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29);
      expect(days).toBeLessThan(31);
    }
    expect((await cert('n1.crt')).subjectAltName).toBe(
      'URI:ringkv://node/n1, IP Address:127.0.0.1, DNS:node1.example',
    );
    expect((await cert('n2.crt')).checkIP('::1')).toBe('::1');
    for (const key of ['ca.key', 'n1.key', 'n2.key']) {
      expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
    }
  });

  it('a certificate of another CA does not verify', async () => {
    await createCerts({ dir, nodes: ['n1'] });
    const other = await mkdtemp(join(tmpdir(), 'ringkv-certs-other-'));
    try {
      await createCerts({ dir: other, nodes: ['n1'] });
      const foreign = new X509Certificate(await readFile(join(other, 'n1.crt')));
      const ca = await cert('ca.crt');
      expect(foreign.verify(ca.publicKey)).toBe(false);
      expect(foreign.checkIssued(ca)).toBe(false);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuses to overwrite unless forced, and reuses an existing CA for new nodes', async () => {
    await createCerts({ dir, nodes: ['n1'] });
    const caBefore = await readFile(join(dir, 'ca.crt'), 'utf8');
    const keyBefore = await readFile(join(dir, 'n1.key'), 'utf8');
    await expect(createCerts({ dir, nodes: ['n1', 'n2'] })).rejects.toThrow(/n1\.crt.*--force/);
    expect(await readFile(join(dir, 'n1.key'), 'utf8')).toBe(keyBefore);
    await expect(stat(join(dir, 'n2.crt'))).rejects.toThrow(); // nothing half-written
    const added = await createCerts({ dir, nodes: ['n2'] });
    expect(added.reusedCa).toBe(true);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(caBefore);
    expect((await cert('n2.crt')).checkIssued(await cert('ca.crt'))).toBe(true);
    const forced = await createCerts({ dir, nodes: ['n1'], force: true });
    expect(forced.reusedCa).toBe(false);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).not.toBe(caBefore);
    expect(await readFile(join(dir, 'n1.key'), 'utf8')).not.toBe(keyBefore);
  });

  it('refuses a directory holding half a CA', async () => {
    await writeFile(join(dir, 'ca.crt'), 'x');
    await expect(createCerts({ dir, nodes: ['n1'] })).rejects.toThrow(/only one of ca\.crt/);
  });

  it.each([
    [['n/1'], /invalid node id/],
    [['../x'], /invalid node id/],
    [[''], /invalid node id/],
    [['a'.repeat(65)], /invalid node id/],
    [[], /1\.\.64 node ids/],
    [['n1', 'n1'], /repeat/],
  ])('refuses node ids %j', async (nodes, error) => {
    await expect(createCerts({ dir, nodes })).rejects.toThrow(error);
  });

  it('refuses bad days and hosts', async () => {
    await expect(createCerts({ dir, nodes: ['n1'], days: 0 })).rejects.toThrow(/days/);
    expect(() => parseHosts('n3=1.2.3.4', ['n1'])).toThrow(/node in --nodes/);
    expect(() => parseHosts('n1=bad host', ['n1'])).toThrow(/neither an IP/);
    expect(() => parseHosts('n1=a,b', ['n1'])).toThrow(/node=host/);
  });

  it('says clearly when openssl is missing', async () => {
    await expect(
      createCerts({ dir, nodes: ['n1'] }, { openssl: '/nonexistent/openssl' }),
    ).rejects.toThrow(/not found: install OpenSSL/);
  });
});

describe('nodeIdOfCertificate', () => {
  it('is null for a certificate without a ringkv node URI', async () => {
    await createCerts({ dir, nodes: ['n1'] });
    expect(nodeIdOfCertificate(await cert('ca.crt'))).toBeNull();
  });
});
