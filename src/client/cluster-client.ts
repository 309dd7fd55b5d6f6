/**
 * A local cluster as its users see it (the `Cluster` startCluster returns): the data path — input
 * validation, then a RequestDriver that routes each request on the client's ring copy, retries
 * and keeps its deadline — over a NodeLink, and the cluster's control (kill, restart, network
 * faults, node processes) passed in as a ClusterControl. Both come from the runtime, built before
 * this object, so nothing is wired after construction. Membership changes (addNode, removeNode)
 * are driven by membership.ts; routing follows the ring they commit.
 */

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  EXPLAIN_TIMEOUT_MS,
  type LogLevel,
  type RingkvConfig,
  type StorageEngineName,
} from '../config.js';
import type { NodeKeyView } from '../core/explain.js';
import {
  type ClientResult,
  type DataRequest,
  isTraceId,
  TRACE_ID_LENGTH_MAX,
} from '../core/messages.js';
import type { Ring } from '../core/ring.js';
import { UnavailableError, ValidationError } from '../errors.js';
import { engineHeldIn } from '../storage/index.js';
import { valueWithin } from '../util/deadline.js';
import type { RunningSum } from '../util/running-sum.js';
import type { ClusterControl } from './cluster-control.js';
import { explainFrom, type KeyExplanation } from './key-explain.js';
import { ClusterMembership } from './membership.js';
import type { NodeLink } from './node-link.js';
import { RequestDriver } from './request-driver.js';
import { toGetResult, toPutResult } from './results.js';
import type {
  AddNodeOptions,
  Cluster,
  ClusterStatus,
  DeleteOptions,
  GetOptions,
  GetResult,
  LaneStats,
  MembershipChangeResult,
  MessageDelays,
  NetworkOptions,
  NetworkStatus,
  NodeCounters,
  NodeStatus,
  PutOptions,
  PutResult,
  RemoveNodeOptions,
  ReplicaView,
  ValueInput,
} from './types.js';
import {
  validateContext,
  validateExpiry,
  validateKey,
  validatePrimaries,
  validateQuorum,
  validateTimeout,
  validateValue,
} from './validate.js';

/** The cluster a client starts over: its ring, nodes, and earlier membership changes. */
export interface ClusterShape {
  /** The ring the cluster was first created with. */
  readonly ring: Ring;
  /** The cluster's nodes now, in order of creation. */
  readonly nodeIds: readonly string[];
  /** Ids that left earlier (a durable cluster's membership file). @default none */
  readonly removed?: readonly string[];
  /** The ids the first ring was created from. @default nodeIds */
  readonly initial?: readonly string[];
}

export class ClusterClient implements Cluster {
  private readonly driver: RequestDriver;
  /** Who is in the cluster and which ring requests follow (it changes with addNode/removeNode). */
  private readonly membership: ClusterMembership;
  /** Engines found in node directories (see enginesUnder). */
  private readonly enginesHeld = new Map<string, StorageEngineName>();

