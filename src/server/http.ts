/**
 * The ringkv HTTP API on node:http. Routes (see routes.ts, replies.ts, errors-to-http.ts):
 *
 *   PUT    /kv/:key   body = value bytes; `X-Ringkv-Context`; ?w= &timeout_ms=  → 200 {acked,w,coordinator}
 *   GET    /kv/:key   ?r= &timeout_ms=  → 200 bytes | 300 {siblings:[{value:base64}]} | 404
 *   DELETE /kv/:key   `X-Ringkv-Context`; ?w= &timeout_ms=                    → 200 {acked,w,coordinator}
 *   GET    /status    → 200 ClusterStatus JSON (nodes with partitionGroup, ring, config, network)
 *   GET    /health    → 200 {ok:true}
 *
 * Admin routes (admin.ts; only when the server is given a ClusterAdmin, else 404). JSON bodies
 * are capped at 64 KiB (or the body limit, if smaller); bad JSON or a wrong shape is a 400:
 *
 *   POST   /admin/nodes/:id/kill     → 200 {node, state:"down"}; unknown node → 404 NODE_NOT_FOUND
 *   POST   /admin/nodes/:id/restart  → 200 {node, state:"up"};   unknown node → 404 NODE_NOT_FOUND
 *   POST   /admin/partition  {"groups":[["n1","n2"],["n3","n4","n5"]]} → 200 {network}
 *          (unlisted nodes form one more group; an unknown id or a node in two groups → 400)
 *   POST   /admin/heal       → 200 {network}     removes the partition, keeps delay and loss
 *   POST   /admin/network    {"delay_ms":5,"jitter_ms":1,"loss":0.01} → 200 {network}
 *          (fields optional, omitted ones keep their value; delays 0..60000 ms, loss 0..1)
 *   POST   /admin/nodes, DELETE /admin/nodes/:id → 501 NOT_IMPLEMENTED (needs gossip membership)
 *
 * Errors are JSON `{error, code, ...}`: 400 bad input, 404 unknown route, 405 wrong method (with
 * `Allow`), 413 body too large, 501 not implemented, 503 quorum not met (`needed`, `acked`) or
 * unavailable, 504 timeout, 500 anything unexpected (logged, message not exposed). A request
 * that does not finish within `requestTimeoutMs` (body read + client call) gets a 504; a caller
 * that disconnects aborts the client call through its AbortSignal. No handler error can escape to crash the process.
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import http from 'node:http';
import type { ClusterAdmin, KvClient } from '../client/types.js';
import { assert } from '../core/assert.js';
import { TimeoutError } from '../errors.js';
import { errorToHttp } from './errors-to-http.js';
import { handleRequest } from './handlers.js';
import { ClientGoneError } from './http-error.js';
import { sendReply } from './send.js';

export interface HttpServerOptions {
  /** Largest request body accepted, in bytes; larger bodies get a 413. */
  readonly bodySizeMaxBytes: number;
  /** Deadline for one request, body read and client call together; past it the reply is a 504. */
  readonly requestTimeoutMs: number;
  /** Where unexpected errors are reported. @default a line on stderr */
  readonly log?: (line: string) => void;
  /** Serves the /admin routes with it; without it they answer 404. @default none */
  readonly admin?: ClusterAdmin;
}

interface ServerSettings {
  readonly client: KvClient;
  readonly admin: ClusterAdmin | null;
  readonly bodySizeMaxBytes: number;
  readonly requestTimeoutMs: number;
  readonly log: (line: string) => void;
}

/** Creates (does not start) the HTTP server; the caller listens and closes it. */
export function createHttpServer(client: KvClient, options: HttpServerOptions): Server {
  assert(Number.isSafeInteger(options.bodySizeMaxBytes), 'bodySizeMaxBytes must be an integer');
  assert(options.bodySizeMaxBytes >= 0, 'bodySizeMaxBytes must not be negative');
  assert(Number.isSafeInteger(options.requestTimeoutMs), 'requestTimeoutMs must be an integer');
  assert(options.requestTimeoutMs > 0, 'requestTimeoutMs must be positive');
  const settings: ServerSettings = {
    client,
    admin: options.admin ?? null,
    bodySizeMaxBytes: options.bodySizeMaxBytes,
    requestTimeoutMs: options.requestTimeoutMs,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  };
  const server = http.createServer((req, res) => serve(settings, req, res, false));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
    serve(settings, req, res, true),
  );
  return server;
}

function serve(
  settings: ServerSettings,
  req: IncomingMessage,
  res: ServerResponse,
  expectContinue: boolean,
): void {
  serveAsync(settings, req, res, expectContinue).catch((error: unknown) => {
    settings.log(`ringkv http: failed to reply to ${req.method} ${req.url}: ${describe(error)}`);
    res.destroy();
  });
}

async function serveAsync(
  settings: ServerSettings,
  req: IncomingMessage,
  res: ServerResponse,
  expectContinue: boolean,
): Promise<void> {
  const controller = new AbortController();
  const timeoutMs = settings.requestTimeoutMs;
  const timer = setTimeout(() => {
    controller.abort(new TimeoutError(`request did not complete within ${timeoutMs} ms`));
  }, timeoutMs);
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new ClientGoneError());
  });
  try {
    const reply = await handleRequest({
      ...settings,
      req,
      res,
      signal: controller.signal,
      expectContinue,
    });
    sendReply(req, res, reply);
  } catch (error) {
    replyWithError(settings, req, res, error);
  } finally {
    clearTimeout(timer);
  }
}

function replyWithError(
  settings: ServerSettings,
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
): void {
  if (error instanceof ClientGoneError || res.destroyed) return;
  const mapped = errorToHttp(error);
  if (mapped.unexpected) {
    settings.log(`ringkv http: ${req.method} ${req.url} failed: ${describe(error)}`);
  }
  sendReply(req, res, { status: mapped.status, headers: mapped.headers, body: mapped.body });
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
