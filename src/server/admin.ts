/**
 * The admin routes: fault injection on a local cluster (see http.ts for the list). Each answers
 * once the change is in force on every running node:
 *
 *   POST /admin/nodes/:id/kill      → 200 {"node":"n3","state":"down","changed":true}
 *   POST /admin/nodes/:id/restart   → 200 {"node":"n3","state":"up","changed":true}
 *   (`changed` is false when the node was down, or up, already: nothing happened)
 *   POST /admin/partition           {"groups":[["n1","n2"],["n3","n4","n5"]]} → 200 {"network":…}
 *   POST /admin/heal                → 200 {"network":…}
 *   POST /admin/network             {"delay_ms":5,"jitter_ms":1,"loss":0.01} → 200 {"network":…}
 *   POST /admin/nodes               {"id":"n7"} (optional) → 201 {id,kind:"join",version,ms,keysSent,keysDrained}
 *   DELETE /admin/nodes/:id[?force=1] → 200 {id,kind:"leave"|"remove",version,ms,keysSent,keysDrained}
 *          (refused with 400 when fewer than n nodes would remain, unless force=1)
 *
 * `network` is the same object as `network` in GET /status. An unknown node in the path is a
 * 404 NODE_NOT_FOUND; in a body (partition groups) it is a 400, like any other bad field.
 *
 * Adding and removing a node answer once the change has finished everywhere, which can take
 * far longer than the server's request deadline: they wait for the change's own timeout
 * (config membershipChangeTimeoutMs: 504 past it) and stop waiting only when the caller hangs
 * up (the change goes on). Another change still running is a 409 BUSY; a used or bad id a 400.
 */
import type { ClusterAdmin } from '../client/types.js';
import { ValidationError } from '../errors.js';
import { raceAbort } from './abort.js';
import {
  ADMIN_BODY_MAX_BYTES,
  parseAddNodeBody,
  parseJson,
  parseNetworkBody,
  parsePartitionBody,
} from './admin-body.js';
import type { AdminRoute } from './admin-routes.js';
import { readBody } from './body.js';
import { ClientGoneError, HttpError } from './http-error.js';
import { jsonReply, type Reply } from './replies.js';
import type { RequestContext } from './request-context.js';
import { splitUrl } from './routes.js';

export async function handleAdmin(route: AdminRoute, ctx: RequestContext): Promise<Reply> {
  const admin = ctx.admin;
  if (admin === null) {
    throw new HttpError(404, 'NO_ROUTE', 'this server has no admin API (no local cluster)');
  }
  const { signal } = ctx;
  switch (route.kind) {
    case 'admin-add': {
      const options = parseAddNodeBody(await readAdminBody(ctx));
      return jsonReply(201, await untilCallerLeaves(admin.addNode(options), ctx));
    }
    case 'admin-remove': {
      const force = forceOf(ctx.req.url ?? '');
      const removing = admin.removeNode(knownNode(admin, route.node), force ? { force } : {});
      return jsonReply(200, await untilCallerLeaves(removing, ctx));
    }
    case 'admin-kill': {
      const changed = await raceAbort(admin.killNode(knownNode(admin, route.node)), signal);
      return jsonReply(200, { node: route.node, state: 'down', changed });
    }
    case 'admin-restart': {
      const changed = await raceAbort(admin.restartNode(knownNode(admin, route.node)), signal);
      return jsonReply(200, { node: route.node, state: 'up', changed });
    }
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

/** `?force=1` (or `true`) on DELETE /admin/nodes/:id: remove even below n nodes. */
function forceOf(url: string): boolean {
  const value = new URLSearchParams(splitUrl(url).query).get('force');
  if (value === null || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new ValidationError(`force must be 1, true, 0 or false, got ${JSON.stringify(value)}`);
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
  return parseJson(await readAdminBody(ctx));
}

function readAdminBody(ctx: RequestContext): Promise<Buffer> {
  return readBody(ctx.req, {
    limitBytes: Math.min(ctx.bodySizeMaxBytes, ADMIN_BODY_MAX_BYTES),
    signal: ctx.signal,
    onStart: () => {
      if (ctx.expectContinue) ctx.res.writeContinue();
    },
  });
}

/**
 * Waits for a membership change past the request deadline (it is bounded by its own timeout);
 * rejects as soon as the caller hangs up. The change itself goes on either way.
 */
function untilCallerLeaves<T>(change: Promise<T>, ctx: RequestContext): Promise<T> {
  const { res } = ctx;
  if (res.destroyed) {
    change.catch(() => {});
    return Promise.reject(new ClientGoneError());
  }
  return new Promise<T>((resolve, reject) => {
    const onClose = (): void => {
      if (!res.writableFinished) reject(new ClientGoneError());
    };
    res.once('close', onClose);
    change.then(
      (value) => {
        res.off('close', onClose);
        resolve(value);
      },
      (error: unknown) => {
        res.off('close', onClose);
        reject(error);
      },
    );
  });
}
