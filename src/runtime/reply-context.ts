/**
 * A get's answer with its context already encoded, made on the node's thread: the client's
 * thread (the HTTP front) then only copies the string instead of merging the siblings' version
 * vectors, msgpack-packing and base64url-encoding them for every get (issue 14).
 */
import { encodeContext } from '../core/context.js';
import type { ClientResult } from '../core/messages.js';
import { contextOf } from '../core/version.js';

/** `result` with `context` set when it is a successful get of a record; else `result` itself. */
export function withEncodedContext(result: ClientResult): ClientResult {
  if (!result.ok || result.op !== 'get' || result.record === null) return result;
  if (result.context !== undefined) return result;
  return { ...result, context: encodeContext(contextOf(result.record)) };
}
