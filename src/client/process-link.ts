/**
 * The NodeLink of a cluster whose nodes are OS processes (`ringkv up --processes`). Client
 * requests to a node travel on that node's request lane (process-lane.ts): one long-lived,
 * token-authenticated connection per node, opened on the first request and again after it
 * closes, carrying batches of the core's ClientRequests and ClientResults as msgpack frames. The
 * node's counters, records, key explanations and network faults stay single HTTP POSTs to its
 * other control routes (server/node-control.ts) over a keep-alive pool. Routing, retries and
 * deadlines stay in the client above, as for worker threads; the node process answers exactly as
 * its worker would have. Which nodes run and where they listen comes from the runtime
 * (runtime/process-cluster.ts) through a NodeDirectory, so client/ does not import runtime/.
 */
import http from 'node:http';
import {
  PROCESS_CONTROL_TIMEOUT_MS,
  PROCESS_LANE_CONNECT_TIMEOUT_MS,
  PROCESS_LANE_FRAME_BYTES_MAX,
  PROCESS_LANE_PENDING_MAX,
  REMOTE_SOCKET_IDLE_MS,
  REMOTE_SOCKETS_PER_NODE_MAX,
} from '../config.js';
import type { NodeKeyView } from '../core/explain.js';
import type { ClientRequest } from '../core/messages.js';
import type { KeyRecord } from '../core/types.js';
import { RingkvError } from '../errors.js';
import { decodeValue, encodeValue } from '../transport/codec.js';
import { exchange } from './http-exchange.js';
import { LaneCounters, type LaneStats } from './lane-counters.js';
import type { LinkCall, NodeCountersSnapshot, NodeEndpoint, NodeLink } from './node-link.js';
import { type LaneOptions, ProcessLane } from './process-lane.js';

/** Which nodes run and where: what the process runtime tells the link. */
export interface NodeDirectory {
  isUp(node: string): boolean;
  /** The node's own HTTP URL and pid while it runs, else null. */
  endpoint(node: string): NodeEndpoint | null;
}

export type ControlRoute = 'request' | 'stats' | 'inspect' | 'explain' | 'faults';

/** The lane bounds that are not per node. */
type LaneBounds = Omit<LaneOptions, 'base' | 'token'>;

const LANE_BOUNDS: LaneBounds = {
  connectTimeoutMs: PROCESS_LANE_CONNECT_TIMEOUT_MS,
  pendingMax: PROCESS_LANE_PENDING_MAX,
  frameBytesMax: PROCESS_LANE_FRAME_BYTES_MAX,
};

/**
 * Calls a node process's control routes with the token its supervisor gave it, and keeps one
 * request lane per node URL for its client requests, with each node's lane counters.
 */
export class ControlCaller {
  private readonly lanes = new Map<string, ProcessLane>();
  /** Per node name, across its lanes (and its URLs, when it restarts elsewhere). */
  private readonly counters = new Map<string, LaneCounters>();
  private closed = false;
  private readonly agent = new http.Agent({
    keepAlive: true,
    maxSockets: REMOTE_SOCKETS_PER_NODE_MAX,
    timeout: REMOTE_SOCKET_IDLE_MS,
  });
  private readonly headers: Readonly<Record<string, string>>;

  constructor(
    private readonly token: string,
    private readonly laneBounds: LaneBounds = LANE_BOUNDS,
  ) {
    this.headers = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/msgpack',
      'x-ringkv-request': '1',
    };
  }

  /** POSTs `body` to `base`/control/`route`; rejects on a transport error or a non-200 reply. */
  async call(
    base: string,
    route: ControlRoute,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const answer = await exchange({
      base,
      method: 'POST',
      path: `/control/${route}`,
      headers: this.headers,
      body: encodeValue(body),
      timeoutMs,
      signal,
      agent: this.agent,
    });
    if (answer.status !== 200) {
      const text = answer.body.toString('utf8').slice(0, 500);
      throw new RingkvError(`${base}/control/${route} answered ${answer.status}: ${text}`);
    }
    try {
      return decodeValue(answer.body);
    } catch {
      throw new RingkvError(`${base}/control/${route} answered bytes that are not msgpack`);
    }
  }

  /**
   * Hands `request` to the node at `base` on its lane, opening one when there is none; the
   * lane counts under `node` (the node's name, or its URL when the caller knows no name).
   */
  send(base: string, request: ClientRequest, node: string = base): LinkCall {
    if (this.closed) {
      return {
        reply: Promise.resolve({ kind: 'down', reason: 'is not reachable (the link is closed)' }),
        cancel() {},
      };
    }
    let lane = this.lanes.get(base);
    if (lane === undefined || lane.closed) {
      lane = new ProcessLane(
        { ...this.laneBounds, base, token: this.token },
        (gone) => {
          if (this.lanes.get(base) === gone) this.lanes.delete(base);
        },
        this.countersOf(node),
      );
      this.lanes.set(base, lane);
    }
    return lane.send(request);
  }

  /** Each node's lane counters so far, in the order the nodes were first sent a request. */
  laneStats(): LaneStats[] {
    return [...this.counters.values()].map((counters) => counters.snapshot());
  }

  private countersOf(node: string): LaneCounters {
    let counters = this.counters.get(node);
    if (counters === undefined) {
      counters = new LaneCounters(node);
      this.counters.set(node, counters);
    }
    return counters;
  }

  /** Closes the pool and every lane; calls still waiting settle `down`. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
    for (const lane of [...this.lanes.values()]) lane.close('is not reachable (the link closed)');
    this.lanes.clear();
  }
}

export class ProcessLink implements NodeLink {
  constructor(
    private readonly directory: NodeDirectory,
    private readonly caller: ControlCaller,
  ) {}

  isUp(node: string): boolean {
    return this.directory.isUp(node);
  }

  endpoint(node: string): NodeEndpoint | null {
    return this.directory.endpoint(node);
  }

  send(node: string, request: ClientRequest): LinkCall {
    const at = this.directory.endpoint(node);
    if (at === null || !this.directory.isUp(node)) {
      return { reply: Promise.resolve({ kind: 'down', reason: 'is not running' }), cancel() {} };
    }
    return this.caller.send(at.url, request, node);
  }

  /** Each node's request-lane counters (for /metrics). */
  laneStats(): LaneStats[] {
    return this.caller.laneStats();
  }

  async stats(node: string): Promise<NodeCountersSnapshot | null> {
    return (await this.query(node, 'stats', {})) as NodeCountersSnapshot | null;
  }

  async inspect(node: string, key: string): Promise<KeyRecord | null> {
    return (await this.query(node, 'inspect', { key })) as KeyRecord | null;
  }

  async explain(node: string, key: string): Promise<NodeKeyView | null> {
    return (await this.query(node, 'explain', { key })) as NodeKeyView | null;
  }

  private async query(node: string, route: ControlRoute, body: unknown): Promise<unknown> {
    const at = this.directory.endpoint(node);
    if (at === null || !this.directory.isUp(node)) return null;
    try {
      return await this.caller.call(at.url, route, body, PROCESS_CONTROL_TIMEOUT_MS);
    } catch {
      return null; // down or slow: the caller shows the node without counters
    }
  }
}
