/**
 * Fakes and helpers for the monitoring tests (/metrics, /events, the dashboard): a KvClient that
 * is also a NodeStatsSource, with node states and counters the test sets, and bounded readers
 * for a Server-Sent Events stream.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  ClusterStatus,
  GetResult,
  KvClient,
  NodeCounters,
  NodeStatus,
  PutResult,
} from '../../../src/client/types.js';
import type { NodeStats } from '../../../src/core/node.js';
import type { WorkerStats } from '../../../src/runtime/control.js';

export const NODE_IDS = ['n1', 'n2', 'n3'] as const;

export function coreStats(overrides: Partial<NodeStats> = {}): NodeStats {
  return {
    putsOk: 0,
    getsOk: 0,
    quorumFailures: 0,
    sloppyPuts: 0,
    readRepairs: 0,
    retriesDeduplicated: 0,
    lateReplies: 0,
    readsWidened: 0,
    inFlight: 0,
    persistsPending: 0,
    malformedMessages: 0,
    forwarded: 0,
    replicaPuts: 0,
    replicaGets: 0,
    overloaded: 0,
    hintsPending: 0,
    hintsStored: 0,
    hintsRefused: 0,
    hintsDelivered: 0,
    valuesExpired: 0,
    expiringKeys: 0,
    repairsApplied: 0,
    tombstonesReaped: 0,
    aeExchanges: 0,
    aeExchangesInSync: 0,
    aeExchangesAbandoned: 0,
    aeKeysRepaired: 0,
    aePartitionsRepaired: 0,
    reapsPending: 0,
    reapsSent: 0,
    reapChecksFailed: 0,
    suspected: 0,
    ringVersion: 0,
    transferKeysSent: 0,
    transferKeysReceived: 0,
    keysToDrain: 0,
    membersUnhealthy: 0,
    membersDead: 0,
    ...overrides,
  };
}

export function workerStats(keys: number, core: Partial<NodeStats> = {}): WorkerStats {
  return {
    actor: 'a',
    keys,
    core: coreStats(core),
    latency: null,
    transport: { sent: 10, received: 9, dropped: 2, batches: 5 },
    faults: { blockedOut: 1, blockedIn: 0, lost: 1, overflowed: 0, delayed: 0, delayedPending: 0 },
    storage: {
      syncs: 4,
      bytesAppended: 4096,
      compactions: 1,
      compactionFailures: 0,
      fileBytes: 3000,
    },
    recordBytes: 2500,
  };
}

/** A cluster of three nodes whose states and counters the test sets directly. */
export class FakeCluster implements KvClient {
  readonly down = new Set<string>();
  groups: string[][] | null = null;
  readonly stats = new Map<string, WorkerStats>();
  /** When set, nodeStats() never answers (a stuck node). */
  hangStats = false;
  nextPutSloppy = false;
  nextError: Error | null = null;

  async put(): Promise<PutResult> {
    this.throwArmed();
    const sloppy = this.nextPutSloppy;
    this.nextPutSloppy = false;
    return { acked: 2, w: 2, coordinator: 'n1', sloppy, siblings: 1 };
  }

  async delete(): Promise<PutResult> {
    this.throwArmed();
    return { acked: 2, w: 2, coordinator: 'n1', sloppy: false, siblings: 1 };
  }

  async get(key: string): Promise<GetResult> {
    this.throwArmed();
    const found = key !== 'missing';
    const values = found ? [new TextEncoder().encode('v')] : [];
    return {
      found,
      values,
      context: found ? 'ctx' : '',
      expiresAtMs: values.map(() => null),
      replies: 2,
      r: 2,
      sloppy: false,
      siblings: values.length,
      strings: () => values.map((v) => new TextDecoder().decode(v)),
      json: () => [],
    };
  }

  async status(): Promise<ClusterStatus> {
    return {
      nodes: NODE_IDS.map((id) => this.nodeStatus(id)),
      ring: { partitionCount: 6, owners: ['n1', 'n2', 'n3', 'n1', 'n2', 'n3'] },
      config: { n: 2, r: 2, w: 2, requestTimeoutMs: 1000, valueSizeMaxBytes: 1024, durable: false },
      network: { delayMs: 5, jitterMs: 1, lossRate: 0.01, groups: this.groups },
    };
  }

  nodeStats(): Promise<NodeCounters[]> {
    if (this.hangStats) return new Promise(() => {});
    return Promise.resolve(
      NODE_IDS.map((id) => ({
        id,
        stats: this.down.has(id) ? null : (this.stats.get(id) ?? workerStats(0)),
      })),
    );
  }

  private nodeStatus(id: string): NodeStatus {
    const stats = this.down.has(id) ? null : (this.stats.get(id) ?? workerStats(0));
    const group = this.groups?.findIndex((members) => members.includes(id)) ?? -1;
    return {
      id,
      state: this.down.has(id) ? 'down' : 'up',
      partitions: 2,
      keys: stats?.keys ?? null,
      hintsPending: stats?.core.hintsPending ?? null,
      partitionGroup: group === -1 ? null : group,
      messagesDropped: stats?.transport.dropped ?? null,
    };
  }

  private throwArmed(): void {
    const error = this.nextError;
    this.nextError = null;
    if (error !== null) throw error;
  }
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function stop(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface SseRead {
  /** Parsed `data:` payloads, in order. */
  readonly events: unknown[];
  /** Comment lines (`: …`), without the colon. */
  readonly comments: string[];
}

/**
 * Reads an open event-stream response until `done` says so or `deadlineMs` passes (then it
 * throws, naming what arrived); cancels the body either way.
 */
export async function readSse(
  response: Response,
  done: (read: SseRead) => boolean,
  deadlineMs: number,
): Promise<SseRead> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const read: { events: unknown[]; comments: string[] } = { events: [], comments: [] };
  let buffer = '';
  const deadline = Date.now() + deadlineMs;
  try {
    while (!done(read)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `event stream: condition not met within ${deadlineMs} ms (${read.events.length} events, ${read.comments.length} comments)`,
        );
      }
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), left)),
      ]);
      if (chunk === null) continue;
      if (chunk.done) throw new Error('event stream ended early');
      buffer += decoder.decode(chunk.value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        parseBlock(buffer.slice(0, end), read);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
    return read;
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function parseBlock(block: string, read: { events: unknown[]; comments: string[] }): void {
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) read.comments.push(line.slice(1).trim());
    else if (line.startsWith('data: ')) read.events.push(JSON.parse(line.slice('data: '.length)));
  }
}
