/**
 * Client requests in flight to worker-thread nodes, by request id: each is settled once, by the
 * node's answer or by the node stopping (`down`), unless the caller cancels it first (the late
 * answer is then dropped). It keeps no clock: deadlines and their cancels are the client's.
 * Together with the launcher's node lookup this is the worker runtime's side of the client's
 * NodeLink (local-cluster.ts assembles it).
 *
 * It also sums the service time of the answered requests: from the send to the moment the node's
 * thread posted the answer, on a clock all threads share (host-clocks.ts). That is the
 * cluster's latency without the wait for the caller's own thread to read the answer — the part
 * of a request's time the front's admission limit can change (server/admission.ts).
 */
import type { NodeKeyView } from '../core/explain.js';
import { IdTable } from '../core/id-table.js';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import type { KeyRecord } from '../core/types.js';
import type { RunningSum } from '../util/running-sum.js';
import type { WorkerStats } from './control.js';
import { processClockMs } from './host-clocks.js';

/** What came of a request: the node's answer, or it stopped first. */
export type RequestOutcome =
  | { readonly kind: 'answer'; readonly result: ClientResult }
  | { readonly kind: 'down'; readonly reason: string };

/** Where a request goes: a running node's request queue (worker-node.ts). */
export interface RequestTarget {
  readonly isRunning: boolean;
  request(reqId: number, request: ClientRequest): void;
}

/** A request handed to a node (the client's LinkCall, by shape). */
export interface PendingCall {
  readonly reply: Promise<RequestOutcome>;
  cancel(): void;
}

/**
 * What a runtime hands the client to send through (the client's NodeLink, by shape): one
 * request to one named node, who is up, and a node's stats, stored record and view of a key.
 */
export interface RuntimeLink {
  isUp(node: string): boolean;
  send(node: string, request: ClientRequest): PendingCall;
  /** Answered requests and their summed service time so far (see the file comment). */
  serviceTime(): RunningSum;
  stats(node: string): Promise<WorkerStats | null>;
  inspect(node: string, key: string): Promise<KeyRecord | null>;
  explain(node: string, key: string): Promise<NodeKeyView | null>;
}

interface Pending {
  readonly node: string;
  /** When it was sent (processClockMs). */
  readonly sentAtMs: number;
  settle(outcome: RequestOutcome): void;
}

/**
 * One request in the table: its reply, settled once, and its cancel. An object with methods
 * rather than closures: one is made for every request.
 */
class Call implements PendingCall, Pending {
  readonly reply: Promise<RequestOutcome>;
  private resolve!: (outcome: RequestOutcome) => void;
  readonly sentAtMs = processClockMs();

  constructor(
    private readonly pending: IdTable<Pending>,
    private readonly reqId: number,
    readonly node: string,
  ) {
    this.reply = new Promise<RequestOutcome>((resolve) => {
      this.resolve = resolve;
    });
    pending.set(reqId, this);
  }

  settle(outcome: RequestOutcome): void {
    this.pending.delete(this.reqId);
    this.resolve(outcome);
  }

  cancel(): void {
    this.pending.delete(this.reqId);
  }
}

export class WorkerRequests {
  /** By request id (an IdTable, not a Map: see core/id-table.ts). */
  private readonly pending = new IdTable<Pending>();
  private nextReqId = 1;
  private served = { count: 0, sumMs: 0 };

  /** Requests still waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Hands `request` to `target` (the node named `node`), or reports it down at once. `cancel`
   * forgets it: the pending entry goes, so the table holds only requests someone waits for.
   */
  send(node: string, target: RequestTarget | undefined, request: ClientRequest): PendingCall {
    if (target === undefined || !target.isRunning) {
      return { reply: Promise.resolve({ kind: 'down', reason: 'was not running' }), cancel() {} };
    }
    const reqId = this.nextReqId++;
    const call = new Call(this.pending, reqId, node);
    target.request(reqId, request);
    return call;
  }

  /** Answered requests and their summed service time so far (see the file comment). */
  serviceTime(): RunningSum {
    return { ...this.served };
  }

  /**
   * A node's answer, posted at `sentAtMs` (processClockMs; a node on this thread answers now);
   * one for a request nobody waits for any more is dropped.
   */
  reply(reqId: number, result: ClientResult, sentAtMs = processClockMs()): void {
    const pending = this.pending.get(reqId);
    if (pending === undefined) return;
    this.served.count++;
    this.served.sumMs += Math.max(0, sentAtMs - pending.sentAtMs);
    pending.settle({ kind: 'answer', result });
  }

  /** A node stopped: every request it had not answered ends now. */
  nodeDown(node: string, reason: string): void {
    for (const pending of this.pending.list()) {
      if (pending.node === node) pending.settle({ kind: 'down', reason });
    }
  }
}
