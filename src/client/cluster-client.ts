/**
 * The embedded client of a local cluster. It validates input, routes each request to a live
 * node of the key's preference list (client-side coordination, the Dynamo paper's faster
 * mode), and waits for the coordinator's answer with a timeout of its own — so a dead or
 * stalled coordinator yields a TimeoutError, never a hang. Membership changes (addNode,
 * removeNode) are driven by membership.ts; routing follows the ring they commit.
 */

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RingkvConfig } from '../config.js';
import {
  type AdminRequest,
  type ClientRequest,
  type ClientResult,
  isTraceId,
  TRACE_ID_LENGTH_MAX,
} from '../core/messages.js';
import type { Ring } from '../core/ring.js';
import { RingkvError, TimeoutError, UnavailableError, ValidationError } from '../errors.js';
import type { Launcher } from '../runtime/launcher.js';
import { CLEAR_NETWORK } from '../runtime/network-state.js';
import { ClusterMembership } from './membership.js';
import { toGetResult, toPutResult } from './results.js';
import { isRetryable, retryDelayMs } from './retry.js';
import type { RingWatchHost } from './ring-watch.js';
import type {
  AddNodeOptions,
  Cluster,
  ClusterStatus,
  DeleteOptions,
  GetOptions,
  GetResult,
  MembershipChangeOptions,
  MembershipChangeResult,
  MessageDelays,
  NetworkOptions,
  NetworkStatus,
  NodeCounters,
  NodeStatus,
  PutOptions,
  PutResult,
  ReplicaView,
  ValueInput,
} from './types.js';
import {
  validateContext,
  validateKey,
  validatePrimaries,
  validateQuorum,
  validateTimeout,
  validateValue,
} from './validate.js';

interface Pending {
  readonly node: string;
  readonly resolve: (result: ClientResult) => void;
  readonly reject: (error: Error) => void;
}

export class ClusterClient implements Cluster {
  private launcher: Launcher | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;
  private closed = false;
  /** Who is in the cluster and which ring requests follow (it changes with addNode/removeNode). */
  private readonly membership: ClusterMembership;

  constructor(
    private readonly config: RingkvConfig,
    ring: Ring,
    nodeIds: readonly string[],
    /** A durable cluster's earlier membership changes (membership-file.ts). */
    history: { readonly removed: readonly string[]; readonly initial: readonly string[] } = {
      removed: [],
      initial: nodeIds,
    },
  ) {
    this.membership = new ClusterMembership(
      ring,
      nodeIds,
      config,
      () => this.watchHost(),
      history.removed,
      history.initial,
    );
  }

  /** At start: route by the newest committed ring the nodes hold (see ClusterMembership.sync). */
  syncMembership(): Promise<void> {
    return this.membership.sync();
  }

  /** The cluster's node ids, running or not, in order of creation. */
  get nodeIds(): readonly string[] {
    return this.membership.nodeIds;
  }

  /** The last committed ring: requests are routed by it. */
  private get ring(): Ring {
    return this.membership.ring;
  }

  /** Binds the launcher once the nodes run (the launcher needs this client's callbacks first). */
  attach(launcher: Launcher): void {
    this.launcher = launcher;
  }

