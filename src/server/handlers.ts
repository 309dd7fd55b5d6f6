/**
 * One request, routed: parse the route and query, read the body when the route takes one, call
 * the client, and turn its result into a Reply. Every wait is raced against the request's
 * signal (request-signal.ts), which fires on the server's request timeout or when the caller
 * goes away; the client calls themselves take no signal (their own deadline bounds them).
 */
import type { IncomingMessage } from 'node:http';
import type { PutOptions } from '../client/types.js';
import { validateIntegerIn } from '../client/validate.js';
import { EXPIRES_AT_MS_MAX, TTL_MS_MAX } from '../config.js';
import { isTraceId, TRACE_ID_LENGTH_MAX } from '../core/messages.js';
import { ValidationError } from '../errors.js';
import { raceAbort } from './abort.js';
import { handleAdmin } from './admin.js';
import { recordAdmin } from './admin-activity.js';
import type { AdminRoute } from './admin-routes.js';
import { readBody } from './body.js';
import { HttpError } from './http-error.js';
import { CONTROL_PREFIX, handleControl } from './node-control.js';
import { parseQuery, parseSupersede, type RequestQuery } from './query.js';
import {
  CONTEXT_HEADER,
  EXPIRES_AT_HEADER,
  getReply,
  IDEMPOTENCY_KEY_HEADER,
  jsonReply,
  type Reply,
  SUPERSEDE_HEADER,
  TTL_HEADER,
  writeReply,
} from './replies.js';
import type { RequestContext } from './request-context.js';
import { guardRequest } from './request-guard.js';
import { resolveRoute, splitUrl } from './routes.js';
import { assetReply } from './static-assets.js';

/** The reply to send, or null when the handler took the response over (an event stream). */
export async function handleRequest(ctx: RequestContext): Promise<Reply | null> {
  const { client, signal } = ctx;
  const { path, query } = splitUrl(ctx.req.url ?? '/');
  if (path.startsWith(CONTROL_PREFIX)) return handleControl(path, ctx.control, ctx);
  const route = resolveRoute(ctx.req.method ?? '', path);
  if (route.kind.startsWith('admin-') && ctx.admin !== null) {
    const admin = route as AdminRoute;
    return recordAdmin(admin, ctx, () => {
      guardRequest(ctx.req, true, ctx);
      return handleAdmin(admin, ctx);
    });
  }
  guardRequest(ctx.req, false, ctx);
  switch (route.kind) {
    case 'health':
      return jsonReply(200, { ok: true });
    case 'status':
      return jsonReply(200, await raceAbort(client.status(), signal));
    case 'metrics': {
      const text = await raceAbort(ctx.metrics.render(), signal);
      const headers = { 'content-type': ctx.metrics.contentType, 'cache-control': 'no-store' };
      return { status: 200, headers, body: Buffer.from(text, 'utf8') };
    }
    case 'events':
      return attachEvents(ctx);
    case 'advisor':
      return jsonReply(200, await raceAbort(ctx.advisor.answer(), signal));
    case 'explain': {
      if (ctx.explainer === null) {
        throw new HttpError(
          404,
          'NO_CLUSTER',
          'this server fronts no cluster it can explain keys of',
        );
      }
      return jsonReply(200, await raceAbort(ctx.explainer.explain(route.key), signal));
    }
    case 'history':
      return jsonReply(200, {
        sampleMs: ctx.history.sampleMs,
        spanMs: ctx.history.spanMs,
        samples: ctx.history.list(),
      });
    case 'activity':
      return jsonReply(200, { entries: ctx.activity.recent() });
    case 'asset':
      return assetReply(route.name);
    case 'get': {
      const { r, pr, timeoutMs } = parseQuery(
        query,
        ['r', 'pr', 'timeout_ms'],
        ctx.requestTimeoutMs,
      );
      const options = defined({ r, pr, timeoutMs });
      return getReply(await raceAbort(client.get(route.key, options), signal));
    }
    case 'put': {
      const names = ['w', 'pw', 'timeout_ms', 'ttl_ms', 'expires_at_ms', 'supersede'] as const;
      const parsed = parseQuery(query, names, ctx.requestTimeoutMs);
      const options = {
        ...writeOptions(ctx, parsed),
        ...expiryOptions(ctx.req, parsed),
        ...supersedeOption(ctx.req, parsed),
      };
      const value = await readBody(ctx.req, {
        limitBytes: ctx.bodySizeMaxBytes,
        signal,
        onStart: () => {
          if (ctx.expectContinue) ctx.res.writeContinue();
        },
      });
      return writeReply(await raceAbort(client.put(route.key, value, options), signal));
    }
    case 'delete': {
      if (ctx.req.headers[SUPERSEDE_HEADER] !== undefined) {
        throw new ValidationError('X-Ringkv-Supersede applies to PUT only');
      }
      const options = writeOptions(
        ctx,
        parseQuery(query, ['w', 'pw', 'timeout_ms'], ctx.requestTimeoutMs),
      );
      return writeReply(await raceAbort(client.delete(route.key, options), signal));
    }
    default:
      return handleAdmin(route, ctx);
  }
}

