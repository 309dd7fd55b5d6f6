/**
 * Message bytes on the TCP wire: msgpackr without records (no structures shared across a
 * stream, so nothing breaks when a connection is replaced), binary values kept as bytes. A frame
 * body carrying messages is a msgpack array assembled from messages encoded one by one, so each
 * message's size is known when it is queued and a batch costs no second encoding.
 */
import { Packr, Unpackr } from 'msgpackr';
import { assert } from '../core/assert.js';

/** Messages one frame carries at most; a longer queue goes out in several frames. */
export const BATCH_MESSAGES_MAX = 4096;
/** The largest msgpack array header (0xdd + u32 count). */
export const ARRAY_HEADER_BYTES_MAX = 5;

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
// copyBuffers: a decoded value must not pin (or alias) the frame it arrived in.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

/** Encodes one value; throws on what msgpack cannot carry (the caller counts a drop). */
export function encodeValue(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes one frame body; throws on bytes that are not msgpack (the caller closes). */
export function decodeValue(body: Buffer): unknown {
  // A plain Uint8Array view: msgpackr copies binary values with the source's own type, and the
  // core's values are plain Uint8Arrays, never Buffers (whose methods and equality differ).
  return unpackr.unpack(new Uint8Array(body.buffer, body.byteOffset, body.length));
}

/** The msgpack header of an array of `count` elements. */
export function arrayHeader(count: number): Buffer {
  assert(Number.isSafeInteger(count) && count >= 0, 'an array count is a natural number');
  assert(count <= 0xffff_ffff, 'an array count fits a u32');
  if (count < 16) return Buffer.from([0x90 | count]);
  if (count < 0x1_0000) {
    const header = Buffer.allocUnsafe(3);
    header[0] = 0xdc;
    header.writeUInt16BE(count, 1);
    return header;
  }
  const header = Buffer.allocUnsafe(ARRAY_HEADER_BYTES_MAX);
  header[0] = 0xdd;
  header.writeUInt32BE(count, 1);
  return header;
}
