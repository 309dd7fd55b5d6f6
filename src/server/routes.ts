/**
 * Route parsing: a method and a raw request URL become a Route, or an HttpError (404/405) or a
 * ValidationError (bad key). The path is matched raw, before any decoding or dot-segment
 * normalisation, so a key such as `..` or `a%2Fb` reaches the store exactly as the caller wrote it.
 */
import { ValidationError } from '../errors.js';
import { ADMIN_PREFIX, type AdminRoute, resolveAdminRoute } from './admin-routes.js';
import { HttpError } from './http-error.js';
import { ASSET_PATHS, type AssetName } from './static-assets.js';

export type Route =
  | { readonly kind: 'get' | 'put' | 'delete'; readonly key: string }
  | { readonly kind: 'status' }
  | { readonly kind: 'health' }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'events' }
  | { readonly kind: 'advisor' }
  | { readonly kind: 'explain'; readonly key: string }
  | { readonly kind: 'history' }
  | { readonly kind: 'activity' }
  | { readonly kind: 'asset'; readonly name: AssetName }
  | AdminRoute;

export interface SplitUrl {
  readonly path: string;
  /** Everything after the first `?`, without it; `''` when there is none. */
  readonly query: string;
}

const KV_PREFIX = '/kv/';
const EXPLAIN_PREFIX = '/explain/';
const KV_ALLOW = 'GET, PUT, DELETE';
const KV_KINDS: Readonly<Record<string, 'get' | 'put' | 'delete'>> = {
  GET: 'get',
  PUT: 'put',
  DELETE: 'delete',
};

export function splitUrl(url: string): SplitUrl {
  const mark = url.indexOf('?');
  if (mark === -1) return { path: url, query: '' };
  return { path: url.slice(0, mark), query: url.slice(mark + 1) };
}

/** Throws HttpError 404 (no such route) or 405 (route exists, method does not). */
export function resolveRoute(method: string, path: string): Route {
  if (path === '/health') return requireGet(method, { kind: 'health' });
  if (path === '/status') return requireGet(method, { kind: 'status' });
  if (path === '/metrics') return requireGet(method, { kind: 'metrics' });
  if (path === '/events') return requireGet(method, { kind: 'events' });
  if (path === '/advisor') return requireGet(method, { kind: 'advisor' });
  if (path.startsWith(EXPLAIN_PREFIX) && !path.includes('/', EXPLAIN_PREFIX.length)) {
    return requireGet(method, {
      kind: 'explain',
      key: decodeKey(path.slice(EXPLAIN_PREFIX.length)),
    });
  }
  if (path === '/history') return requireGet(method, { kind: 'history' });
  if (path === '/activity') return requireGet(method, { kind: 'activity' });
  const asset = Object.hasOwn(ASSET_PATHS, path) ? ASSET_PATHS[path] : undefined;
  if (asset !== undefined) return requireGet(method, { kind: 'asset', name: asset });
  if (path.startsWith(KV_PREFIX) && !path.includes('/', KV_PREFIX.length)) {
    const kind = KV_KINDS[method];
    if (kind === undefined) throw methodNotAllowed(method, KV_ALLOW);
    return { kind, key: decodeKey(path.slice(KV_PREFIX.length)) };
  }
  if (path.startsWith(ADMIN_PREFIX)) return resolveAdminRoute(method, path);
  throw new HttpError(404, 'NO_ROUTE', `no route for ${path}`);
}

/** Percent-decodes a key segment; an empty key or malformed encoding is a ValidationError. */
export function decodeKey(segment: string): string {
  if (segment === '') throw new ValidationError('key must not be empty');
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError(`key is not valid percent-encoding: ${segment}`);
  }
}

function requireGet(method: string, route: Route): Route {
  if (method !== 'GET') throw methodNotAllowed(method, 'GET');
  return route;
}

function methodNotAllowed(method: string, allow: string): HttpError {
  return new HttpError(405, 'METHOD_NOT_ALLOWED', `method ${method} not allowed; use ${allow}`, {
    Allow: allow,
  });
}