function attachEvents(ctx: RequestContext): null {
  if (!ctx.events.hasRoom()) {
    throw new HttpError(503, 'TOO_MANY_CLIENTS', 'too many event-stream clients; try later', {
      'Retry-After': '5',
    });
  }
  ctx.events.attach(ctx.req, ctx.res);
  return null;
}

function writeOptions(ctx: RequestContext, query: RequestQuery): PutOptions {
  const context = requestContext(ctx.req);
  const requestId = idempotencyKey(ctx.req);
  const { w, pw, timeoutMs } = query;
  return defined({ w, pw, timeoutMs, context, requestId });
}

/** A write's `Idempotency-Key` (quoted as a structured-field string, or bare), checked. */
function idempotencyKey(req: IncomingMessage): string | undefined {
  const header = req.headers[IDEMPOTENCY_KEY_HEADER];
  if (header === undefined) return undefined;
  if (typeof header !== 'string') throw new ValidationError('Idempotency-Key given more than once');
  const quoted = header.length >= 2 && header.startsWith('"') && header.endsWith('"');
  const key = quoted ? header.slice(1, -1) : header;
  if (!isTraceId(key)) {
    throw new ValidationError(
      `Idempotency-Key must be 1..${TRACE_ID_LENGTH_MAX} printable ASCII characters`,
    );
  }
  return key;
}

/**
 * A put's expiry: `?ttl_ms=` / `X-Ringkv-Ttl-Ms` or `?expires_at_ms=` / `X-Ringkv-Expires-At-Ms`,
 * given once in all (two sources are a 400, so a typo never picks one silently).
 */
function expiryOptions(
  req: IncomingMessage,
  query: RequestQuery,
): Pick<PutOptions, 'ttlMs' | 'expiresAtMs'> {
  const ttlHeader = integerHeader(req, TTL_HEADER, [1, TTL_MS_MAX]);
  const atHeader = integerHeader(req, EXPIRES_AT_HEADER, [1, EXPIRES_AT_MS_MAX]);
  const given = [query.ttlMs, query.expiresAtMs, ttlHeader, atHeader].filter(
    (v) => v !== undefined,
  );
  if (given.length > 1) {
    throw new ValidationError(
      'give one expiry: ttl_ms, expires_at_ms, X-Ringkv-Ttl-Ms or X-Ringkv-Expires-At-Ms',
    );
  }
  const ttlMs = query.ttlMs ?? ttlHeader;
  const expiresAtMs = query.expiresAtMs ?? atHeader;
  return defined({ ttlMs, expiresAtMs });
}

/**
 * A put's supersede mode: `?supersede=local` or `X-Ringkv-Supersede: local`, given once in all
 * (as the expiry); any other value is a 400.
 */
function supersedeOption(req: IncomingMessage, query: RequestQuery): Pick<PutOptions, 'supersede'> {
  const header = req.headers[SUPERSEDE_HEADER];
  if (header === undefined) return defined({ supersede: query.supersede });
  if (typeof header !== 'string')
    throw new ValidationError(`${SUPERSEDE_HEADER} given more than once`);
  if (query.supersede !== undefined) {
    throw new ValidationError('give supersede once: ?supersede= or X-Ringkv-Supersede, not both');
  }
  return { supersede: parseSupersede(`header ${SUPERSEDE_HEADER}`, header) };
}

/** A header holding one plain decimal integer in `range`, or undefined when absent. */
function integerHeader(
  req: IncomingMessage,
  name: string,
  [min, max]: readonly [number, number],
): number | undefined {
  const header = req.headers[name];
  if (header === undefined) return undefined;
  if (typeof header !== 'string') throw new ValidationError(`${name} given more than once`);
  const parsed = /^[0-9]+$/.test(header) ? Number(header) : Number.NaN;
  if (!Number.isSafeInteger(parsed)) {
    throw new ValidationError(`header ${name} must be a decimal integer, got '${header}'`);
  }
  return validateIntegerIn(`header ${name}`, parsed, min, max);
}

/** The `X-Ringkv-Context` request header, or undefined when absent or empty. */
function requestContext(req: IncomingMessage): string | undefined {
  const header = req.headers[CONTEXT_HEADER];
  if (header === undefined || header === '') return undefined;
  if (typeof header !== 'string')
    throw new ValidationError('X-Ringkv-Context given more than once');
  return header;
}

/** Drops undefined fields, so the client sees an option as absent rather than `undefined`. */
function defined<T extends object>(fields: T): Partial<T> {
  const kept: Record<string, unknown> = {};
  for (const name in fields) {
    const value = fields[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept as Partial<T>;
}
