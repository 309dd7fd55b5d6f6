/**
 * Builds HTTP replies from client results. A Reply is plain data; http.ts writes it.
 *
 * - get: one value → 200 raw bytes (`X-Ringkv-Expires-At-Ms` when it expires); several
 *   (siblings) → 300 JSON `{siblings:[{value: base64, expiresAtMs: number|null}]}`; none
 *   (never written, or deleted) → 404 JSON. `X-Ringkv-Context` is set whenever the key has a
 *   context — also on a 404 after a delete, so a client can write over the tombstone.
 * - put / delete: 200 JSON `{ acked, w, coordinator, sloppy, siblings, warning? }`.
 */
import type { GetResult, PutResult } from '../client/types.js';
import { siblingsBody } from './siblings-body.js';

export const CONTEXT_HEADER = 'x-ringkv-context';
/** Request: a put's TTL in ms. Response (200): the value's deadline is in EXPIRES_AT_HEADER. */
export const TTL_HEADER = 'x-ringkv-ttl-ms';
/** Request: a put's absolute deadline (Unix ms). Response: the one value's deadline, if any. */
export const EXPIRES_AT_HEADER = 'x-ringkv-expires-at-ms';
/** Request: `local` makes a put supersede what its coordinator holds (as `?supersede=local`). */
export const SUPERSEDE_HEADER = 'x-ringkv-supersede';
/**
 * Request: a put's or delete's idempotency key (PutOptions.requestId), as in the IETF draft
 * "The Idempotency-Key HTTP Header Field": a structured-field string (`"…"`), or bare.
 */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** What a JSON reply says it is (send.ts sets it on object bodies; a 300's bytes say it too). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Bytes are sent as application/octet-stream (unless `headers` sets content-type), else JSON. */
  readonly body: Uint8Array | object;
}

export function jsonReply(
  status: number,
  body: object,
  headers: Record<string, string> = {},
): Reply {
  return { status, headers, body };
}

export function getReply(result: GetResult): Reply {
  const headers: Record<string, string> = {};
  if (result.context !== '') headers[CONTEXT_HEADER] = result.context;
  const [first, ...rest] = result.values;
  if (!result.found || first === undefined) {
    return jsonReply(404, { error: 'not found', code: 'NOT_FOUND' }, headers);
  }
  if (rest.length === 0) {
    const deadline = result.expiresAtMs[0];
    if (deadline !== undefined && deadline !== null) headers[EXPIRES_AT_HEADER] = String(deadline);
    return { status: 200, headers, body: first };
  }
  headers['content-type'] = JSON_CONTENT_TYPE;
  return { status: 300, headers, body: siblingsBody(result.values, result.expiresAtMs) };
}

export function writeReply(result: PutResult): Reply {
  const { acked, w, coordinator, sloppy, siblings, warning } = result;
  return jsonReply(200, {
    acked,
    w,
    coordinator,
    sloppy,
    siblings,
    ...(warning ? { warning } : {}),
  });
}
