/**
 * Logs of a real worker-thread cluster: every node writes JSON lines naming itself, and a
 * request's trace id shows up on its coordinator and on the replicas it reached.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../../src/index.js';

type Line = Record<string, unknown>;

let dir: string;
let logFile: string;
let db: Cluster;

function lines(): Line[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** Waits (bounded) until the log holds lines matching `test`; returns the lines then. */
async function waitForLines(test: (all: Line[]) => boolean, timeoutMs = 5000): Promise<Line[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = lines();
    if (test(all)) return all;
    if (Date.now() > deadline) throw new Error(`log lines did not appear within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ringkv-log-cluster-'));
  logFile = path.join(dir, 'ringkv.log');
  db = await startCluster(
    { nodes: 3, n: 3, r: 2, w: 2, logLevel: 'debug', requestTimeoutMs: 2000 },
    { logFile },
  );
});

afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cluster logs', () => {
  it('logs every node start with its node id, and the cluster start', () => {
    const all = lines();
    const started = all.filter((l) => l.msg === 'node started');
    expect(started.map((l) => l.node).sort()).toEqual(['n1', 'n2', 'n3']);
    for (const l of started) expect(l).toMatchObject({ level: 'info', storage: 'memory', keys: 0 });
    expect(all.find((l) => l.msg === 'cluster started')).toMatchObject({
      name: 'launcher',
      nodes: ['n1', 'n2', 'n3'],
    });
  });

  it("a put's trace id is on the coordinator's and the replicas' lines, never its value", async () => {
    const result = await db.put('traced:key', 'private-value-123', { traceId: 'trace-abc' });
    const coordinator = result.coordinator;
    const traced = (all: Line[]) => all.filter((l) => l.trace === 'trace-abc');
    const all = await waitForLines((a) => traced(a).some((l) => l.msg === 'client reply'));
    const mine = traced(all);
    expect(mine.find((l) => l.msg === 'client request')).toMatchObject({
      node: coordinator,
      op: 'put',
      key: 'traced:key',
      level: 'debug',
    });
    expect(mine.find((l) => l.msg === 'client reply')).toMatchObject({
      node: coordinator,
      outcome: 'ok',
    });
    // W=2: the coordinator answered after at least one other replica acked, and a replica
    // logs the replica-put as it arrives, before it acks.
    const replicas = mine.filter((l) => l.msg === 'peer message' && l.type === 'replica-put');
    expect(replicas.length).toBeGreaterThanOrEqual(1);
    for (const l of replicas) {
      expect(l).toMatchObject({ from: coordinator, key: 'traced:key' });
      expect(l.node).not.toBe(coordinator);
      expect(['n1', 'n2', 'n3']).toContain(l.node);
    }
    expect(readFileSync(logFile, 'utf8')).not.toContain('private-value-123');
  });

  it('a get without a trace id gets a generated one that reaches the replicas', async () => {
    await db.get('traced:key', { r: 3 });
    const all = await waitForLines((a) =>
      a.some((l) => l.msg === 'client reply' && l.op === 'get'),
    );
    const reply = all.find((l) => l.msg === 'client reply' && l.op === 'get')!;
    expect(reply.trace).toMatch(/^[0-9a-f-]{36}$/);
    const gets = all.filter((l) => l.type === 'replica-get' && l.trace === reply.trace);
    expect(gets).toHaveLength(2); // r=3: both other replicas were asked
  });

  it('rejects a bad trace id before sending anything', async () => {
    await expect(db.put('k', 'v', { traceId: 'x'.repeat(129) })).rejects.toThrow(/traceId/);
    await expect(db.get('k', { traceId: 'line\nbreak' })).rejects.toThrow(/traceId/);
  });

  it('logs a kill and a restart on the main thread, and the node starting again', async () => {
    await db.killNode('n2');
    await db.restartNode('n2');
    const all = await waitForLines(
      (a) => a.filter((l) => l.msg === 'node started' && l.node === 'n2').length === 2,
    );
    const launcher = all.filter((l) => l.name === 'launcher').map((l) => [l.msg, l.node]);
    expect(launcher).toEqual(
      expect.arrayContaining([
        ['killing node', 'n2'],
        ['node stopped', 'n2'],
        ['node restarted', 'n2'],
      ]),
    );
    expect(all.some((l) => l.msg === 'node stopped unexpectedly')).toBe(false);
    const stopped = all.find((l) => l.msg === 'node stopped' && l.node === 'n2');
    expect(stopped?.reason).toBe('killed');
  });
});
