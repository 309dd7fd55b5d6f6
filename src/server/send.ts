/**
 * Writes a Reply to the response exactly once. When the request body was not read completely
 * (a 413, or a timeout mid-upload) the reply says `Connection: close`, so Node closes the socket
 * after the reply instead of waiting for the rest of the upload.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JSON_CONTENT_TYPE, type Reply } from './replies.js';

export function sendReply(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy(); // a reply already started cannot be replaced
    return;
  }
  const isBytes = reply.body instanceof Uint8Array;
  const payload = isBytes ? (reply.body as Uint8Array) : Buffer.from(JSON.stringify(reply.body));
  const headers: Record<string, string> = {
    'content-type': isBytes ? 'application/octet-stream' : JSON_CONTENT_TYPE,
    'content-length': String(payload.byteLength),
    ...reply.headers,
  };
  if (!req.complete) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(payload);
}
