/**
 * Structured logs: one JSON object per line (pino), from the main thread and from every node's
 * worker thread, each line naming its node. A request's trace id (see ClientRequest.trace) is
 * logged by every node it reaches, so `grep '"trace":"…"'` follows one request from the HTTP
 * layer through its coordinator to each replica.
 *
 * What is logged, by level:
 * - debug: each client request a node receives (trace, op, key) and its reply (trace, outcome,
 *   ms); each peer message carrying a trace (type, from, trace, key); peer up/down notices.
 * - info: node and cluster start and close, node kills and restarts.
 * - warn / error: malformed messages, storage failures, fatal errors, nodes that stop
 *   unexpectedly. Lines that could repeat per message are rate-limited (RateLimitedLog).
 *
 * Values are never logged (they can be large or private); keys are cut to KEY_LOG_CHARS_MAX.
 * The core performs no I/O, so it never logs: NodeLog sits in the runtime host, which sees every
 * input and effect.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../config.js';
import type { ClientResult } from '../core/messages.js';
import { ValidationError } from '../errors.js';

export type { Logger } from 'pino';

/** File descriptor of stderr, where logs go unless told otherwise. */
export const STDERR_FD = 2;
/** Characters of a key written to a log line; longer keys are cut and end with `…`. */
export const KEY_LOG_CHARS_MAX = 200;
/** Characters of a trace id written to a log line (a peer's message is not validated yet). */
const TRACE_LOG_CHARS_MAX = 128;
/** Client requests whose reply NodeLog waits for, to log it with its trace; more go untracked. */
const TRACKED_REQUESTS_MAX = 100_000;
/** Rate-limited lines: at most one per kind per this many ms. */
export const RATE_LIMIT_INTERVAL_MS = 1000;

/** Parses a level name (the CLI's `--log-level`); throws a ValidationError naming the levels. */
export function parseLogLevel(text: string): LogLevel {
  const level = text.trim().toLowerCase();
  if (isLogLevel(level)) return level;
  throw new ValidationError(
    `unknown log level ${JSON.stringify(text)}; levels are ${LOG_LEVELS.join(', ')}`,
  );
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Names the component (`launcher`, `http`); lands in every line as `name`. */
  readonly name?: string;
  /** The node id of a worker's logger; lands in every line as `node`. */
  readonly node?: string;
  /**
   * Where lines go: a file descriptor (the launcher opens one log file and hands its descriptor
   * to every worker) or a file path (appended to), or any pino destination stream.
   * @default stderr
   */
  readonly destination?: number | string | DestinationStream;
}

/**
 * A pino logger writing JSON lines synchronously (a worker may exit right after logging a fatal
 * error; nothing is lost), with ISO timestamps and level names rather than numbers.
 */
export function createLogger(options: LoggerOptions): Logger {
  const dest = options.destination ?? STDERR_FD;
  const stream =
    typeof dest === 'number' || typeof dest === 'string'
      ? pino.destination({ dest, sync: true, append: true, mkdir: typeof dest === 'string' })
      : dest;
  return pino(
    {
      level: options.level,
      base: {
        pid: process.pid,
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.node === undefined ? {} : { node: options.node }),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** A logger that drops everything (the default where none is given). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A key as it may appear in a log line. */
export function logKey(key: string): string {
  return key.length <= KEY_LOG_CHARS_MAX ? key : `${key.slice(0, KEY_LOG_CHARS_MAX)}…`;
}

/**
 * Warnings and errors that could repeat once per message (malformed input, a failing disk):
 * at most one line per kind per interval, carrying `count`, the events it stands for (itself
 * and those suppressed since the previous line of that kind).
 */
export class RateLimitedLog {
  private readonly kinds = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = RATE_LIMIT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write('warn', kind, fields, message);
  }

  error(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write('error', kind, fields, message);
  }

  private write(
    level: 'warn' | 'error',
    kind: string,
    fields: Record<string, unknown>,
    message: string,
  ): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const now = this.now();
    const state = this.kinds.get(kind);
    if (state !== undefined && now - state.at < this.intervalMs) {
      state.suppressed++;
      return;
    }
    const count = (state?.suppressed ?? 0) + 1;
    this.kinds.set(kind, { at: now, suppressed: 0 });
    this.logger[level]({ kind, count, ...fields }, message);
  }
}

interface TrackedRequest {
  readonly trace: string | undefined;
  readonly op: string;
  readonly at: number;
}

/**
 * A node host's log: what the host sees go in and out of its NodeCore. Debug lines cost nothing
 * when debug is off (checked before any field is built).
 */
export class NodeLog {
  readonly limited: RateLimitedLog;
  private readonly requests = new Map<number, TrackedRequest>();

  constructor(
    readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.limited = new RateLimitedLog(logger, RATE_LIMIT_INTERVAL_MS, now);
  }

  /** A client request arrived (not validated yet: the core does that). */
  request(reqId: number, request: unknown): void {
    if (!this.logger.isLevelEnabled('debug')) return;
    const r = asObject(request);
    const trace = traceOf(r);
    const op = typeof r?.op === 'string' ? r.op.slice(0, 16) : 'unknown';
    if (this.requests.size < TRACKED_REQUESTS_MAX) {
      this.requests.set(reqId, { trace, op, at: this.now() });
    }
    this.logger.debug({ trace, reqId, op, key: keyOf(r) }, 'client request');
  }

  /** A client request's answer leaves the node. */
  reply(reqId: number, result: ClientResult): void {
    if (!this.logger.isLevelEnabled('debug')) return;
    const tracked = this.requests.get(reqId);
    this.requests.delete(reqId);
    const outcome = result.ok ? 'ok' : result.error;
    const detail = result.ok
      ? result.op === 'put'
        ? { acked: result.acked, sloppy: result.sloppy }
        : result.op === 'get'
          ? { replies: result.replies, sloppy: result.sloppy }
          : {}
      : result.error === 'quorum'
        ? { needed: result.needed, acked: result.acked }
        : {};
    const ms = tracked === undefined ? undefined : this.now() - tracked.at;
    this.logger.debug(
      { trace: tracked?.trace, reqId, op: tracked?.op, outcome, ...detail, ms },
      'client reply',
    );
  }

  /** A peer message arrived; logged when it carries a trace. */
  message(from: string, message: unknown): void {
    if (!this.logger.isLevelEnabled('debug')) return;
    const m = asObject(message);
    const trace = traceOf(m);
    if (trace === undefined) return;
    const type = typeof m?.type === 'string' ? m.type.slice(0, 32) : 'unknown';
    const key = keyOf(m) ?? keyOf(asObject(m?.request));
    this.logger.debug({ type, from, trace, key }, 'peer message');
  }

  /** The core dropped a peer message as malformed. */
  malformed(from: string, message: unknown): void {
    const type = asObject(message)?.type;
    this.limited.warn(
      'malformed-message',
      { from, type: typeof type === 'string' ? type.slice(0, 32) : typeof type },
      'dropped a malformed peer message',
    );
  }

  peerStatus(peer: string, up: boolean): void {
    this.logger.debug({ peer, up }, up ? 'peer up' : 'peer down');
  }
}

function asObject(x: unknown): Record<string, unknown> | undefined {
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : undefined;
}

function traceOf(x: Record<string, unknown> | undefined): string | undefined {
  const trace = x?.trace;
  return typeof trace === 'string' ? trace.slice(0, TRACE_LOG_CHARS_MAX) : undefined;
}

function keyOf(x: Record<string, unknown> | undefined): string | undefined {
  const key = x?.key;
  return typeof key === 'string' ? logKey(key) : undefined;
}
