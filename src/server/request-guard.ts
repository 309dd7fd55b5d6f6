/**
 * Who may change state through this server. Two checks run before any state-changing route:
 *
 * - **Cross-site requests are refused** (CSRF). A page on another site can make the user's
 *   browser POST here: a "simple" request (form content types, no custom headers) needs no CORS
 *   preflight, so the browser sends it and only hides the answer. So a state-changing request
 *   (any method but GET/HEAD/OPTIONS) is refused when the browser says it is cross-site
 *   (`Sec-Fetch-Site: cross-site|same-site`) or its `Origin` names another host than `Host`.
 *   An admin POST must also carry `Content-Type: application/json` or `X-Ringkv-Request` —
 *   neither can be sent cross-origin without a preflight this server never grants — which also
 *   covers browsers too old to send Sec-Fetch-Site. PUT and DELETE always need a preflight.
 *   Tools that are not browsers (curl, the CLI, the client) send no Origin and pass.
 * - **An admin token**, when configured, is required on /admin routes as
 *   `Authorization: Bearer <token>`. It is compared in constant time and never logged. A server
 *   listening beyond loopback must have one (cli/up.ts refuses to start without it).
 */
import type { IncomingMessage } from 'node:http';
import { tokenMatches } from '../util/token.js';
import { HttpError } from './http-error.js';

/** The header a non-browser caller or the dashboard sets on admin POSTs without a JSON body. */
export const REQUEST_HEADER = 'x-ringkv-request';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GuardOptions {
  /** Required on /admin routes when set. */
  readonly adminToken: string | null;
}

/** Throws an HttpError (403, 401) when `req` may not reach its route. */
export function guardRequest(req: IncomingMessage, admin: boolean, options: GuardOptions): void {
  const method = req.method ?? 'GET';
  if (SAFE_METHODS.has(method)) return;
  refuseCrossSite(req);
  if (!admin) return;
  if (method === 'POST' && !isJson(req) && req.headers[REQUEST_HEADER] === undefined) {
    throw new HttpError(
      403,
      'CROSS_SITE',
      `admin POSTs need Content-Type: application/json or an ${REQUEST_HEADER} header ` +
        '(a plain HTML form could send anything else from another site)',
    );
  }
  if (options.adminToken !== null) checkToken(req, options.adminToken);
}

function refuseCrossSite(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') {
    throw new HttpError(403, 'CROSS_SITE', `cross-site request refused (Sec-Fetch-Site: ${site})`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (origin !== 'null' && hostOf(origin) === req.headers.host) return;
  throw new HttpError(403, 'CROSS_SITE', `cross-site request refused (Origin: ${origin})`);
}

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'] ?? '';
  return type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

function checkToken(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  if (tokenMatches(given, token)) return;
  throw new HttpError(
    401,
    'UNAUTHORIZED',
    'admin routes need Authorization: Bearer <token> (ringkv --token or RINGKV_ADMIN_TOKEN)',
    { 'WWW-Authenticate': 'Bearer realm="ringkv admin"' },
  );
}
