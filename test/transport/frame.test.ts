import { describe, expect, it } from 'vitest';
import { arrayHeader, decodeValue, encodeValue } from '../../src/transport/codec.js';
import { FRAME_HEADER_BYTES, FrameDecoder, frameHeader } from '../../src/transport/frame.js';
import { SendQueue } from '../../src/transport/send-queue.js';

const frame = (body: Buffer) => Buffer.concat([frameHeader(body.length), body]);
const bodies = [
  Buffer.from([1]),
  Buffer.from('hello frames'),
  Buffer.alloc(300, 7),
  Buffer.from([2, 3]),
];
const stream = Buffer.concat(bodies.map(frame));

describe('FrameDecoder', () => {
  it('decodes a stream split at every byte boundary, into two pieces', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder(1024);
      const got = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(got).toEqual(bodies);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const decoder = new FrameDecoder(1024);
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(got).toEqual(bodies);
  });

  it('decodes many frames in one chunk', () => {
    const many = Array.from({ length: 1000 }, (_, i) => Buffer.from(`m${i}`));
    const decoder = new FrameDecoder(1024);
    expect(decoder.push(Buffer.concat(many.map(frame)))).toEqual(many);
  });

  it('stops on a length prefix over the maximum without buffering the claimed size', () => {
    const decoder = new FrameDecoder(1024);
    const lying = Buffer.concat([
      frame(Buffer.from('ok')),
      frameHeader(0xffff_fff0),
      Buffer.alloc(100),
    ]);
    expect(decoder.push(lying)).toEqual([Buffer.from('ok')]);
    expect(decoder.error).toEqual({ kind: 'frame-too-large', bytes: 0xffff_fff0 });
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(frame(Buffer.from('later')))).toEqual([]); // stopped for good
  });

  it('buffers at most one maximal frame, whatever arrives', () => {
    const decoder = new FrameDecoder(1024);
    decoder.push(frameHeader(1024));
    for (let i = 0; i < 1023; i++) decoder.push(Buffer.from([i & 0xff]));
    expect(decoder.bufferedBytes).toBe(1023);
    expect(decoder.push(Buffer.from([0, 9, 9, 9]))).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(3);
  });

  it('holds the first frame to its own limit, and later frames to the full one', () => {
    const decoder = new FrameDecoder(1024, 16);
    const big = Buffer.alloc(500, 1);
    expect(decoder.push(Buffer.concat([frame(Buffer.alloc(16)), frame(big)]))).toEqual([
      Buffer.alloc(16),
      big,
    ]);
    const strict = new FrameDecoder(1024, 16);
    expect(strict.push(frame(Buffer.alloc(17)))).toEqual([]);
    expect(strict.error).toEqual({ kind: 'frame-too-large', bytes: 17 });
  });

  it('treats an empty frame and garbage text as errors', () => {
    const empty = new FrameDecoder(1024);
    empty.push(Buffer.alloc(FRAME_HEADER_BYTES));
    expect(empty.error?.kind).toBe('frame-empty');
    const http = new FrameDecoder(1024);
    expect(http.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toEqual([]);
    expect(http.error?.kind).toBe('frame-too-large');
  });
});

describe('codec', () => {
  it('builds batches from messages encoded one by one, for every header size', () => {
    for (const count of [0, 1, 15, 16, 65_535, 65_536]) {
      const parts = Array.from({ length: count }, (_, i) => encodeValue({ i }));
      const batch = decodeValue(Buffer.concat([arrayHeader(count), ...parts])) as Array<{
        i: number;
      }>;
      expect(batch.length).toBe(count);
      if (count > 0) expect(batch[count - 1]).toEqual({ i: count - 1 });
    }
  });

  it('round-trips bytes as bytes, not copies of the frame', () => {
    const body = encodeValue({ value: new Uint8Array([1, 2, 3]) });
    const decoded = decodeValue(body) as { value: Uint8Array };
    expect(Object.getPrototypeOf(decoded.value)).toBe(Uint8Array.prototype);
    expect([...decoded.value]).toEqual([1, 2, 3]);
    expect(decoded.value.buffer).not.toBe(body.buffer);
  });
});

describe('SendQueue', () => {
  it('refuses past its message and byte bounds and hands out in order', () => {
    const queue = new SendQueue(3, 10);
    expect(queue.push(Buffer.alloc(4))).toBe(true);
    expect(queue.push(Buffer.alloc(4))).toBe(true);
    expect(queue.push(Buffer.alloc(4))).toBe(false); // 12 bytes > 10
    expect(queue.push(Buffer.alloc(2))).toBe(true);
    expect(queue.push(Buffer.alloc(0))).toBe(false); // 4 messages > 3
    expect([queue.length, queue.bytes]).toEqual([3, 10]);
    expect(queue.take(10, 8).map((b) => b.length)).toEqual([4, 4]);
    expect(queue.take(10, 8).map((b) => b.length)).toEqual([2]);
    expect([queue.length, queue.bytes]).toEqual([0, 0]);
  });
});
