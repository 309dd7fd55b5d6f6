/**
 * Client requests in flight to worker-thread nodes, by request id: each is settled once, by the
 * node's answer, by the node stopping (`down`), or by the caller's abort signal (rejected with
 * its reason, and the late answer dropped). It keeps no clock: deadlines are the client's.
 * Together with the launcher's node lookup this is the worker runtime's side of the client's
 * NodeLink (local-cluster.ts assembles it).
 */
import type { ClientRequest, ClientResult } from '../core/messages.js';
import type { RequestEnvelope } from './control.js';

/** What came of a request: the node's answer, or it stopped first. */
export type RequestOutcome =
  | { readonly kind: 'answer'; readonly result: ClientResult }
  | { readonly kind: 'down'; readonly reason: string };

/** Where a request goes: a running node's request queue (worker-node.ts). */
export interface RequestTarget {
  readonly isRunning: boolean;
  request(envelope: RequestEnvelope): void;
}

interface Pending {
  readonly node: string;
  readonly settle: (outcome: RequestOutcome) => void;
}

export class WorkerRequests {
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;

  /** Requests still waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /** Hands `request` to `target` (the node named `node`), or reports it down at once. */
  send(
    node: string,
    target: RequestTarget | undefined,
    request: ClientRequest,
    signal: AbortSignal,
  ): Promise<RequestOutcome> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (target === undefined || !target.isRunning) {
      return Promise.resolve({ kind: 'down', reason: 'was not running' });
    }
    const reqId = this.nextReqId++;
    return new Promise<RequestOutcome>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(reqId);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (outcome: RequestOutcome) => {
        signal.removeEventListener('abort', onAbort);
        this.pending.delete(reqId);
        resolve(outcome);
      };
      this.pending.set(reqId, { node, settle });
      target.request({ reqId, request });
    });
  }

  /** A node's answer; one for a request nobody waits for any more is dropped. */
  reply(reqId: number, result: ClientResult): void {
    this.pending.get(reqId)?.settle({ kind: 'answer', result });
  }

  /** A node stopped: every request it had not answered ends now. */
  nodeDown(node: string, reason: string): void {
    for (const pending of [...this.pending.values()]) {
      if (pending.node === node) pending.settle({ kind: 'down', reason });
    }
  }
}
