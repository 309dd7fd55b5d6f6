/**
 * Length-prefixed frames on a byte stream: [u32 big-endian body length][body]. `FrameDecoder`
 * takes chunks as they arrive, split anywhere (even inside the prefix) or holding many frames,
 * and hands out whole bodies. A length of 0 or above the hard maximum is a protocol error: the
 * decoder stops for good and the caller closes the connection. It never allocates the claimed
 * size up front: a body is assembled from the chunks that actually arrived, so a lying prefix
 * costs at most what the peer really sent before the connection is cut.
 */
import { assert } from '../core/assert.js';

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** Why a decoder stopped. */
export type FrameError = {
  readonly kind: 'frame-too-large' | 'frame-empty';
  readonly bytes: number;
};

/** Writes the 4-byte prefix for a body of `bodyBytes` into a new buffer. */
export function frameHeader(bodyBytes: number): Buffer {
  assert(Number.isSafeInteger(bodyBytes) && bodyBytes > 0, 'a frame body is never empty');
  assert(bodyBytes <= 0xffff_ffff, 'a frame body fits a u32 length');
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(bodyBytes, 0);
  return header;
}

/** `body` with its length prefix: one frame, ready to write. */
export function framed(body: Buffer): Buffer {
  return Buffer.concat([frameHeader(body.length), body], FRAME_HEADER_BYTES + body.length);
}

export class FrameDecoder {
  /** Chunks of the frame being assembled (the prefix included, until it is complete). */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** The current body's length once its prefix is read, else -1. */
  private bodyBytes = -1;
  private failed: FrameError | null = null;

  /** Frames whose length prefix was accepted so far. */
  private framesStarted = 0;

  /**
   * `firstFrameBytesMax` limits the first frame alone (a handshake, which a stranger sends
   * before it is authenticated); every later frame may be up to `frameBytesMax`.
   */
  constructor(
    private readonly frameBytesMax: number,
    private readonly firstFrameBytesMax = frameBytesMax,
  ) {
    assert(Number.isSafeInteger(frameBytesMax) && frameBytesMax > 0, 'frameBytesMax must be > 0');
    assert(frameBytesMax <= 0xffff_ffff, 'frameBytesMax must fit a u32 length');
    assert(firstFrameBytesMax > 0 && firstFrameBytesMax <= frameBytesMax, 'first frame limit');
  }

  /** The error that stopped the decoder, or null. */
  get error(): FrameError | null {
    return this.failed;
  }

  /** Bytes held for an unfinished frame (bounded by frameBytesMax + FRAME_HEADER_BYTES). */
  get bufferedBytes(): number {
    return this.partsBytes;
  }

  /**
   * Feeds one chunk; returns the bodies it completed, in order. After an error it returns the
   * bodies completed before the bad prefix and then nothing, ever.
   */
  push(chunk: Buffer): Buffer[] {
    const bodies: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length && this.failed === null) {
      if (this.bodyBytes < 0) offset = this.readHeader(chunk, offset);
      else offset = this.readBody(chunk, offset, bodies);
    }
    assert(this.partsBytes <= this.frameBytesMax + FRAME_HEADER_BYTES, 'frame buffer bounded');
    return bodies;
  }

  private readHeader(chunk: Buffer, offset: number): number {
    const want = FRAME_HEADER_BYTES - this.partsBytes;
    const take = Math.min(want, chunk.length - offset);
    this.hold(chunk.subarray(offset, offset + take));
    if (this.partsBytes < FRAME_HEADER_BYTES) return offset + take;
    const length = Buffer.concat(this.parts, FRAME_HEADER_BYTES).readUInt32BE(0);
    this.parts = [];
    this.partsBytes = 0;
    const limit = this.framesStarted === 0 ? this.firstFrameBytesMax : this.frameBytesMax;
    if (length === 0) this.failed = { kind: 'frame-empty', bytes: 0 };
    else if (length > limit) this.failed = { kind: 'frame-too-large', bytes: length };
    else {
      this.bodyBytes = length;
      this.framesStarted++;
    }
    return offset + take;
  }

  private readBody(chunk: Buffer, offset: number, bodies: Buffer[]): number {
    const want = this.bodyBytes - this.partsBytes;
    const take = Math.min(want, chunk.length - offset);
    const piece = chunk.subarray(offset, offset + take);
    if (take === want && this.partsBytes === 0) {
      bodies.push(piece); // the whole body sits in this chunk: no copy
    } else {
      this.hold(piece);
      if (this.partsBytes === this.bodyBytes)
        bodies.push(Buffer.concat(this.parts, this.bodyBytes));
    }
    if (take === want) {
      this.parts = [];
      this.partsBytes = 0;
      this.bodyBytes = -1;
    }
    return offset + take;
  }

  private hold(piece: Buffer): void {
    // Copy: the socket may reuse its chunk buffer, and a small piece must not pin a large one.
    this.parts.push(Buffer.from(piece));
    this.partsBytes += piece.length;
  }
}
