/**
 * `connect()`: the same KvClient as `startCluster()` returns, talking to running ringkv nodes
 * over their HTTP API (server/http.ts) instead of hosting them.
 *
 * - Transport: node:http / node:https with one keep-alive Agent per scheme, at most
 *   REMOTE_SOCKETS_PER_NODE_MAX sockets per node (more requests queue in the Agent). Not undici:
 *   no new dependency, and Node 20's global fetch cannot bound its pool per node nor set a
 *   socket idle timeout per request the way an Agent and `request({ timeout })` do.
 * - Spreading and failover: requests go round robin over the nodes; a node whose connection
 *   fails sits out REMOTE_NODE_COOLDOWN_MS. A request whose connection failed before it reached a
 *   node goes to the next one at once; after every node failed in a row it is an
 *   UnavailableError.
 * - One deadline per call (router.ts `deadlineOf`): each attempt sends the time left as
 *   `timeout_ms` and waits at most that plus the client slack. Gets are retried on QUORUM,
 *   TIMEOUT and OVERLOAD answers by the config's retry policy (`retryAfterMs`), and on a
 *   connection lost mid-request. Puts and deletes are retried the same way: each carries one
 *   `Idempotency-Key` (PutOptions.requestId, or a fresh UUID) on every attempt, and the key's
 *   coordinator answers a retry of a write that did land with its first result instead of
 *   adding a sibling, as the embedded client's retries do.
 * - Validation: client/validate.ts, as the embedded client, with the n, r, w and value limit
 *   the cluster reports on `/status` when connecting.
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_CONFIG,
  REMOTE_CONNECT_TIMEOUT_MS_DEFAULT,
  REMOTE_NODE_COOLDOWN_MS,
  REMOTE_SOCKET_IDLE_MS,
  REMOTE_SOCKETS_PER_NODE_MAX,
} from '../config.js';
import { RingkvError, TimeoutError, UnavailableError, ValidationError } from '../errors.js';
import { checkedTraceId, requestIdOf, supersedeOf } from './cluster-client.js';
import { errorFromHttp } from './http-errors.js';
import { exchange, type HttpAnswer, LinkError } from './http-exchange.js';
import {
  type ConnectOptions,
  clusterConfigOf,
  type Pem,
  type RemoteSettings,
  settingsOf,
} from './remote-options.js';
import { getResultOf } from './results.js';
import type { RetryPolicy } from './retry.js';
import { attemptBudgetMs, type Deadline, deadlineOf, retryAfterMs } from './router.js';
import type {
  ClusterStatus,
  DeleteOptions,
  GetOptions,
  GetResult,
  KvClient,
  PutOptions,
  PutResult,
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

export type { ConnectOptions } from './remote-options.js';

const CONTEXT_HEADER = 'x-ringkv-context';
/** A single value's deadline on a 200 get (server/replies.ts). */
const EXPIRES_AT_HEADER = 'x-ringkv-expires-at-ms';
/** A put's supersede mode (server/replies.ts). */
const SUPERSEDE_HEADER = 'x-ringkv-supersede';
/** A write's request id (server/replies.ts): its retries are recognised as the same write. */
const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** A KvClient over HTTP; `close()` ends the pool and fails calls still waiting. */
export interface RemoteClient extends KvClient {
  /** The node URLs requests are spread over, as given (normalised). */
  readonly nodes: readonly string[];
  close(): Promise<void>;
}

/** What the cluster told us on connecting: the limits validation needs. */
interface ClusterLimits {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly requestTimeoutMs: number;
  readonly valueSizeMaxBytes: number;
}

/** One call as the request loop runs it. */
interface Call<T> {
  readonly what: string;
  readonly method: 'GET' | 'PUT' | 'DELETE';
  /** Path and query without `timeout_ms` (added per attempt). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Whether the server takes `timeout_ms` on this route. */
  readonly timed: boolean;
  readonly decode: (answer: HttpAnswer, node: string) => T;
}

