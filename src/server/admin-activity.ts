/**
 * Puts every admin request into the server's activity log (monitor/activity-log.ts): refused
 * ones (no token, cross-site) as `refused`, the rest as `running` and then `ok` or `failed`
 * with the reply's gist or the error's message. The request's guard runs inside, so a refusal is
 * recorded like any other outcome.
 */
import type { NetworkStatus } from '../client/types.js';
import type { AdminRoute } from './admin-routes.js';
import { errorToHttp } from './errors-to-http.js';
import { ClientGoneError } from './http-error.js';
import { originOf } from './monitor/activity-log.js';
import type { Reply } from './replies.js';
import type { RequestContext } from './request-context.js';
import { REQUEST_HEADER } from './request-guard.js';

export async function recordAdmin(
  route: AdminRoute,
  ctx: RequestContext,
  run: () => Promise<Reply>,
): Promise<Reply> {
  const origin = originOf(ctx.req.headers[REQUEST_HEADER], ctx.req.socket.remoteAddress);
  const end = ctx.activity.begin(actionOf(route), origin);
  try {
    const reply = await run();
    end('ok', gistOf(reply));
    return reply;
  } catch (error) {
    if (error instanceof ClientGoneError) {
      end('failed', 'the caller hung up before the answer (a membership change goes on)');
    } else {
      const mapped = errorToHttp(error);
      const refused = mapped.status === 401 || mapped.status === 403;
      const message = (mapped.body as { error?: unknown }).error;
      end(refused ? 'refused' : 'failed', `${mapped.status}: ${String(message ?? 'error')}`);
    }
    throw error;
  }
}

function actionOf(route: AdminRoute): string {
  switch (route.kind) {
    case 'admin-kill':
      return `kill ${route.node}`;
    case 'admin-restart':
      return `restart ${route.node}`;
    case 'admin-remove':
      return `remove-node ${route.node}`;
    case 'admin-add':
      return 'add-node';
    case 'admin-partition':
      return 'partition';
    case 'admin-heal':
      return 'heal';
    case 'admin-network':
      return 'network';
  }
}

/** A one-line summary of a successful admin reply. */
function gistOf(reply: Reply): string {
  const body = reply.body as Record<string, unknown>;
  if (body.network !== undefined) return networkGist(body.network as NetworkStatus);
  if (typeof body.kind === 'string' && typeof body.id === 'string') {
    const moved = typeof body.keysSent === 'number' ? `, ${body.keysSent} keys sent` : '';
    return `${body.kind} ${body.id}${moved}`; // the entry has its duration already
  }
  if (typeof body.changed === 'boolean') return body.changed ? 'done' : 'nothing to do';
  return '';
}

function networkGist(network: NetworkStatus): string {
  const groups =
    network.groups === null ? 'whole' : network.groups.map((group) => group.join(',')).join(' | ');
  return (
    `groups ${groups}; delay ${network.delayMs} ms, jitter ${network.jitterMs} ms, ` +
    `loss ${+(network.lossRate * 100).toFixed(2)} %`
  );
}
