/**
 * Replies and their encoding, in RESP2 (the default) or RESP3 (after `HELLO 3`). A handler
 * returns a Reply tree; `encodeReply` turns it into one Buffer for the connection's protocol.
 * RESP2 has no null or map type: a null is the null bulk string `$-1`, a map a flat array of
 * key, value, key, value.
 */

export type Reply =
  | { readonly t: 'simple'; readonly v: string }
  | { readonly t: 'error'; readonly v: string }
  | { readonly t: 'int'; readonly v: number }
  | { readonly t: 'bulk'; readonly v: Uint8Array | string }
  | { readonly t: 'null' }
  | { readonly t: 'array'; readonly v: readonly Reply[] }
  | { readonly t: 'map'; readonly v: ReadonlyArray<readonly [Reply, Reply]> };

export type Protocol = 2 | 3;

export const OK: Reply = Object.freeze({ t: 'simple', v: 'OK' });
export const NULL: Reply = Object.freeze({ t: 'null' });

export function simple(v: string): Reply {
  return { t: 'simple', v };
}

export function int(v: number): Reply {
  return { t: 'int', v };
}

export function bulk(v: Uint8Array | string): Reply {
  return { t: 'bulk', v };
}

export function array(v: readonly Reply[]): Reply {
  return { t: 'array', v };
}

/** A map with string keys (HELLO, RINGKV.SIBLINGS); a flat array in RESP2. */
export function map(entries: ReadonlyArray<readonly [string, Reply]>): Reply {
  return { t: 'map', v: entries.map(([key, value]) => [bulk(key), value] as const) };
}

/** An error reply: `code` is its first word (`ERR`, `WRONGTYPE`, `NOAUTH`, …). */
export function error(code: string, message: string): Reply {
  return { t: 'error', v: `${code} ${message}` };
}

/** An error a handler throws: the connection answers it as an error reply. */
export class RespError extends Error {
  override name = 'RespError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const CACHED_OK = Buffer.from('+OK\r\n');
const CACHED_NULL: Record<Protocol, Buffer> = {
  2: Buffer.from('$-1\r\n'),
  3: Buffer.from('_\r\n'),
};

export function encodeReply(reply: Reply, proto: Protocol): Buffer {
  if (reply === OK) return CACHED_OK;
  if (reply.t === 'null') return CACHED_NULL[proto];
  if (reply.t === 'bulk') return encodeBulk(reply.v);
  const parts: Buffer[] = [];
  write(reply, proto, parts);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function write(reply: Reply, proto: Protocol, parts: Buffer[]): void {
  switch (reply.t) {
    case 'simple':
      parts.push(Buffer.from(`+${oneLine(reply.v)}\r\n`));
      return;
    case 'error':
      parts.push(Buffer.from(`-${oneLine(reply.v)}\r\n`));
      return;
    case 'int':
      parts.push(Buffer.from(`:${Math.trunc(reply.v)}\r\n`));
      return;
    case 'bulk':
      parts.push(encodeBulk(reply.v));
      return;
    case 'null':
      parts.push(CACHED_NULL[proto]);
      return;
    case 'array':
      parts.push(Buffer.from(`*${reply.v.length}\r\n`));
      for (const item of reply.v) write(item, proto, parts);
      return;
    case 'map':
      parts.push(
        Buffer.from(proto === 3 ? `%${reply.v.length}\r\n` : `*${reply.v.length * 2}\r\n`),
      );
      for (const [key, value] of reply.v) {
        write(key, proto, parts);
        write(value, proto, parts);
      }
      return;
  }
}

/** `$len\r\n<bytes>\r\n` in one buffer (one socket write per reply). */
function encodeBulk(value: Uint8Array | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const header = `$${bytes.length}\r\n`;
  const out = Buffer.allocUnsafe(header.length + bytes.length + 2);
  out.write(header, 0, 'latin1');
  out.set(bytes, header.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** Simple strings and errors cannot hold a line end: a stray one would break the framing. */
function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]+/g, ' ') : text;
}