  async put(key: string, value: ValueInput, options: PutOptions = {}): Promise<PutResult> {
    const bytes = validateValue(value, this.config.valueSizeMaxBytes);
    return this.write(key, bytes, options, 'put');
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<PutResult> {
    return this.write(key, null, options, 'delete');
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    const { n } = this.config;
    const r = validateQuorum('r', options.r, this.config.r, n);
    const request: ClientRequest = {
      op: 'get',
      key: validateKey(key, this.config.keySizeMaxBytes),
      r,
      pr: validatePrimaries('pr', options.pr, r),
      timeoutMs: validateTimeout(options.timeoutMs, this.config.requestTimeoutMs),
      trace: traceIdOf(options.traceId),
    };
    const what = `get ${JSON.stringify(key)}`;
    const via = options.coordinator === undefined ? null : this.requireNode(options.coordinator);
    return this.withRetries(options.signal, async () =>
      toGetResult(await this.send(request, options.signal, via), r, what),
    );
  }

  async status(): Promise<ClusterStatus> {
    if (this.launcher !== null && !this.closed) await this.membership.refresh();
    const nodes = await Promise.all(this.nodeIds.map((id) => this.nodeStatus(id)));
    const { n, r, w, requestTimeoutMs, valueSizeMaxBytes, dataDir, partitionCount } = this.config;
    const version = this.membership.version;
    return {
      nodes,
      ring: { partitionCount, owners: [...this.ring.owners], version },
      config: { n, r, w, requestTimeoutMs, valueSizeMaxBytes, durable: dataDir !== null },
      network: this.launcher?.networkView() ?? { ...CLEAR_NETWORK, groups: null },
    };
  }

  async killNode(id: string): Promise<void> {
    await this.requireOpen().kill(this.requireNode(id));
  }

  async restartNode(id: string): Promise<void> {
    await this.requireOpen().restart(this.requireNode(id));
  }

  addNode(options?: AddNodeOptions): Promise<MembershipChangeResult> {
    this.requireOpen();
    return this.membership.addNode(options);
  }

  removeNode(id: string, options?: MembershipChangeOptions): Promise<MembershipChangeResult> {
    this.requireOpen();
    return this.membership.removeNode(id, options);
  }

  /** What the membership changes need of the client: admin requests to a given node. */
  private watchHost(): RingWatchHost {
    return {
      ask: (node: string, request: AdminRequest) => this.send(request, undefined, node),
      requestTimeoutMs: this.config.requestTimeoutMs,
      launcher: this.requireOpen(),
      closed: () => this.closed,
    };
  }

  partition(groups: readonly (readonly string[])[]): Promise<NetworkStatus> {
    return this.requireOpen().partition(groups);
  }

  heal(): Promise<NetworkStatus> {
    return this.requireOpen().heal();
  }

  setNetwork(options: NetworkOptions): Promise<NetworkStatus> {
    return this.requireOpen().setNetwork(options);
  }

  setMessageDelays(delays: MessageDelays | null, seed?: number): Promise<void> {
    return this.requireOpen().setMessageDelays(delays, seed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [reqId, pending] of this.pending) {
      this.pending.delete(reqId);
      pending.reject(new UnavailableError('the cluster was closed before the request finished'));
    }
    await this.launcher?.close();
  }

  /** Called by the launcher with every coordinator answer. */
  onReply(reqId: number, result: ClientResult): void {
    const pending = this.pending.get(reqId);
    if (pending === undefined) return; // timed out or aborted earlier
    this.pending.delete(reqId);
    pending.resolve(result);
  }

  /** Called by the launcher when a node stops: its unanswered requests fail at once. */
  onNodeDown(id: string, reason: string): void {
    for (const [reqId, pending] of this.pending) {
      if (pending.node !== id) continue;
      this.pending.delete(reqId);
      pending.reject(
        new TimeoutError(`coordinator ${id} ${reason} before answering; the outcome is unknown`),
      );
    }
  }

  private async write(
    key: string,
    value: Uint8Array | null,
    options: PutOptions,
    what: 'put' | 'delete',
  ): Promise<PutResult> {
    const w = validateQuorum('w', options.w, this.config.w, this.config.n);
    const request: ClientRequest = {
      op: 'put',
      key: validateKey(key, this.config.keySizeMaxBytes),
      value,
      context: validateContext(options.context),
      w,
      pw: validatePrimaries('pw', options.pw, w),
      timeoutMs: validateTimeout(options.timeoutMs, this.config.requestTimeoutMs),
      // One id for every attempt: a retry of a write that did land creates no second sibling.
      rid: randomUUID(),
      trace: traceIdOf(options.traceId),
    };
    const label = `${what} ${JSON.stringify(key)}`;
    const result = await this.withRetries(options.signal, async () =>
      toPutResult(await this.send(request, options.signal), w, label),
    );
    if (result.siblings <= this.config.siblingsSoftMax) return result;
    const warning =
      `${label}: the key has ${result.siblings} siblings (soft limit ${this.config.siblingsSoftMax}); ` +
      'read it and write back with its context to resolve them';
    return { ...result, warning };
  }

  /**
   * Runs `attempt` up to retryAttemptsMax times while it fails with a retryable error (quorum,
   * timeout, overload), sleeping a jittered, exponentially growing delay in between.
   */
  private async withRetries<T>(
    signal: AbortSignal | undefined,
    attempt: () => Promise<T>,
  ): Promise<T> {
    const policy = {
      attemptsMax: this.config.retryAttemptsMax,
      delayBaseMs: this.config.retryDelayBaseMs,
      delayMaxMs: this.config.retryDelayMaxMs,
    };
    for (let number = 1; ; number++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof RingkvError) || !isRetryable(error) || this.closed) throw error;
        const delayMs = retryDelayMs(policy, number + 1, Math.random());
        if (delayMs === null) throw error;
        await sleep(delayMs, undefined, { signal });
      }
    }
  }

  /**
   * Sends a request to a coordinator (`via`, else the routed one) and waits, bounded by the
   * request timeout plus slack.
   */
  private send(
    request: ClientRequest,
    signal: AbortSignal | undefined,
    via: string | null = null,
  ): Promise<ClientResult> {
    if (this.closed) return Promise.reject(new UnavailableError('the cluster is closed'));
    signal?.throwIfAborted();
    const launcher = this.requireLauncher();
    if (via !== null && !launcher.isUp(via)) {
      return Promise.reject(new UnavailableError(`coordinator ${via} is not running`));
    }
    const node = via ?? this.route('key' in request ? request.key : '');
    const reqId = this.nextReqId++;
    const waitMs = request.timeoutMs + this.config.clientTimeoutSlackMs;
    return new Promise<ClientResult>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(reqId);
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`coordinator ${node} did not answer within ${waitMs} ms`));
      }, waitMs);
      const onAbort = () => {
        done();
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(reqId, {
        node,
        resolve: (result) => {
          done();
          resolve(result);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      launcher.node(node)?.request({ reqId, request });
    });
  }

  /** The first live node of the key's preference list, or any live node when none is up. */
  private route(key: string): string {
    const launcher = this.requireLauncher();
    const prefs = this.ring.preferenceList(key, this.config.n);
    const live =
      prefs.find((id) => launcher.isUp(id)) ?? this.nodeIds.find((id) => launcher.isUp(id));
    if (live === undefined) throw new UnavailableError('no node of the cluster is running');
    return live;
  }

  async nodeStats(): Promise<NodeCounters[]> {
    return Promise.all(
      this.nodeIds.map(async (id) => ({
        id,
        stats: (await this.launcher?.node(id)?.stats()) ?? null,
      })),
    );
  }

  async inspect(key: string): Promise<ReplicaView[]> {
    validateKey(key, this.config.keySizeMaxBytes);
    const primaries: readonly string[] = this.ring.preferenceList(key, this.config.n);
    return Promise.all(
      this.nodeIds.map(async (id) => {
        const node = this.launcher?.node(id);
        const record = node === undefined ? null : await node.inspect(key);
        const versions = record?.siblings.map((s) => ({ dot: s.dot, value: s.value })) ?? null;
        const state = node?.isRunning ? 'up' : 'down';
        return { node: id, primary: primaries.includes(id), state, versions } as const;
      }),
    );
  }

  private async nodeStatus(id: string): Promise<NodeStatus> {
    const partitions = this.ring.partitionsOf(id as never).length;
    const node = this.launcher?.node(id);
    const stats = node === undefined ? null : await node.stats();
    return {
      id,
      state: node?.isRunning ? 'up' : 'down',
      partitions,
      membership: this.membership.membershipOf(id),
      ringVersion: stats?.core.ringVersion ?? null,
      keys: stats?.keys ?? null,
      hintsPending: stats?.core.hintsPending ?? null,
      antiEntropy:
        stats === null || stats === undefined
          ? null
          : {
              exchanges: stats.core.aeExchanges,
              inSync: stats.core.aeExchangesInSync,
              keysRepaired: stats.core.aeKeysRepaired,
            },
      partitionGroup: this.launcher?.partitionGroupOf(id) ?? null,
      messagesDropped: stats?.transport.dropped ?? null,
    };
  }

  private requireLauncher(): Launcher {
    if (this.launcher === null) throw new UnavailableError('the cluster has not started');
    return this.launcher;
  }

  /** The launcher of a cluster that is neither closed nor unstarted. */
  private requireOpen(): Launcher {
    if (this.closed) throw new UnavailableError('the cluster is closed');
    return this.requireLauncher();
  }

  private requireNode(id: string): string {
    if (!this.nodeIds.includes(id)) {
      throw new ValidationError(
        `unknown node ${JSON.stringify(id)}; nodes are ${this.nodeIds.join(', ')}`,
      );
    }
    return id;
  }
}

/** The caller's trace id, checked, or a fresh one; every retry of the request keeps it. */
export function traceIdOf(traceId: unknown): string {
  if (traceId === undefined) return randomUUID();
  if (!isTraceId(traceId)) {
    throw new ValidationError(
      `traceId must be 1..${TRACE_ID_LENGTH_MAX} printable ASCII characters`,
    );
  }
  return traceId;
}
