/**
 * One HTTP exchange with one ringkv node over a keep-alive pool, bounded in time and in size:
 * the remote client's only I/O. It knows nothing of keys or retries; it says whether a failure
 * happened before the request could reach the node (safe to send elsewhere) or after (the
 * outcome is unknown), which is what the remote client's failover decides on.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { REMOTE_REPLY_SIZE_MAX_BYTES } from '../config.js';
import { RingkvError, TimeoutError } from '../errors.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The connection to a node failed; `sent` says whether the request may have reached it. */
export class LinkError extends Error {
  override name = 'LinkError';
  constructor(
    message: string,
    readonly sent: boolean,
    /** The system error code (ECONNREFUSED, …), ETIMEDOUT for the exchange's own deadlines. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface Exchange {
  /** `http://host:port` or `https://host:port`, no path. */
  readonly base: string;
  readonly method: HttpMethod;
  /** Path and query, already encoded. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** The whole exchange, connect to last byte; past it the socket is destroyed. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly agent: http.Agent;
}

/** Errors that mean the connection was never made: nothing reached the node. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

export function exchange(ex: Exchange): Promise<HttpAnswer> {
  if (ex.signal?.aborted) return Promise.reject(ex.signal.reason);
  // The path goes to request() as is: new URL() would fold an escaped `%2E%2E` key into `..`.
  const base = new URL(ex.base);
  const transport = base.protocol === 'https:' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let connected = false;
    let settled = false;
    const finish = (error: unknown, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ex.signal?.removeEventListener('abort', onAbort);
      if (answer !== undefined) resolve(answer);
      else reject(error);
    };
    const req = transport.request({
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port,
      path: ex.path,
      method: ex.method,
      headers: ex.headers,
      agent: ex.agent,
      timeout: ex.timeoutMs, // socket idle timeout: a stalled peer mid-reply
    });
    const fail = (error: Error) => {
      finish(error);
      req.destroy();
    };
    const onAbort = () => fail(ex.signal?.reason);
    const timer = setTimeout(() => {
      const why = `${ex.base} did not answer within ${ex.timeoutMs} ms`;
      fail(connected ? new TimeoutError(why) : new LinkError(why, false, 'ETIMEDOUT'));
    }, ex.timeoutMs);
    ex.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.on('timeout', () => {
      const why = `${ex.base}: the socket was idle for ${ex.timeoutMs} ms`;
      fail(new LinkError(why, connected, 'ETIMEDOUT'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const sent = connected && !NOT_SENT_CODES.has(error.code ?? '');
      finish(new LinkError(`${ex.base}: ${error.code ?? error.message}`, sent, error.code));
    });
    req.on('response', (res) => {
      readBody(res, (error, body) => {
        if (error !== null) return fail(error);
        finish(null, { status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.end(ex.body === undefined ? undefined : Buffer.from(ex.body));
  });
}

/** Reads a reply body up to REMOTE_REPLY_SIZE_MAX_BYTES; past it, an error (nothing kept). */
function readBody(
  res: http.IncomingMessage,
  done: (error: Error | null, body: Buffer) => void,
): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.byteLength;
    if (bytes > REMOTE_REPLY_SIZE_MAX_BYTES) {
      chunks.length = 0;
      res.destroy();
      done(
        new RingkvError(`reply larger than ${REMOTE_REPLY_SIZE_MAX_BYTES} bytes`),
        Buffer.alloc(0),
      );
      return;
    }
    chunks.push(chunk);
  });
  res.on('end', () => done(null, Buffer.concat(chunks, bytes)));
  res.on('aborted', () => done(new LinkError('the reply was cut off', true), Buffer.alloc(0)));
  res.on('error', (error) => done(new LinkError(error.message, true), Buffer.alloc(0)));
}
