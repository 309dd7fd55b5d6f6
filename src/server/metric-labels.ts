/**
 * Label values for the request metrics. Each comes from a small fixed set, so a caller sending
 * random paths or error-provoking requests cannot grow the number of time series.
 */
import { RingkvError } from '../errors.js';
import { ClientGoneError } from './http-error.js';
import type { Reply } from './replies.js';

/** The operation an HTTP request is about, from its method and raw URL. */
export function httpOp(method: string, url: string): string {
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  if (path.startsWith('/kv/')) {
    return method === 'GET' || method === 'PUT' || method === 'DELETE'
      ? method.toLowerCase()
      : 'kv';
  }
  if (path.startsWith('/admin/')) return 'admin';
  if (path.startsWith('/explain/')) return 'explain';
  return FIXED_OPS[path] ?? 'unknown';
}

const FIXED_OPS: Readonly<Record<string, string>> = {
  '/status': 'status',
  '/health': 'health',
  '/metrics': 'metrics',
  '/events': 'events',
  '/advisor': 'advisor',
  '/history': 'dashboard',
  '/activity': 'dashboard',
  '/': 'dashboard',
  '/index.html': 'dashboard',
  '/dashboard.js': 'dashboard',
  '/dashboard.css': 'dashboard',
  '/advisor-panel.js': 'dashboard',
  '/explain-box.js': 'dashboard',
  '/vendor/uPlot.min.js': 'dashboard',
  '/vendor/uPlot.min.css': 'dashboard',
};

/**
 * The outcome of a sent reply: `ok` (2xx), `siblings` (300), else the error code of its JSON
 * body in lower case (`not_found`, `validation`, `too_large`, `quorum`, `timeout`, …).
 */
export function replyOutcome(reply: Reply): string {
  if (reply.status < 300) return 'ok';
  if (reply.status === 300) return 'siblings';
  const body = reply.body as { code?: unknown; tooLarge?: unknown };
  if (body.tooLarge === true) return 'too_large';
  if (typeof body.code === 'string' && /^[A-Z_]{1,32}$/.test(body.code)) {
    return body.code.toLowerCase();
  }
  return `http_${reply.status}`;
}

/** The outcome of a client call that threw: the ringkv error code in lower case. */
export function errorOutcome(error: unknown): string {
  if (error instanceof RingkvError) return error.code.toLowerCase();
  if (error instanceof ClientGoneError) return 'client_gone';
  return 'error';
}
