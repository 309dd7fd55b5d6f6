/**
 * A simulated client, one per logical client id. Its decisions are the real client's
 * (src/client/router.ts): the coordinator it picks from the ring and the up/down view the
 * simulator gives it, the request's one deadline and each attempt's share of it, and whether and
 * when a failed attempt is retried (drawing the jitter from the run's Prng). Only the waiting is
 * its own: virtual-time events instead of Promises and timers (src/client/request-driver.ts).
 * An attempt fails at once when its coordinator crashes. Every put and delete carries a request
 * id (`rid`), the same on every retry.
 */

import { toError } from '../client/results.js';
import type { RetryPolicy } from '../client/retry.js';
import {
  attemptBudgetMs,
  type Deadline,
  deadlineOf,
  pickCoordinator,
  type RouteView,
  retryAfterMs,
} from '../client/router.js';
import { assert } from '../core/assert.js';
import type { DataRequest as ClientRequest, ClientResult } from '../core/messages.js';
import type { KeyRecord, NodeId, VersionVector } from '../core/types.js';
import { type RingkvError, TimeoutError } from '../errors.js';
import type { Prng } from '../util/prng.js';
import type { History, HistoryOp } from './history.js';

export interface ClientEnv {
  readonly prng: Prng;
  readonly history: History;
  readonly retry: RetryPolicy;
  readonly requestTimeoutMs: number;
  readonly clientTimeoutSlackMs: number;
  nowMs(): number;
  at(timeMs: number, action: () => void): void;
  /** The ring the client routes by and which nodes run (the simulator knows who crashed). */
  routeView(): RouteView;
  /** Hands a request to a node; its reply comes back through `onReply` with the same reqId. */
  request(client: SimClient, node: NodeId, request: ClientRequest): number;
  /** The client stopped waiting for this reqId (timed out); a late reply is dropped. */
  forget(reqId: number): void;
}

export interface WriteOptions {
  readonly context?: VersionVector;
  readonly w?: number;
  /** A put's TTL: the coordinator sets the deadline by its own wall clock. */
  readonly ttlMs?: number;
}

export interface GetOptions {
  readonly r?: number;
  /** Replies that must come from primary replicas rather than stand-ins. */
  readonly pr?: number;
}

/** A client operation in progress or finished. */
export interface OpHandle {
  readonly op: HistoryOp;
  readonly request: ClientRequest;
  /** Bounds every attempt and retry of the op (router.ts deadlineOf). */
  readonly deadline: Deadline;
  /** The last answer (a successful one when `op.outcome === 'ok'`). */
  result: ClientResult | null;
  /** Some attempt ended without knowing whether it applied. */
  unknown: boolean;
  readonly onDone: Array<(handle: OpHandle) => void>;
}

interface Attempt {
  readonly handle: OpHandle;
  readonly node: NodeId;
}

export class SimClient {
  /**
   * A coordinator this client talks to whenever it runs, instead of the first live replica —
   * for scenarios that need writes coordinated on both sides of a partition.
   */
  preferNode: NodeId | null = null;

  private readonly attempts = new Map<number, Attempt>();
  /** Ops not yet finished. */
  inFlight = 0;

  constructor(
    readonly name: string,
    private readonly env: ClientEnv,
    private readonly defaults: { readonly r: number; readonly w: number },
  ) {}

  put(key: string, options: WriteOptions = {}): OpHandle {
    return this.write('put', key, options);
  }

  delete(key: string, options: WriteOptions = {}): OpHandle {
    return this.write('delete', key, options);
  }

  get(key: string, options: GetOptions = {}): OpHandle {
    const op = this.env.history.invoke({
      client: this.name,
      kind: 'get',
      key,
      rid: null,
      context: null,
      invokeMs: this.env.nowMs(),
    });
    const r = options.r ?? this.defaults.r;
    const timeoutMs = this.env.requestTimeoutMs;
    const pr = options.pr === undefined ? {} : { pr: options.pr };
    return this.begin(op, { op: 'get', key, r, ...pr, timeoutMs });
  }

