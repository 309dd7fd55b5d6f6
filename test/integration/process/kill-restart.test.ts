import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config.js';
import { Ring } from '../../../src/core/ring.js';
import { nodeId } from '../../../src/core/types.js';
import {
  type ClusterSpec,
  cleanup,
  http,
  metricByNode,
  type NodeProcess,
  pause,
  startCluster,
  startNode,
  WriteLoad,
  waitFor,
} from './helpers.js';

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const VICTIM = 'n3';
const WRITERS = 8;
/** Per request, well past the cluster's own 2 s deadline and retries. */
const REQUEST_TIMEOUT_MS = 10_000;

describe('kill -9 of one node process under load (5 nodes, N=3)', () => {
  let spec: ClusterSpec;
  const urls = new Map<string, string>();
  const all = new Set<NodeProcess>();
  const processes = new Map<string, NodeProcess>();

  beforeAll(async () => {
    // Mutual TLS, the default between nodes: a kill must be noticed through it too.
    const started = await startCluster(IDS);
    spec = started.spec;
    for (const [id, url] of started.urls) urls.set(id, url);
    for (const [id, process] of started.processes) {
      processes.set(id, process);
      all.add(process);
    }
  }, 60_000);

  afterAll(async () => {
    await cleanup(all, spec ?? null);
  });

  it('serves a key through a node that does not replicate it (forwarded to a replica)', async () => {
    const ring = Ring.create(IDS.map(nodeId), DEFAULT_CONFIG.partitionCount);
    const key = Array.from({ length: 100 }, (_, i) => `foreign-${i}`).find(
      (k) => !ring.preferenceList(k, 3).includes(nodeId('n1')),
    ) as string;
    expect(key).toBeDefined();
    const put = await http(`${urls.get('n1')}/kv/${key}`, { method: 'PUT', body: 'forwarded' });
    expect(put.status, put.text).toBe(200);
    expect(await http(`${urls.get('n1')}/kv/${key}?r=3`)).toEqual({
      status: 200,
      text: 'forwarded',
    });
  });

  it('keeps every acknowledged write through the kill, the restart and hinted handoff', async () => {
    let down: string | null = null;
    const load = new WriteLoad(WRITERS, () =>
      IDS.filter((id) => id !== down).map((id) => urls.get(id) as string),
    );
    // At least a second of load before the kill, and until writes are acked: on a loaded
    // machine (load 13, vitest running other process tests beside it) none had been in 1 s.
    await pause(1_000);
    const before = await waitFor(
      'writes acked before the kill',
      async () => (load.acked.size > 0 ? load.acked.size : undefined),
      20_000,
    );
    expect(before).toBeGreaterThan(0);

    down = VICTIM;
    const victim = processes.get(VICTIM) as NodeProcess;
    expect((await victim.stop('SIGKILL')).signal).toBe('SIGKILL');
    const killedAt = { acked: load.acked.size, attempts: load.attempts };
    const latencyFrom = load.latenciesMs.length;
    await pause(3_000);
    const p99 = percentile(load.latenciesMs.slice(0, latencyFrom), 0.99);
    const p99Down = percentile(load.latenciesMs.slice(latencyFrom), 0.99);
    const whileDown = load.acked.size - killedAt.acked;
    const triedWhileDown = load.attempts - killedAt.attempts;
    console.log(
      `while ${VICTIM} was down: ${whileDown}/${triedWhileDown} writes acked, ${load.sloppy} sloppy ` +
        `so far; write p99 ${p99.toFixed(0)} ms before the kill, ${p99Down.toFixed(0)} ms after`,
    );
    expect(whileDown).toBeGreaterThan(0);
    expect(whileDown / triedWhileDown).toBeGreaterThan(0.8);

    const again = await startNode(spec, VICTIM);
    all.add(again.process);
    expect(again.process.actor).toBe(victim.actor); // the same node, not a new one
    processes.set(VICTIM, again.process);
    urls.set(VICTIM, again.url);
    down = null;
    await pause(500);
    await load.stop();
    console.log(`writes: ${load.acked.size} acked, ${load.failures} failed, ${load.sloppy} sloppy`);

    // Hints: some were stored while the node was down, and all of them reach it.
    const metrics = async () => {
      const pages = await Promise.all(IDS.map((id) => http(`${urls.get(id)}/metrics`)));
      const sum = (name: string) =>
        pages.reduce((total, page) => {
          for (const v of metricByNode(page.text, name).values()) total += v;
          return total;
        }, 0);
      return {
        stored: sum('ringkv_node_hints_stored_total'),
        delivered: sum('ringkv_node_hints_delivered_total'),
        pending: sum('ringkv_node_hints_pending'),
      };
    };
    const hints = await waitFor(
      'every hint delivered',
      async () => {
        const now = await metrics();
        return now.pending === 0 ? now : undefined;
      },
      20_000,
      250,
    );
    console.log(`hints: ${JSON.stringify(hints)}`);
    expect(hints.stored).toBeGreaterThan(0);
    expect(hints.delivered).toBeGreaterThan(0);

    // Every acknowledged write, at R=N, through every node.
    const keys = [...load.acked.keys()];
    const misses: string[] = [];
    for (const id of IDS) {
      const url = urls.get(id) as string;
      let next = 0;
      const reader = async () => {
        while (next < keys.length) {
          const key = keys[next++] as string;
          const get = await http(`${url}/kv/${key}?r=3`, {}, REQUEST_TIMEOUT_MS);
          if (get.status !== 200 || get.text !== load.acked.get(key)) {
            misses.push(`${id} ${key}: ${get.status} ${get.text.slice(0, 120)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, reader));
    }
    expect(misses.slice(0, 10)).toEqual([]);
  }, 60_000);
});

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}
