/**
 * The frame of the log engine's files (log.ts): `[payload length u32 LE][CRC-32 of the payload
 * u32 LE][payload]`, the payload one msgpack-encoded batch. A frame that is cut short or whose
 * checksum does not match marks where the valid part of a file ends: a crash during an append
 * leaves at most one such torn frame, at the end.
 */
import fs from 'node:fs';
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

/** The frames found at the start of some bytes. */
export interface ReadFrames {
  /** Payloads of the whole, intact frames, in order. */
  readonly payloads: Buffer[];
  /** Byte offset just past the last intact frame. */
  readonly validBytes: number;
  /**
   * Why reading stopped: at the end of the bytes, at a frame the bytes hold only part of (more
   * bytes may complete it), or at a damaged one (a length no frame has, a checksum mismatch).
   */
  readonly stop: 'end' | 'short' | 'damaged';
}

/** Reads frames from the start of `bytes` until the end or the first torn frame. */
export function readFrames(bytes: Buffer): ReadFrames {
  const payloads: Buffer[] = [];
  let offset = 0;
  for (;;) {
    if (offset === bytes.byteLength) return { payloads, validBytes: offset, stop: 'end' };
    if (bytes.byteLength - offset < FRAME_HEADER_BYTES) break;
    const length = bytes.readUInt32LE(offset);
    if (length > FRAME_PAYLOAD_MAX_BYTES) return { payloads, validBytes: offset, stop: 'damaged' };
    const start = offset + FRAME_HEADER_BYTES;
    if (start + length > bytes.byteLength) break;
    const payload = bytes.subarray(start, start + length);
    if (zlib.crc32(payload) !== bytes.readUInt32LE(offset + 4)) {
      return { payloads, validBytes: offset, stop: 'damaged' };
    }
    payloads.push(payload);
    offset = start + length;
  }
  return { payloads, validBytes: offset, stop: 'short' };
}

/** What reading a whole file's frames found. */
export interface FileFrames {
  /** Byte offset just past the last intact frame: the file's valid length. */
  readonly validBytes: number;
  /** The file's length. */
  readonly fileBytes: number;
}

/** Bytes read from a file at a time (files may be larger than one Buffer can hold). */
const READ_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Hands every intact frame's payload of `file` to `onPayload`, in order, reading the file in
 * chunks; stops at the end or the first torn or damaged frame. A payload is a view into a
 * chunk that is reused for nothing else, valid only during the call.
 */
export async function readFileFrames(
  file: string,
  onPayload: (payload: Buffer) => void,
  chunkBytes = READ_CHUNK_BYTES,
): Promise<FileFrames> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    let pending: Buffer = Buffer.alloc(0);
    let validBytes = 0;
    let position = 0;
    while (position < size) {
      const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, size - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, position);
      if (bytesRead === 0) break; // the file shrank under us: what was read is all there is
      position += bytesRead;
      const read = chunk.subarray(0, bytesRead);
      const bytes = pending.byteLength === 0 ? read : Buffer.concat([pending, read]);
      const frames = readFrames(bytes);
      for (const payload of frames.payloads) onPayload(payload);
      validBytes += frames.validBytes;
      if (frames.stop === 'damaged') break;
      pending = bytes.subarray(frames.validBytes);
    }
    return { validBytes, fileBytes: size };
  } finally {
    await handle.close();
  }
}
