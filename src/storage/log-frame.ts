/**
 * The frame of the log engine's files (log.ts): `[payload length u32 LE][CRC-32 of the payload
 * u32 LE][payload]`, the payload one msgpack-encoded batch. A frame that is cut short or whose
 * checksum does not match marks where the valid part of a file ends: a crash during an append
 * leaves at most one such torn frame, at the end.
 */
import zlib from 'node:zlib';

/** Bytes before a frame's payload. */
export const FRAME_HEADER_BYTES = 8;

/**
 * Largest payload a frame may announce. Well above any batch the core writes; a length above
 * it can only be a torn or damaged header, so reading stops there instead of allocating.
 */
export const FRAME_PAYLOAD_MAX_BYTES = 256 * 1024 * 1024;

/** The header of a frame holding `payload`; write it, then the payload. */
export function frameHeader(payload: Uint8Array): Buffer {
  if (payload.byteLength > FRAME_PAYLOAD_MAX_BYTES) {
    throw new RangeError(`a log frame holds at most ${FRAME_PAYLOAD_MAX_BYTES} bytes`);
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(payload.byteLength, 0);
  header.writeUInt32LE(zlib.crc32(payload), 4);
  return header;
}

/** The frames found at the start of a file's bytes. */
export interface ReadFrames {
  /** Payloads of the whole, intact frames, in file order. */
  readonly payloads: Buffer[];
  /** Byte offset just past the last intact frame: the file's valid length. */
  readonly validBytes: number;
}

/** Reads frames from the start of `bytes` until the end or the first torn frame. */
export function readFrames(bytes: Buffer): ReadFrames {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (bytes.byteLength - offset >= FRAME_HEADER_BYTES) {
    const length = bytes.readUInt32LE(offset);
    const start = offset + FRAME_HEADER_BYTES;
    if (length > FRAME_PAYLOAD_MAX_BYTES || start + length > bytes.byteLength) break;
    const payload = bytes.subarray(start, start + length);
    if (zlib.crc32(payload) !== bytes.readUInt32LE(offset + 4)) break;
    payloads.push(payload);
    offset = start + length;
  }
  return { payloads, validBytes: offset };
}