/** Connects to running ringkv nodes; rejects with UnavailableError when none answers. */
export async function connect(options: ConnectOptions): Promise<RemoteClient> {
  const client = new HttpKvClient(settingsOf(options));
  try {
    await client.handshake();
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

class HttpKvClient implements RemoteClient {
  readonly nodes: readonly string[];
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly policy: RetryPolicy = {
    attemptsMax: DEFAULT_CONFIG.retryAttemptsMax,
    delayBaseMs: DEFAULT_CONFIG.retryDelayBaseMs,
    delayMaxMs: DEFAULT_CONFIG.retryDelayMaxMs,
  };
  /** Per node: until when (performance.now ms) it is skipped after a failed connection. */
  private readonly downUntil = new Map<string, number>();
  /** Calls in flight, by the function that ends one: close() ends them all. */
  private readonly waiting = new Set<AbortController>();
  private cursor = 0;
  private closed = false;
  private limits: ClusterLimits | null = null;

  constructor(private readonly settings: RemoteSettings) {
    this.nodes = settings.nodes;
    const pool = {
      keepAlive: true,
      maxSockets: REMOTE_SOCKETS_PER_NODE_MAX,
      timeout: REMOTE_SOCKET_IDLE_MS, // idle sockets; each request sets its own timeout
    };
    this.httpAgent = new http.Agent(pool);
    this.httpsAgent = new https.Agent({ ...pool, ...tlsAgentOptions(settings.tls) });
  }

  /** Checks that some node answers `/health`, then learns the cluster's limits from `/status`. */
  async handshake(): Promise<void> {
    const timeoutMs = Math.min(
      this.settings.timeoutMs ?? REMOTE_CONNECT_TIMEOUT_MS_DEFAULT,
      REMOTE_CONNECT_TIMEOUT_MS_DEFAULT,
    );
    const checks = await Promise.all(this.nodes.map((node) => this.health(node, timeoutMs)));
    const failures = checks.filter((check) => check !== null);
    if (failures.length === this.nodes.length) {
      throw new UnavailableError(`no ringkv node answered /health: ${failures.join('; ')}`);
    }
    const status = await this.statusWithin(timeoutMs);
    this.limits = clusterConfigOf(status);
  }

  async put(key: string, value: ValueInput, options: PutOptions = {}): Promise<PutResult> {
    const bytes = validateValue(value, this.requireLimits().valueSizeMaxBytes);
    return this.write('put', key, bytes, options);
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<PutResult> {
    return this.write('delete', key, null, options);
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    const limits = this.requireLimits();
    validateKey(key, DEFAULT_CONFIG.keySizeMaxBytes);
    const r = validateQuorum('r', options.r, limits.r, limits.n);
    const pr = validatePrimaries('pr', options.pr, r);
    const timeoutMs = validateTimeout(options.timeoutMs, this.defaultTimeoutMs());
    checkedTraceId(options.traceId); // checked as the embedded client does; the HTTP API takes none
    if (options.coordinator !== undefined) {
      throw new ValidationError('coordinator is not supported by connect(); nodes choose it');
    }
    const query = new URLSearchParams({ r: String(r), pr: String(pr) });
    return this.run({
      what: `get ${JSON.stringify(key)}`,
      method: 'GET',
      path: `${keyPath(key)}?${query}`,
      headers: this.headersWith({}),
      timeoutMs,
      signal: options.signal,
      timed: true,
      decode: (answer, node) => decodeGet(answer, node, r),
    });
  }

  async status(): Promise<ClusterStatus> {
    return this.statusWithin(this.defaultTimeoutMs());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const reason = new UnavailableError('the client was closed before the request finished');
    for (const controller of [...this.waiting]) controller.abort(reason);
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async write(
    op: 'put' | 'delete',
    key: string,
    value: Uint8Array | null,
    options: PutOptions,
  ): Promise<PutResult> {
    const limits = this.requireLimits();
    validateKey(key, DEFAULT_CONFIG.keySizeMaxBytes);
    const w = validateQuorum('w', options.w, limits.w, limits.n);
    const pw = validatePrimaries('pw', options.pw, w);
    const timeoutMs = validateTimeout(options.timeoutMs, this.defaultTimeoutMs());
    validateContext(options.context);
    checkedTraceId(options.traceId);
    const { supersede } = supersedeOf(options.supersede);
    if (value === null && supersede !== undefined) {
      throw new ValidationError('supersede applies to put only over HTTP: pass a context instead');
    }
    // One id for every attempt: the coordinator answers a retry of a write that did land with
    // its first result instead of adding a sibling, so writes are retried as gets are.
    const headers: Record<string, string> = {
      [IDEMPOTENCY_KEY_HEADER]: requestIdOf(options.requestId),
    };
    if (options.context !== undefined && options.context !== '') {
      headers[CONTEXT_HEADER] = options.context;
    }
    if (supersede !== undefined) headers[SUPERSEDE_HEADER] = supersede;
    if (value !== null) headers['content-type'] = 'application/octet-stream';
    const expiry = validateExpiry(options);
    if (value === null && Object.keys(expiry).length > 0) {
      throw new ValidationError('a delete cannot carry ttlMs or expiresAtMs');
    }
    const query = new URLSearchParams({ w: String(w), pw: String(pw) });
    if (expiry.ttlMs !== undefined) query.set('ttl_ms', String(expiry.ttlMs));
    if (expiry.expiresAtMs !== undefined) query.set('expires_at_ms', String(expiry.expiresAtMs));
    return this.run({
      what: `${op} ${JSON.stringify(key)}`,
      method: op === 'put' ? 'PUT' : 'DELETE',
      path: `${keyPath(key)}?${query}`,
      headers: this.headersWith(headers),
      ...(value === null ? {} : { body: value }),
      timeoutMs,
      signal: options.signal,
      timed: true,
      decode: (answer, node) => decodeWrite(answer, node),
    });
  }

  /** GET /status with failover, bounded by `timeoutMs`. */
  private statusWithin(timeoutMs: number): Promise<ClusterStatus> {
    return this.run({
      what: 'status',
      method: 'GET',
      path: '/status',
      headers: this.headersWith({}),
      timeoutMs,
      timed: false,
      decode: (answer, node) => {
        if (answer.status !== 200) throw errorFromHttp(answer.status, text(answer), node);
        return parseJson(answer, node) as ClusterStatus;
      },
    });
  }

  /** Null when `node` answers /health in time, else why not. */
  private async health(node: string, timeoutMs: number): Promise<string | null> {
    try {
      const answer = await exchange({
        base: node,
        method: 'GET',
        path: '/health',
        headers: {},
        timeoutMs,
        agent: this.agentOf(node),
      });
      if (answer.status === 200) return null;
      return `${node}: HTTP ${answer.status}`;
    } catch (error) {
      this.markDown(node);
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Runs `call` to success, a final error, or its deadline (see the file comment). */
  private async run<T>(call: Call<T>): Promise<T> {
    if (this.closed) throw new UnavailableError('the client is closed');
    const deadline = deadlineOf(performance.now(), call.timeoutMs);
    const refused: string[] = [];
    for (let attempts = 1; ; ) {
      const node = this.pickNode();
      try {
        return call.decode(await this.attempt(node, call, deadline), node);
      } catch (error) {
        if (this.closed)
          throw new UnavailableError('the client was closed before the request finished');
        if (error instanceof LinkError) {
          this.markDown(node);
          refused.push(
            error.sent ? `${node}: lost after sending (${error.message})` : error.message,
          );
          if (refused.length >= this.nodes.length) {
            throw new UnavailableError(
              `${call.what}: no node could be reached: ${refused.join('; ')}`,
            );
          }
          continue;
        }
        refused.length = 0;
        if (!(error instanceof RingkvError)) throw error;
        const now = performance.now();
        const delayMs = retryAfterMs(this.policy, error, attempts, Math.random, now, deadline);
        if (delayMs === null) throw error;
        attempts++;
        await sleep(delayMs, undefined, { signal: call.signal });
      }
    }
  }

  /** One exchange with `node`, with the time left as `timeout_ms`; close() or the signal end it. */
  private async attempt<T>(node: string, call: Call<T>, deadline: Deadline): Promise<HttpAnswer> {
    const budgetMs = attemptBudgetMs(deadline, performance.now());
    if (budgetMs < 1) throw new TimeoutError(`${call.what}: no time left to ask ${node}`);
    const mark = call.path.includes('?') ? '&' : '?';
    const path = call.timed ? `${call.path}${mark}timeout_ms=${budgetMs}` : call.path;
    const controller = new AbortController();
    const onAbort = () => controller.abort(call.signal?.reason);
    if (call.signal?.aborted) throw call.signal.reason;
    call.signal?.addEventListener('abort', onAbort, { once: true });
    this.waiting.add(controller);
    try {
      return await exchange({
        base: node,
        method: call.method,
        path,
        headers: call.headers,
        ...(call.body === undefined ? {} : { body: call.body }),
        timeoutMs: budgetMs + DEFAULT_CONFIG.clientTimeoutSlackMs,
        signal: controller.signal,
        agent: this.agentOf(node),
      });
    } finally {
      this.waiting.delete(controller);
      call.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The next node round robin, skipping nodes cooling down unless every node is. */
  private pickNode(): string {
    const now = performance.now();
    for (let i = 0; i < this.nodes.length; i++) {
      const node = this.nodes[(this.cursor + i) % this.nodes.length] as string;
      if ((this.downUntil.get(node) ?? 0) <= now) {
        this.cursor = (this.cursor + i + 1) % this.nodes.length;
        return node;
      }
    }
    const node = this.nodes[this.cursor] as string;
    this.cursor = (this.cursor + 1) % this.nodes.length;
    return node;
  }

  private markDown(node: string): void {
    this.downUntil.set(node, performance.now() + REMOTE_NODE_COOLDOWN_MS);
  }

  private agentOf(node: string): http.Agent {
    return node.startsWith('https:') ? this.httpsAgent : this.httpAgent;
  }

  private headersWith(extra: Record<string, string>): Record<string, string> {
    const { token } = this.settings;
    return token === undefined ? extra : { ...extra, authorization: `Bearer ${token}` };
  }

  private defaultTimeoutMs(): number {
    return this.settings.timeoutMs ?? this.requireLimits().requestTimeoutMs;
  }

  private requireLimits(): ClusterLimits {
    if (this.closed) throw new UnavailableError('the client is closed');
    if (this.limits === null) throw new UnavailableError('the client is not connected');
    return this.limits;
  }
}

/** The TLS settings as node:https takes them (bytes as Buffers, no copy). */
function tlsAgentOptions(tls: RemoteSettings['tls']): https.AgentOptions {
  const pem = (value: Pem): string | Buffer =>
    typeof value === 'string'
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const { ca, cert, key, rejectUnauthorized } = tls;
  return {
    ...(ca === undefined ? {} : { ca: Array.isArray(ca) ? ca.map(pem) : pem(ca as Pem) }),
    ...(cert === undefined ? {} : { cert: pem(cert) }),
    ...(key === undefined ? {} : { key: pem(key) }),
    ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
  };
}

/** `/kv/<key>`, every character outside the unreserved set escaped (so `.` and `..` too). */
function keyPath(key: string): string {
  const escaped = encodeURIComponent(key).replace(
    /[.!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `/kv/${escaped}`;
}

/**
 * A get reply: 200 one value, 300 siblings (base64 JSON), 404 NOT_FOUND none (with the
 * tombstone's context after a delete). The HTTP API does not report replies, sloppy or the
 * sibling count with tombstones: `replies` is r (what a success guarantees), `sloppy` false and
 * `siblings` the live values.
 */
function decodeGet(answer: HttpAnswer, node: string, r: number): GetResult {
  const header = answer.headers[CONTEXT_HEADER];
  const context = typeof header === 'string' ? header : '';
  let values: Uint8Array[];
  let expiresAtMs: Array<number | null>;
  if (answer.status === 200) {
    values = [new Uint8Array(answer.body)];
    expiresAtMs = [expiryFrom(answer.headers[EXPIRES_AT_HEADER] ?? null, node)];
  } else if (answer.status === 300) {
    const siblings = siblingsOf(parseJson(answer, node), node);
    values = siblings.map((s) => s.value);
    expiresAtMs = siblings.map((s) => s.expiresAtMs);
  } else if (answer.status === 404 && codeOf(answer) === 'NOT_FOUND') {
    values = [];
    expiresAtMs = [];
  } else throw errorFromHttp(answer.status, text(answer), node);
  const meta = { replies: r, r, sloppy: false, siblings: values.length, expiresAtMs };
  return getResultOf(values, context, meta);
}

/** A deadline a node sent (header text or JSON): a positive safe integer, or null for none. */
function expiryFrom(raw: unknown, node: string): number | null {
  if (raw === null || raw === undefined) return null;
  const parsed = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
  if (typeof parsed !== 'number' || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new RingkvError(`node ${node} sent a malformed expiry`);
  }
  return parsed;
}

function decodeWrite(answer: HttpAnswer, node: string): PutResult {
  if (answer.status !== 200) throw errorFromHttp(answer.status, text(answer), node);
  const body = parseJson(answer, node) as Record<string, unknown>;
  const { acked, w, coordinator, sloppy, siblings, warning } = body;
  if (
    typeof acked !== 'number' ||
    typeof w !== 'number' ||
    typeof coordinator !== 'string' ||
    typeof sloppy !== 'boolean' ||
    typeof siblings !== 'number'
  ) {
    throw new RingkvError(`node ${node} sent a write reply of an unknown shape`);
  }
  const result = { acked, w, coordinator, sloppy, siblings };
  return typeof warning === 'string' ? { ...result, warning } : result;
}

function siblingsOf(
  body: unknown,
  node: string,
): Array<{ value: Uint8Array; expiresAtMs: number | null }> {
  const list = (body as { siblings?: unknown } | null)?.siblings;
  if (!Array.isArray(list)) throw new RingkvError(`node ${node} sent a 300 without siblings`);
  return list.map((entry: unknown) => {
    const { value, expiresAtMs } = (entry ?? {}) as { value?: unknown; expiresAtMs?: unknown };
    if (typeof value !== 'string') throw new RingkvError(`node ${node} sent a malformed sibling`);
    return {
      value: new Uint8Array(Buffer.from(value, 'base64')),
      expiresAtMs: expiryFrom(expiresAtMs, node),
    };
  });
}

function codeOf(answer: HttpAnswer): string | null {
  try {
    const body = JSON.parse(text(answer)) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : null;
  } catch {
    return null;
  }
}

function parseJson(answer: HttpAnswer, node: string): unknown {
  try {
    return JSON.parse(text(answer));
  } catch {
    throw new RingkvError(`node ${node} sent ${answer.status} with a body that is not JSON`);
  }
}

function text(answer: HttpAnswer): string {
  return answer.body.toString('utf8');
}
