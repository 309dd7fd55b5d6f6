/**
 * Batches of encoded entries on one byte stream, written once per event-loop turn: `push` queues
 * an already msgpack-encoded entry and schedules a flush (setImmediate), and the flush writes the
 * queue as frames (frame.ts) whose bodies are msgpack arrays (codec.ts `arrayHeader`), as many
 * entries to a frame as fit `frameBytesMax` and BATCH_MESSAGES_MAX. When the socket asks to wait
 * ('drain'), the rest waits for it. The caller bounds how much it queues and checks that an entry
 * fits a frame (`fits`) before pushing it.
 */
import type { Socket } from 'node:net';
import { assert } from '../core/assert.js';
import { ARRAY_HEADER_BYTES_MAX, arrayHeader, BATCH_MESSAGES_MAX } from './codec.js';
import { FRAME_HEADER_BYTES, frameHeader } from './frame.js';

/** Whether an entry of `bytes` fits one frame of at most `frameBytesMax` on its own. */
export function entryFits(bytes: number, frameBytesMax: number): boolean {
  return bytes + ARRAY_HEADER_BYTES_MAX <= frameBytesMax;
}

/** One frame whose body is the msgpack array of the already-encoded `entries`. */
export function batchFrame(entries: readonly Buffer[]): Buffer {
  const header = arrayHeader(entries.length);
  let body = header.length;
  for (const entry of entries) body += entry.length;
  return Buffer.concat([frameHeader(body), header, ...entries], FRAME_HEADER_BYTES + body);
}

export class BatchWriter {
  private queue: Buffer[] = [];
  private flushScheduled = false;
  private waitingDrain = false;
  private closed = false;
  private ending = false;

  /** `onFrame` hears each frame as it is handed to the socket (a lane counts them). */
  constructor(
    private readonly socket: Socket,
    private readonly frameBytesMax: number,
    private readonly onFrame: () => void = () => {},
  ) {
    assert(frameBytesMax > ARRAY_HEADER_BYTES_MAX, 'a frame holds at least an array header');
    socket.on('drain', () => {
      this.waitingDrain = false;
      this.flush();
    });
  }

  /** Entries queued and not yet handed to the socket. */
  get length(): number {
    return this.queue.length;
  }

  /** Whether an entry of `bytes` fits one frame on its own. */
  fits(bytes: number): boolean {
    return entryFits(bytes, this.frameBytesMax);
  }

  /** Queues one encoded entry (it must fit a frame) for the next flush. */
  push(entry: Buffer): void {
    assert(this.fits(entry.length), 'an entry fits a frame (the caller checks)');
    if (this.closed || this.ending) return;
    this.queue.push(entry);
    if (this.flushScheduled || this.waitingDrain) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Ends the socket once what is queued has been written; later pushes are ignored. */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    if (!this.flushScheduled && !this.waitingDrain) this.flush();
  }

  /** Drops what is queued; later pushes are ignored. */
  close(): void {
    this.closed = true;
    this.queue = [];
  }

  private flush(): void {
    if (this.closed || this.socket.destroyed) return;
    const bodyBytesMax = this.frameBytesMax - ARRAY_HEADER_BYTES_MAX;
    let start = 0;
    while (!this.waitingDrain && start < this.queue.length) {
      let end = start;
      let bytes = 0;
      while (end < this.queue.length && end - start < BATCH_MESSAGES_MAX) {
        const size = (this.queue[end] as Buffer).length;
        if (bytes + size > bodyBytesMax) break;
        bytes += size;
        end++;
      }
      assert(end > start, 'every queued entry fits a frame');
      const frame = batchFrame(this.queue.slice(start, end));
      start = end;
      this.onFrame();
      if (!this.socket.write(frame)) this.waitingDrain = true;
    }
    this.queue = start === this.queue.length ? [] : this.queue.slice(start);
    if (this.ending && this.queue.length === 0) {
      this.closed = true;
      this.socket.end();
    }
  }
}