  /** A reply from a coordinator. */
  onReply(reqId: number, result: ClientResult): void {
    const attempt = this.attempts.get(reqId);
    if (attempt === undefined) return; // timed out earlier
    this.attempts.delete(reqId);
    attempt.handle.result = result;
    if (result.ok) return this.finish(attempt.handle, 'ok');
    this.failAttempt(
      attempt.handle,
      toError(result, `${attempt.handle.op.kind} #${attempt.handle.op.id}`),
    );
  }

  /** A node crashed: every attempt it coordinates ends now with an unknown outcome. */
  onNodeDown(node: NodeId): void {
    for (const [reqId, attempt] of [...this.attempts]) {
      if (attempt.node !== node) continue;
      this.attempts.delete(reqId);
      this.env.forget(reqId);
      this.failAttempt(attempt.handle, new TimeoutError(`coordinator ${node} crashed`));
    }
  }

  private write(kind: 'put' | 'delete', key: string, options: WriteOptions): OpHandle {
    const context = options.context ?? [];
    const rid = `${this.name}.${this.env.history.nextOpId}.${this.env.prng.hex(6)}`;
    const op = this.env.history.invoke({
      client: this.name,
      kind,
      key,
      rid,
      context,
      invokeMs: this.env.nowMs(),
      ttlMs: options.ttlMs ?? null,
    });
    const value = kind === 'put' ? new TextEncoder().encode(op.value!) : null;
    const w = options.w ?? this.defaults.w;
    const timeoutMs = this.env.requestTimeoutMs;
    const ttl = options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs };
    return this.begin(op, { op: 'put', key, value, context, w, timeoutMs, rid, ...ttl });
  }

  private begin(op: HistoryOp, request: ClientRequest): OpHandle {
    // The op's one deadline, made when it is invoked; the first attempt runs at this same time.
    const deadline = deadlineOf(this.env.nowMs(), request.timeoutMs);
    const handle: OpHandle = { op, request, deadline, result: null, unknown: false, onDone: [] };
    this.inFlight++;
    // The first attempt runs as its own event, so callers can add onDone callbacks first.
    this.env.at(this.env.nowMs(), () => this.attempt(handle));
    return handle;
  }

  private attempt(handle: OpHandle): void {
    handle.op.attempts++;
    const node = pickCoordinator(this.env.routeView(), handle.request.key, this.preferNode);
    if (node === null) {
      handle.op.error = 'unavailable';
      return this.finish(handle, handle.unknown ? 'unknown' : 'fail');
    }
    // The coordinator gets the time left of the op's deadline (retryAfterMs left at least 1 ms).
    const budgetMs = attemptBudgetMs(handle.deadline, this.env.nowMs());
    assert(budgetMs >= 1, 'an attempt starts before its deadline');
    const request = { ...handle.request, timeoutMs: budgetMs };
    const reqId = this.env.request(this, node, request);
    this.attempts.set(reqId, { handle, node });
    const waitMs = budgetMs + this.env.clientTimeoutSlackMs;
    this.env.at(this.env.nowMs() + waitMs, () => {
      if (!this.attempts.delete(reqId)) return;
      this.env.forget(reqId);
      this.failAttempt(
        handle,
        new TimeoutError(`coordinator ${node} did not answer in ${waitMs} ms`),
      );
    });
  }

  private failAttempt(handle: OpHandle, error: RingkvError): void {
    handle.op.error = error.code;
    if (error.code === 'TIMEOUT') handle.unknown = true;
    const delayMs = retryAfterMs(
      this.env.retry,
      error,
      handle.op.attempts,
      () => this.env.prng.next01(),
      this.env.nowMs(),
      handle.deadline,
    );
    if (delayMs !== null) {
      this.env.at(this.env.nowMs() + delayMs, () => this.attempt(handle));
      return;
    }
    this.finish(handle, handle.unknown ? 'unknown' : 'fail');
  }

  private finish(handle: OpHandle, outcome: 'ok' | 'fail' | 'unknown'): void {
    assert(this.inFlight > 0, 'a finishing op was in flight');
    this.inFlight--;
    const result = handle.result;
    const read: KeyRecord | null | undefined =
      result?.ok && result.op === 'get' ? result.record : undefined;
    this.env.history.complete(handle.op, outcome, this.env.nowMs(), read);
    for (const callback of handle.onDone) callback(handle);
  }
}
