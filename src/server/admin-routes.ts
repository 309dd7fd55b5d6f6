/**
 * Route parsing for the admin API under `/admin/` (see admin.ts for what each route does).
 * Node ids in the path are percent-decoded; whether they name a node is the handler's concern.
 */
import { HttpError } from './http-error.js';

export type AdminRoute =
  | { readonly kind: 'admin-kill' | 'admin-restart' | 'admin-remove'; readonly node: string }
  | { readonly kind: 'admin-add' | 'admin-partition' | 'admin-heal' | 'admin-network' };

export const ADMIN_PREFIX = '/admin/';

const FIXED: Readonly<Record<string, AdminRoute['kind']>> = {
  '/admin/nodes': 'admin-add',
  '/admin/partition': 'admin-partition',
  '/admin/heal': 'admin-heal',
  '/admin/network': 'admin-network',
};

const NODE_ACTIONS: Readonly<Record<string, 'admin-kill' | 'admin-restart'>> = {
  kill: 'admin-kill',
  restart: 'admin-restart',
};

/** The admin route for `path` (which starts with ADMIN_PREFIX); 404 or 405 HttpErrors else. */
export function resolveAdminRoute(method: string, path: string): AdminRoute {
  const fixed = FIXED[path];
  if (fixed !== undefined) return requireMethod(method, 'POST', { kind: fixed } as AdminRoute);
  const parts = path.slice('/admin/nodes/'.length).split('/');
  if (path.startsWith('/admin/nodes/') && parts[0] !== '') {
    const node = decodeNodeId(parts[0]!);
    if (parts.length === 1) return requireMethod(method, 'DELETE', { kind: 'admin-remove', node });
    const kind = parts.length === 2 ? NODE_ACTIONS[parts[1]!] : undefined;
    if (kind !== undefined) return requireMethod(method, 'POST', { kind, node });
  }
  throw new HttpError(404, 'NO_ROUTE', `no route for ${path}`);
}

function decodeNodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(404, 'NODE_NOT_FOUND', `no node ${segment}`);
  }
}

function requireMethod(method: string, allowed: string, route: AdminRoute): AdminRoute {
  if (method === allowed) return route;
  throw new HttpError(405, 'METHOD_NOT_ALLOWED', `method ${method} not allowed; use ${allowed}`, {
    Allow: allowed,
  });
}
