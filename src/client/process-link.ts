/**
 * The NodeLink of a cluster whose nodes are OS processes (`ringkv up --processes`): one request
 * to one named node is one HTTP POST to that node's `/control/request` route (server/
 * node-control.ts) over a keep-alive pool, carrying the core's ClientRequest as msgpack and
 * bringing back its ClientResult. Routing, retries and deadlines stay in the client above, as
 * for worker threads; the node process answers exactly as its worker would have. Which nodes run
 * and where they listen comes from the runtime (runtime/process-cluster.ts) through a
 * NodeDirectory, so client/ does not import runtime/.
 */
import http from 'node:http';
import {
  PROCESS_CONTROL_TIMEOUT_MS,
  PROCESS_LINK_ALLOWANCE_MS,
  REMOTE_SOCKET_IDLE_MS,
  REMOTE_SOCKETS_PER_NODE_MAX,
} from '../config.js';
import type { NodeKeyView } from '../core/explain.js';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import type { KeyRecord } from '../core/types.js';
import { RingkvError } from '../errors.js';
import { decodeValue, encodeValue } from '../transport/codec.js';
import { exchange, LinkError } from './http-exchange.js';
import type {
  LinkCall,
  LinkReply,
  NodeCountersSnapshot,
  NodeEndpoint,
  NodeLink,
} from './node-link.js';

/** Which nodes run and where: what the process runtime tells the link. */
export interface NodeDirectory {
  isUp(node: string): boolean;
  /** The node's own HTTP URL and pid while it runs, else null. */
  endpoint(node: string): NodeEndpoint | null;
}

export type ControlRoute = 'request' | 'stats' | 'inspect' | 'explain' | 'faults';

/** Calls a node process's control routes with the token its supervisor gave it. */
export class ControlCaller {
  private readonly agent = new http.Agent({
    keepAlive: true,
    maxSockets: REMOTE_SOCKETS_PER_NODE_MAX,
    timeout: REMOTE_SOCKET_IDLE_MS,
  });
  private readonly headers: Readonly<Record<string, string>>;

  constructor(token: string) {
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

  close(): void {
    this.agent.destroy();
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
    const controller = new AbortController();
    let cancelled = false;
    const timeoutMs = request.timeoutMs + PROCESS_LINK_ALLOWANCE_MS;
    const reply = new Promise<LinkReply>((resolve) => {
      this.caller.call(at.url, 'request', request, timeoutMs, controller.signal).then(
        (answer) => {
          if (!cancelled) resolve(toLinkReply(answer));
        },
        (error: unknown) => {
          if (!cancelled) resolve({ kind: 'down', reason: downReason(error) });
        },
      );
    });
    return {
      reply,
      cancel: () => {
        cancelled = true;
        controller.abort(new RingkvError('cancelled'));
      },
    };
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

/** The node's answer, checked for shape; anything else reads as a node that failed. */
function toLinkReply(answer: unknown): LinkReply {
  const x = answer as { kind?: unknown; result?: unknown; reason?: unknown } | null;
  if (x?.kind === 'answer' && typeof x.result === 'object' && x.result !== null) {
    return { kind: 'answer', result: x.result as ClientResult };
  }
  if (x?.kind === 'down' && typeof x.reason === 'string') return { kind: 'down', reason: x.reason };
  return { kind: 'down', reason: 'answered something that is not a reply' };
}

function downReason(error: unknown): string {
  if (error instanceof LinkError) {
    return error.sent
      ? `stopped before answering (${error.message})`
      : `is not reachable (${error.message})`;
  }
  return error instanceof Error ? error.message : String(error);
}
