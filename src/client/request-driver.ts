/**
 * Runs one user request to its end over a NodeLink: picks the coordinator (router.ts), sends an
 * attempt with the time left of the request's one deadline, waits for the answer (bounded, and
 * abortable by the caller or by close), and retries what the router says to retry. The waiting
 * is the only part of the client that is not shared with the simulator (sim/client.ts waits on
 * its event queue instead).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { IdTable } from '../core/id-table.js';
import type { AdminRequest, ClientRequest, ClientResult, DataRequest } from '../core/messages.js';
import type { Ring } from '../core/ring.js';
import { RingkvError, TimeoutError, UnavailableError } from '../errors.js';
import type { LinkCall, LinkReply, NodeLink } from './node-link.js';
import type { RetryPolicy } from './retry.js';
import {
  attemptBudgetMs,
  type Deadline,
  deadlineOf,
  pickCoordinator,
  type RouteView,
  retryAfterMs,
} from './router.js';

export interface DriverOptions {
  /** Replicas per key (routing). */
  readonly n: number;
  /** How long past the deadline the client waits for a coordinator's own timeout answer. */
  readonly slackMs: number;
  readonly retry: RetryPolicy;
  /** The client's ring copy: requests are routed by it. */
  ring(): Ring;
  /** Every node of the cluster, running or not. */
  nodeIds(): readonly string[];
  /** A monotonic clock in ms (a deadline must not move with the wall clock). @default performance.now */
  readonly nowMs?: () => number;
  /** A uniform number in [0, 1) for retry jitter. @default Math.random */
  readonly random01?: () => number;
}

/** One user request: what to send, how long it may take in all, and where. */
export interface RequestPlan<T> {
  readonly request: DataRequest;
  /** The whole request's budget, every retry included (the deadline is made from it). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** A coordinator the caller chose (must be up), else the router picks. */
  readonly via?: string | null;
  /** Turns an answer into the caller's result; throws the RingkvError a failed answer means. */
  readonly decode: (result: ClientResult) => T;
}

export class RequestDriver {
  /** Attempts waiting for an answer, by attempt id: close() ends them all. An IdTable, not a Set: see core/id-table.ts. */
  private readonly waiting = new IdTable<AttemptWait>();
  private nextAttemptId = 0;
  private closedValue = false;
  private readonly nowMs: () => number;
  private readonly random01: () => number;
  /** What routing reads, made once: the ring and node list are read through it per request. */
  private readonly routeView: RouteView;

  constructor(
    private readonly link: NodeLink,
    private readonly options: DriverOptions,
  ) {
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.random01 = options.random01 ?? Math.random;
    this.routeView = {
      get ring() {
        return options.ring();
      },
      n: options.n,
      get nodeIds() {
        return options.nodeIds();
      },
      isUp: (id: string) => link.isUp(id),
    };
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Runs `plan` until it succeeds, fails for good, or its deadline leaves no room to retry. */
  async run<T>(plan: RequestPlan<T>): Promise<T> {
    // The request's one deadline (see deadlineOf): made here, once, before the first attempt.
    const deadline = deadlineOf(this.nowMs(), plan.timeoutMs);
    for (let attempts = 1; ; attempts++) {
      try {
        const node = this.coordinatorOf(plan);
        return plan.decode(await this.attempt(node, plan.request, deadline, plan.signal));
      } catch (error) {
        if (!(error instanceof RingkvError) || this.closedValue) throw error;
        const { retry } = this.options;
        const delayMs = retryAfterMs(retry, error, attempts, this.random01, this.nowMs(), deadline);
        if (delayMs === null) throw error;
        await sleep(delayMs, undefined, { signal: plan.signal });
      }
    }
  }

  /** One admin request to `node`, one attempt, bounded by the request's own timeout. */
  ask(node: string, request: AdminRequest): Promise<ClientResult> {
    const deadline = deadlineOf(this.nowMs(), request.timeoutMs);
    return this.attempt(this.requireUp(node), request, deadline, undefined);
  }

  /** Ends every attempt still waiting with an UnavailableError; no new request starts. */
  close(): void {
    this.closedValue = true;
    const reason = new UnavailableError('the cluster was closed before the request finished');
    for (const wait of this.waiting.list()) wait.stop(reason);
  }

  private coordinatorOf(plan: RequestPlan<unknown>): string {
    if (plan.via != null) return this.requireUp(plan.via);
    const node = pickCoordinator(this.routeView, plan.request.key);
    if (node === null) throw new UnavailableError('no node of the cluster is running');
    return node;
  }

  private requireUp(node: string): string {
    if (!this.link.isUp(node)) throw new UnavailableError(`coordinator ${node} is not running`);
    return node;
  }

  /**
   * Sends `request` to `node` with the time left until `deadline` as the coordinator's
   * budget, and waits at most that plus the slack for its answer. A plain timer and a cancel
   * rather than an AbortController per attempt, and one AttemptWait object rather than a
   * closure per way to end: this runs for every request.
   */
  private attempt(
    node: string,
    request: ClientRequest,
    deadline: Deadline,
    signal: AbortSignal | undefined,
  ): Promise<ClientResult> {
    if (this.closedValue) return Promise.reject(new UnavailableError('the cluster is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const budgetMs = attemptBudgetMs(deadline, this.nowMs());
    if (budgetMs < 1) {
      return Promise.reject(new TimeoutError(`no time left to ask coordinator ${node}`));
    }
    const waitMs = budgetMs + this.options.slackMs;
    const call = this.link.send(node, { ...request, timeoutMs: budgetMs });
    const id = this.nextAttemptId++;
    return new AttemptWait(this.waiting, id, node, call, signal, waitMs).promise;
  }
}

/**
 * One attempt's wait for its answer, ended once: by the answer, by its timer, by the caller's
 * signal (as the signal's listener object) or by the driver's close. Holds no closure of its
 * own beyond the promise's settle functions.
 */
class AttemptWait {
  readonly promise: Promise<ClientResult>;
  private resolve!: (result: ClientResult) => void;
  private reject!: (error: unknown) => void;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly waiting: IdTable<AttemptWait>,
    private readonly id: number,
    private readonly node: string,
    private readonly call: LinkCall,
    private readonly signal: AbortSignal | undefined,
    private readonly waitMs: number,
  ) {
    this.promise = new Promise<ClientResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(timeOut, waitMs, this);
    signal?.addEventListener('abort', this, { once: true });
    waiting.set(id, this);
    call.reply.then(
      (reply) => this.answered(reply),
      (error: unknown) => this.stop(error),
    );
  }

  /** The caller's signal fired (EventTarget calls a listener object's handleEvent). */
  handleEvent(): void {
    this.stop(this.signal?.reason);
  }

  /** Stops waiting with `error`: the link forgets the call, a late answer is dropped. */
  stop(error: unknown): void {
    this.done();
    this.call.cancel();
    this.reject(error);
  }

  /** The timer ran out before the answer came. */
  expire(): void {
    this.stop(new TimeoutError(`coordinator ${this.node} did not answer within ${this.waitMs} ms`));
  }

  private answered(reply: LinkReply): void {
    this.done();
    if (reply.kind === 'answer') return this.resolve(reply.result);
    const why = `coordinator ${this.node} ${reply.reason} before answering; the outcome is unknown`;
    this.reject(new TimeoutError(why));
  }

  private done(): void {
    clearTimeout(this.timer);
    this.waiting.delete(this.id);
    this.signal?.removeEventListener('abort', this);
  }
}

function timeOut(wait: AttemptWait): void {
  wait.expire();
}
