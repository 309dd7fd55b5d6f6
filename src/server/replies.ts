/**
 * Builds HTTP replies from client results. A Reply is plain data; http.ts writes it.
 *
 * - get: one value → 200 raw bytes; several (siblings) → 300 JSON with base64 values; none
 *   (never written, or deleted) → 404 JSON. `X-Ringkv-Context` is set whenever the key has a
 *   context — also on a 404 after a delete, so a client can write over the tombstone.
 * - put / delete: 200 JSON `{ acked, w, coordinator, sloppy, siblings, warning? }`.
 */
import type { GetResult, PutResult } from '../client/types.js';

export const CONTEXT_HEADER = 'x-ringkv-context';

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
  if (rest.length === 0) return { status: 200, headers, body: first };
  const siblings = result.values.map((value) => ({ value: toBase64(value) }));
  return jsonReply(300, { siblings }, headers);
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

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