  constructor(
    private readonly config: RingkvConfig,
    shape: ClusterShape,
    private readonly link: NodeLink,
    private readonly control: ClusterControl,
  ) {
    this.driver = new RequestDriver(link, {
      n: config.n,
      slackMs: config.clientTimeoutSlackMs,
      retry: {
        attemptsMax: config.retryAttemptsMax,
        delayBaseMs: config.retryDelayBaseMs,
        delayMaxMs: config.retryDelayMaxMs,
      },
      ring: () => this.membership.ring,
      nodeIds: () => this.membership.nodeIds,
    });
    const host = {
      ask: this.driver.ask.bind(this.driver),
      requestTimeoutMs: config.requestTimeoutMs,
      link,
      closed: () => this.driver.closed,
    };
    this.membership = new ClusterMembership(
      shape.ring,
      shape.nodeIds,
      config,
      host,
      control,
      shape.removed ?? [],
      shape.initial ?? shape.nodeIds,
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

  async put(key: string, value: ValueInput, options: PutOptions = {}): Promise<PutResult> {
    const bytes = validateValue(value, this.config.valueSizeMaxBytes);
    return this.write(key, bytes, options, 'put');
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<PutResult> {
    return this.write(key, null, options, 'delete');
  }

  // Not async: a rejection for bad input, else the driver's own promise (no extra hop).
  get(key: string, options: GetOptions = {}): Promise<GetResult> {
    try {
      return this.runGet(key, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private runGet(key: string, options: GetOptions): Promise<GetResult> {
    const { n } = this.config;
    const r = validateQuorum('r', options.r, this.config.r, n);
    const timeoutMs = validateTimeout(options.timeoutMs, this.config.requestTimeoutMs);
    const request: DataRequest = {
      op: 'get',
      key: validateKey(key, this.config.keySizeMaxBytes),
      r,
      pr: validatePrimaries('pr', options.pr, r),
      timeoutMs,
      trace: requestTraceOf(options.traceId, this.config.logLevel),
    };
    const what = `get ${JSON.stringify(key)}`;
    const via = options.coordinator === undefined ? null : this.requireNode(options.coordinator);
    return this.driver.run({
      request,
      timeoutMs,
      signal: options.signal,
      via,
      // bound, not a named arrow: under tsx each named arrow also defines its name per request
      decode: decodeGet.bind(null, r, what),
    });
  }

  /**
   * The engines the nodes' directories hold; a directory with data keeps its own engine. A
   * directory's engine never changes once it holds data, so each is read from disk until it
   * does and remembered after: status() is polled (the dashboard, /status), and this used to
   * list every node's directory on every call.
   */
  private enginesUnder(dataDir: string): string {
    const held = this.nodeIds.map((id) => {
      let engine = this.enginesHeld.get(id);
      if (engine === undefined) {
        const found = engineHeldIn(path.join(dataDir, id));
        if (found !== null) this.enginesHeld.set(id, found);
        engine = found ?? this.config.storageEngine;
      }
      return engine;
    });
    return [...new Set(held)].sort().join(' and ');
  }

  async status(): Promise<ClusterStatus> {
    if (!this.driver.closed) await this.membership.refresh();
    const nodes = await Promise.all(this.nodeIds.map((id) => this.nodeStatus(id)));
    const { n, r, w, requestTimeoutMs, valueSizeMaxBytes, dataDir, partitionCount } = this.config;
    const { readSpeculateMs } = this.config;
    const version = this.membership.version;
    const durable = dataDir !== null;
    const engine = dataDir === null ? undefined : this.enginesUnder(dataDir);
    return {
      nodes,
      ring: { partitionCount, owners: [...this.ring.owners], version },
      config: {
        n,
        r,
        w,
        requestTimeoutMs,
        valueSizeMaxBytes,
        durable,
        ...(engine === undefined ? {} : { engine }),
        readSpeculateMs,
      },
      network: this.control.network(),
    };
  }

  // async: bad input rejects the promise rather than throwing at the call.
  async killNode(id: string): Promise<boolean> {
    return this.requireOpen().kill(this.requireNode(id));
  }

  async restartNode(id: string): Promise<boolean> {
    return this.requireOpen().restart(this.requireNode(id));
  }

  addNode(options?: AddNodeOptions): Promise<MembershipChangeResult> {
    this.requireOpen();
    return this.membership.addNode(options);
  }

  removeNode(id: string, options?: RemoveNodeOptions): Promise<MembershipChangeResult> {
    this.requireOpen();
    return this.membership.removeNode(id, options);
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
    if (this.driver.closed) return;
    this.driver.close();
    await this.control.close();
  }

  private async write(
    key: string,
    value: Uint8Array | null,
    options: PutOptions,
    what: 'put' | 'delete',
  ): Promise<PutResult> {
    const w = validateQuorum('w', options.w, this.config.w, this.config.n);
    const timeoutMs = validateTimeout(options.timeoutMs, this.config.requestTimeoutMs);
    const request: DataRequest = {
      op: 'put',
      key: validateKey(key, this.config.keySizeMaxBytes),
      value,
      context: validateContext(options.context),
      w,
      pw: validatePrimaries('pw', options.pw, w),
      ...writeExpiry(options, value),
      timeoutMs,
      // One id for every attempt: a retry of a write that did land creates no second sibling.
      rid: requestIdOf(options.requestId),
      trace: requestTraceOf(options.traceId, this.config.logLevel),
      ...supersedeOf(options.supersede),
    };
    const label = `${what} ${JSON.stringify(key)}`;
    const result = await this.driver.run({
      request,
      timeoutMs,
      signal: options.signal,
      decode: decodePut.bind(null, w, label),
    });
    if (result.siblings <= this.config.siblingsSoftMax) return result;
    const warning =
      `${label}: the key has ${result.siblings} siblings (soft limit ${this.config.siblingsSoftMax}); ` +
      'read it and write back with its context to resolve them';
    return { ...result, warning };
  }

  laneStats(): LaneStats[] | null {
    return this.link.laneStats?.() ?? null;
  }

  serviceTime(): RunningSum | null {
    return this.link.serviceTime?.() ?? null;
  }

  async nodeStats(): Promise<NodeCounters[]> {
    return Promise.all(this.nodeIds.map(async (id) => ({ id, stats: await this.link.stats(id) })));
  }

  async inspect(key: string): Promise<ReplicaView[]> {
    validateKey(key, this.config.keySizeMaxBytes);
    const primaries: readonly string[] = this.ring.preferenceList(key, this.config.n);
    return Promise.all(
      this.nodeIds.map(async (id) => {
        const record = await this.link.inspect(id, key);
        const versions =
          record?.siblings.map((s) => ({
            dot: s.dot,
            value: s.value,
            ...(s.expiresAtMs === undefined ? {} : { expiresAtMs: s.expiresAtMs }),
          })) ?? null;
        const state = this.link.isUp(id) ? 'up' : 'down';
        return { node: id, primary: primaries.includes(id), state, versions } as const;
      }),
    );
  }

  /**
   * Every node's view of `key` and a verdict (key-explain.ts). Bounded: one key, one query per
   * node, all within EXPLAIN_TIMEOUT_MS; a node that does not answer in time shows as silent.
   */
  async explain(key: string, timeoutMs = EXPLAIN_TIMEOUT_MS): Promise<KeyExplanation> {
    validateKey(key, this.config.keySizeMaxBytes);
    const { ring } = this.membership;
    const { n } = this.config;
    const partition = ring.partitionOf(key);
    const views = await Promise.all(
      this.nodeIds.map(async (id) => {
        if (!this.link.isUp(id)) return [id, 'down'] as const;
        const view = await valueWithin(this.link.explain(id, key), timeoutMs);
        return [id, view ?? 'silent'] as const;
      }),
    );
    return explainFrom({
      key,
      partition,
      n,
      preferenceList: ring.preferenceList(key, n),
      walk: ring.preferenceListForPartition(partition, ring.nodes().length),
      views: new Map<string, NodeKeyView | 'down' | 'silent'>(views),
    });
  }

  private async nodeStatus(id: string): Promise<NodeStatus> {
    const partitions = this.ring.partitionsOf(id as never).length;
    const stats = await this.link.stats(id);
    return {
      id,
      state: this.link.isUp(id) ? 'up' : 'down',
      partitions,
      membership: this.membership.membershipOf(id),
      ringVersion: stats?.core.ringVersion ?? null,
      keys: stats?.keys ?? null,
      hintsPending: stats?.core.hintsPending ?? null,
      antiEntropy:
        stats === null
          ? null
          : {
              exchanges: stats.core.aeExchanges,
              inSync: stats.core.aeExchangesInSync,
              keysRepaired: stats.core.aeKeysRepaired,
            },
      partitionGroup: this.control.partitionGroupOf(id),
      messagesDropped: stats?.transport.dropped ?? null,
      ...(this.link.endpoint === undefined ? {} : { process: this.link.endpoint(id) }),
    };
  }

  /** The control of a cluster that is not closed. */
  private requireOpen(): ClusterControl {
    if (this.driver.closed) throw new UnavailableError('the cluster is closed');
    return this.control;
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

/** PutOptions.supersede, checked, as the request field. */
export function supersedeOf(supersede: unknown): { supersede?: 'local' } {
  if (supersede === undefined) return {};
  if (supersede !== 'local') throw new ValidationError("supersede must be 'local' or left out");
  return { supersede };
}

/** The caller's request id (PutOptions.requestId), checked, or a fresh one. */
export function requestIdOf(requestId: unknown): string {
  return checkedIdOf('requestId', requestId) ?? randomUUID();
}

/** The caller's trace id, checked; undefined when none was given (no id is made up here). */
export function checkedTraceId(traceId: unknown): string | undefined {
  return checkedIdOf('traceId', traceId);
}

/**
 * The trace id a data request carries: the caller's, checked; else a fresh one only when the
 * nodes log requests (level debug or trace), since nothing but their debug lines reads it. An
 * untraced request carries none: a UUID per request cost the front ~1 % and every replica
 * message 36 more characters to clone. Every retry of the request keeps it.
 */
export function requestTraceOf(traceId: unknown, logLevel: LogLevel): string | undefined {
  const given = checkedTraceId(traceId);
  if (given !== undefined) return given;
  return logLevel === 'debug' || logLevel === 'trace' ? randomUUID() : undefined;
}

/** An id option (a trace or request id): 1..TRACE_ID_LENGTH_MAX printable ASCII, if given. */
function checkedIdOf(name: string, id: unknown): string | undefined {
  if (id === undefined) return undefined;
  if (!isTraceId(id)) {
    throw new ValidationError(
      `${name} must be 1..${TRACE_ID_LENGTH_MAX} printable ASCII characters`,
    );
  }
  return id;
}

/** A put's expiry fields; a delete with one is refused (a tombstone does not expire). */
function writeExpiry(options: PutOptions, value: Uint8Array | null) {
  const expiry = validateExpiry(options);
  if (value === null && Object.keys(expiry).length > 0) {
    throw new ValidationError('a delete cannot carry ttlMs or expiresAtMs');
  }
  return expiry;
}

/** toGetResult with the answer last, to bind per request. */
function decodeGet(r: number, what: string, answer: ClientResult): GetResult {
  return toGetResult(answer, r, what);
}

/** toPutResult with the answer last, to bind per request. */
function decodePut(w: number, what: string, answer: ClientResult): PutResult {
  return toPutResult(answer, w, what);
}
