/**
 * The admin routes: fault injection on a local cluster (see http.ts for the list). Each answers
 * once the change is in force on every running node:
 *
 *   POST /admin/nodes/:id/kill      → 200 {"node":"n3","state":"down"}
 *   POST /admin/nodes/:id/restart   → 200 {"node":"n3","state":"up"}
 *   POST /admin/partition           {"groups":[["n1","n2"],["n3","n4","n5"]]} → 200 {"network":…}
 *   POST /admin/heal                → 200 {"network":…}
 *   POST /admin/network             {"delay_ms":5,"jitter_ms":1,"loss":0.01} → 200 {"network":…}
 *   POST /admin/nodes, DELETE /admin/nodes/:id → 501 NOT_IMPLEMENTED (needs gossip membership)
 *
 * `network` is the same object as `network` in GET /status. An unknown node in the path is a
 * 404 NODE_NOT_FOUND; in a body (partition groups) it is a 400, like any other bad field.
 */
import type { ClusterAdmin } from '../client/types.js';
import { raceAbort } from './abort.js';
import {
  ADMIN_BODY_MAX_BYTES,
  parseJson,
  parseNetworkBody,
  parsePartitionBody,
} from './admin-body.js';
import type { AdminRoute } from './admin-routes.js';
import { readBody } from './body.js';
import type { RequestContext } from './handlers.js';
import { HttpError } from './http-error.js';
import { jsonReply, type Reply } from './replies.js';

const MEMBERSHIP_MISSING = 'adding and removing nodes needs gossip membership (not yet built)';

export async function handleAdmin(route: AdminRoute, ctx: RequestContext): Promise<Reply> {
  const admin = ctx.admin;
  if (admin === null) {
    throw new HttpError(404, 'NOT_FOUND', 'this server has no admin API (no local cluster)');
  }
  const { signal } = ctx;
  switch (route.kind) {
    case 'admin-add':
    case 'admin-remove':
      throw new HttpError(501, 'NOT_IMPLEMENTED', MEMBERSHIP_MISSING);
    case 'admin-kill':
      await raceAbort(admin.killNode(knownNode(admin, route.node)), signal);
      return jsonReply(200, { node: route.node, state: 'down' });
    case 'admin-restart':
      await raceAbort(admin.restartNode(knownNode(admin, route.node)), signal);
      return jsonReply(200, { node: route.node, state: 'up' });
    case 'admin-partition': {
      const groups = parsePartitionBody(await readJson(ctx));
      return jsonReply(200, { network: await raceAbort(admin.partition(groups), signal) });
    }
    case 'admin-heal':
      return jsonReply(200, { network: await raceAbort(admin.heal(), signal) });
    case 'admin-network': {
      const options = parseNetworkBody(await readJson(ctx));
      return jsonReply(200, { network: await raceAbort(admin.setNetwork(options), signal) });
    }
  }
}

function knownNode(admin: ClusterAdmin, id: string): string {
  if (admin.nodeIds.includes(id)) return id;
  throw new HttpError(
    404,
    'NODE_NOT_FOUND',
    `no node ${JSON.stringify(id)}; nodes are ${admin.nodeIds.join(', ')}`,
  );
}

async function readJson(ctx: RequestContext): Promise<unknown> {
  const body = await readBody(ctx.req, {
    limitBytes: Math.min(ctx.bodySizeMaxBytes, ADMIN_BODY_MAX_BYTES),
    signal: ctx.signal,
    onStart: () => {
      if (ctx.expectContinue) ctx.res.writeContinue();
    },
  });
  return parseJson(body);
}
