/**
 * The control routes of one node process, for the supervisor that started it (`ringkv up
 * --processes`): the supervisor's client hands the node raw client requests (it routes and
 * retries itself, as it does for worker threads) and reads its counters and records, and it
 * injects network faults into the node's transport. Bodies and replies are msgpack, so values
 * stay bytes. They exist only when the node was started with a control token, and every call
 * must carry it (`Authorization: Bearer`, request-guard.ts rules; POST only, so a GET never
 * slips past the token check):
 *
 *   POST /control/request  ClientRequest → {kind:"answer",result} | {kind:"down",reason}
 *   POST /control/stats    {}            → the node's counters
 *   POST /control/inspect  {key}         → the node's record of the key, or null
 *   POST /control/explain  {key}         → what the node knows about the key (explain), or null
 *   POST /control/faults   faults        → {ok:true} once in force (bad faults → 400)
 *   POST /control/lane     Upgrade: ringkv-lane → 101, then batches of requests and replies
 *                          (control-lane.ts; the supervisor's client sends its requests there,
 *                          /control/request stays for single calls)
 */
import { parseClientRequest } from '../core/messages.js';
import { ValidationError } from '../errors.js';
import { decodeValue, encodeValue } from '../transport/codec.js';
import { raceAbort } from './abort.js';
import { readBody } from './body.js';
import type { ControlSettings, NodeControl } from './control-settings.js';
import { HttpError } from './http-error.js';
import type { Reply } from './replies.js';
import type { RequestContext } from './request-context.js';
import { guardRequest } from './request-guard.js';
import type { AbortLike } from './request-signal.js';

export const CONTROL_PREFIX = '/control/';
export const CONTROL_CONTENT_TYPE = 'application/msgpack';
/** Bytes a control call may carry on top of the largest value: key, context, request fields. */
export const CONTROL_BODY_OVERHEAD_BYTES = 256 * 1024;

type ControlRoute = 'request' | 'stats' | 'inspect' | 'explain' | 'faults';
const ROUTES = new Set<string>(['request', 'stats', 'inspect', 'explain', 'faults']);

export async function handleControl(
  path: string,
  control: ControlSettings | null,
  ctx: RequestContext,
): Promise<Reply> {
  const name = path.slice(CONTROL_PREFIX.length);
  if (control === null || !ROUTES.has(name)) {
    throw new HttpError(404, 'NO_ROUTE', `no route for ${path}`);
  }
  if (ctx.req.method !== 'POST') {
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'control routes take POST', { Allow: 'POST' });
  }
  guardRequest(ctx.req, true, { adminToken: control.token });
  const body = await readBody(ctx.req, {
    limitBytes: ctx.bodySizeMaxBytes + CONTROL_BODY_OVERHEAD_BYTES,
    signal: ctx.signal,
  });
  const input = decode(body);
  return msgpackReply(await run(name as ControlRoute, input, control.node, ctx.signal));
}

async function run(
  route: ControlRoute,
  input: unknown,
  node: NodeControl,
  signal: AbortLike,
): Promise<unknown> {
  switch (route) {
    case 'request': {
      const request = parseClientRequest(input);
      if (request === null) throw new ValidationError('not a well-formed client request');
      const call = node.request(request);
      signal.addEventListener('abort', () => call.cancel(), { once: true });
      return raceAbort(call.reply, signal);
    }
    case 'stats':
      return node.stats();
    case 'inspect': {
      const key = (input as { key?: unknown } | null)?.key;
      if (typeof key !== 'string') throw new ValidationError('inspect needs {key: string}');
      return (await node.inspect(key)) ?? null;
    }
    case 'explain': {
      const key = (input as { key?: unknown } | null)?.key;
      if (typeof key !== 'string') throw new ValidationError('explain needs {key: string}');
      return (await node.explain(key)) ?? null;
    }
    case 'faults':
      node.applyFaults(input);
      return { ok: true };
  }
}

function decode(body: Buffer): unknown {
  try {
    return decodeValue(body);
  } catch {
    throw new ValidationError(`the body is not ${CONTROL_CONTENT_TYPE}`);
  }
}

function msgpackReply(value: unknown): Reply {
  return {
    status: 200,
    headers: { 'content-type': CONTROL_CONTENT_TYPE, 'cache-control': 'no-store' },
    body: new Uint8Array(encodeValue(value)),
  };
}
