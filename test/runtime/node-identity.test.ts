import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { DataDirLock, LOCK_FILE } from '../../src/runtime/data-dir-lock.js';
import {
  claimIdentity,
  formatHostPort,
  IDENTITY_FILE,
  type NodeIdentity,
  parseHostPort,
  parseInitialCluster,
} from '../../src/runtime/node-identity.js';

describe('HOST:PORT and --initial-cluster', () => {
  it.each([
    ['127.0.0.1:7001', { host: '127.0.0.1', port: 7001 }],
    ['node1.example:1', { host: 'node1.example', port: 1 }],
    ['[::1]:65535', { host: '::1', port: 65_535 }],
  ])('parses %s', (text, address) => {
    expect(parseHostPort(text, 'x')).toEqual(address);
    expect(formatHostPort(address)).toBe(text);
  });

  it.each(['127.0.0.1', ':7001', 'host:0', 'host:65536', 'host:port', '::1:7001', '[host]:7001'])(
    'refuses %s',
    (text) => {
      expect(() => parseHostPort(text, '--listen')).toThrow(/--listen/);
    },
  );

  it('takes port 0 only where asked', () => {
    expect(parseHostPort('127.0.0.1:0', '--http', true)).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('parses a list in order and refuses bad or repeated ids', () => {
    const members = parseInitialCluster('n2=10.0.0.2:7000, n1=10.0.0.1:7000');
    expect([...members.keys()]).toEqual(['n2', 'n1']);
    expect(members.get('n1')).toEqual({ host: '10.0.0.1', port: 7000 });
    expect(() => parseInitialCluster('n1=a:1,n1=b:2')).toThrow(/twice/);
    expect(() => parseInitialCluster('n/1=a:1')).toThrow(/id=HOST:PORT/);
    expect(() => parseInitialCluster('a:1')).toThrow(/id=HOST:PORT/);
  });
});

describe('node.json and node.lock in a data dir', () => {
  let dir: string;
  const identity: NodeIdentity = {
    id: 'n1',
    clusterName: 'c',
    listen: '127.0.0.1:7001',
    advertise: '127.0.0.1:7001',
    initialCluster: { n1: '127.0.0.1:7001', n2: '127.0.0.1:7002' },
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringkv-identity-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the identity on first start and accepts the same one again', () => {
    expect(claimIdentity(dir, identity)).toEqual({ changed: [], created: true });
    expect(JSON.parse(readFileSync(join(dir, IDENTITY_FILE), 'utf8'))).toMatchObject(identity);
    expect(claimIdentity(dir, identity)).toEqual({ changed: [], created: false });
  });

  it('refuses another id, cluster name or set of initial ids, and keeps the file', () => {
    claimIdentity(dir, identity);
    const before = readFileSync(join(dir, IDENTITY_FILE), 'utf8');
    expect(() => claimIdentity(dir, { ...identity, id: 'n2' })).toThrow(/holds node n1/);
    expect(() => claimIdentity(dir, { ...identity, clusterName: 'd' })).toThrow(/cluster "c"/);
    const grown = { ...identity.initialCluster, n3: '127.0.0.1:7003' };
    expect(() => claimIdentity(dir, { ...identity, initialCluster: grown })).toThrow(
      /initial-cluster ids n1,n2/,
    );
    expect(readFileSync(join(dir, IDENTITY_FILE), 'utf8')).toBe(before);
  });

  it('takes changed addresses and writes them back', () => {
    claimIdentity(dir, identity);
    const moved = { ...identity, advertise: '10.0.0.1:7001' };
    expect(claimIdentity(dir, moved).changed).toEqual([
      'advertise 127.0.0.1:7001 -> 10.0.0.1:7001',
    ]);
    expect(claimIdentity(dir, moved)).toEqual({ changed: [], created: false });
  });

  it('a joined node restarts with --join, a formed one with --initial-cluster', () => {
    const joined = { ...identity, initialCluster: {}, join: '127.0.0.1:7002' };
    claimIdentity(dir, joined);
    expect(() => claimIdentity(dir, identity)).toThrow(/joined with --join 127.0.0.1:7002/);
    const seed = { ...joined, join: '127.0.0.1:7003' };
    expect(claimIdentity(dir, seed).changed).toEqual(['join 127.0.0.1:7002 -> 127.0.0.1:7003']);
    rmSync(join(dir, IDENTITY_FILE));
    claimIdentity(dir, identity);
    expect(() => claimIdentity(dir, joined)).toThrow(/formed with --initial-cluster/);
  });

  it('refuses a damaged identity file', () => {
    writeFileSync(join(dir, IDENTITY_FILE), '{"id": "n1"');
    expect(() => claimIdentity(dir, identity)).toThrow(ValidationError);
    writeFileSync(join(dir, IDENTITY_FILE), '{"id": "n1"}');
    expect(() => claimIdentity(dir, identity)).toThrow(/not a ringkv node identity/);
  });

  it('takes the lock once; a live holder refuses, a stale one is taken over', () => {
    const lock = DataDirLock.acquire(dir);
    // This process holds it: a lock naming a live pid that is not ours refuses.
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(() => DataDirLock.acquire(dir)).toThrow(new RegExp(`in use by process ${process.ppid}`));
    // A pid no process has (past the kernel's limit) is stale.
    writeFileSync(join(dir, LOCK_FILE), '2147483646\n');
    const again = DataDirLock.acquire(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    again.release();
    lock.release(); // not ours any more: already gone, and idempotent
    expect(() => readFileSync(join(dir, LOCK_FILE))).toThrow(/ENOENT/);
  });
});
