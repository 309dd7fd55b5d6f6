/**
 * A node that starts while its peers do not listen yet takes them for down (a refused dial is
 * proof nothing listens). Each node greets every peer it knows as it starts, before it serves
 * HTTP, so the peers that took it for down learn at once that it runs: requests that need every
 * replica succeed from the first one, with no wait for redials or probes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterSpec,
  cleanup,
  clusterSpec,
  http,
  type NodeProcess,
  startNode,
} from './helpers.js';

const IDS = ['n1', 'n2', 'n3'];

describe('ringkv node greets its peers as it starts', () => {
  let spec: ClusterSpec;
  const processes: NodeProcess[] = [];
  let first = '';

  beforeAll(async () => {
    spec = await clusterSpec(IDS);
    // n1 alone first: its greetings to n2 and n3 are refused, so it holds both down.
    const n1 = await startNode(spec, 'n1');
    processes.push(n1.process);
    first = n1.url;
    const rest = await Promise.all(['n2', 'n3'].map((id) => startNode(spec, id)));
    for (const { process } of rest) processes.push(process);
  }, 60_000);

  afterAll(async () => {
    await cleanup(processes, spec ?? null);
  });

  it('the first node sees the others up as soon as they serve: r=3 answers at once', async () => {
    expect(processes[0]?.stderr).toMatch(/peer down: its address refuses connections/);
    for (let i = 0; i < 8; i++) {
      const { status, text } = await http(`${first}/kv/fresh-${i}?r=3`);
      expect({ status, text }).toMatchObject({ status: 404 });
    }
  });
});
