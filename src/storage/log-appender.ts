/**
 * Group commit for the log engine (log.ts): frames queued during an event-loop turn are
 * appended to the current log file together and made durable by one fdatasync (a round). A
 * round starts at the end of the turn its first frame was queued in, or once the round before
 * it is durable, so under load each round carries every frame queued meanwhile.
 *
 * Rounds run one at a time, in order, so the file holds the frames in the order they were
 * queued and a crash leaves a prefix of them. A round may carry an action to run once its
 * frames are durable and before the next round starts (compaction switches files that way). A
 * failed write or sync fails the appender for good: that round and every later one reject.
 *
 * A round's frames go to the file by writev straight from their buffers (a short write goes on
 * from where it stopped), not copied into one buffer first.
 */
import fs from 'node:fs';
import { assert } from '../core/assert.js';
import { StorageError } from './engine.js';
import { filePath, logFileName, syncDirectory } from './log-dir.js';

/**
 * Bytes per write into the log: no single buffer grows with the number of large values a turn
 * writes. Frames are never split, so a write may be larger by one frame.
 */
export const APPEND_CHUNK_BYTES = 16 * 1024 * 1024;

/** Buffers one writev takes at most on Linux (IOV_MAX). */
const IOV_MAX = 1024;

/** The log file being appended to. */
export interface Segment {
  readonly generation: number;
  readonly handle: fs.promises.FileHandle;
}

/** Opens log `generation` of `directory` for appending, creating it (and making that durable). */
export async function openSegment(directory: string, generation: number): Promise<Segment> {
  const handle = await fs.promises.open(filePath(directory, logFileName(generation)), 'a');
  try {
    await syncDirectory(directory);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return { generation, handle };
}

/** A caller waiting for a round, with what to run once that round is durable. */
interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly then?: () => Promise<void>;
}

/** What the appender did since it opened. */
export interface AppenderStats {
  readonly syncs: number;
  readonly bytesAppended: number;
}

export class LogAppender {
  #segment: Segment;
  /** Frames (header, payload, ...) and waiters of the next round. */
  #frames: Buffer[] = [];
  #waiters: Waiter[] = [];
  #flushing: Promise<void> | null = null;
  #failure: StorageError | null = null;
  /** Bytes in the current log file. */
  #segmentBytes: number;
  #syncs = 0;
  #bytesAppended = 0;

  /**
   * @param segment the file to append to, already holding `segmentBytes` valid bytes
   * @param afterRound called after every durable round (the engine checks for a due compaction)
   */
  constructor(
    private readonly directory: string,
    segment: Segment,
    segmentBytes: number,
    private readonly afterRound: () => void,
  ) {
    this.#segment = segment;
    this.#segmentBytes = segmentBytes;
  }

  get generation(): number {
    return this.#segment.generation;
  }

  /** Bytes in the current log file. */
  get segmentBytes(): number {
    return this.#segmentBytes;
  }

  /** Why the appender failed, or null. */
  get failure(): StorageError | null {
    return this.#failure;
  }

  get stats(): AppenderStats {
    return { syncs: this.#syncs, bytesAppended: this.#bytesAppended };
  }

  /** Queues a frame; resolves once it is durable. */
  append(header: Buffer, payload: Buffer): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    this.#frames.push(header, payload);
    return this.round();
  }

  /**
   * Resolves once the round now being gathered is durable, after running `then` (which no
   * other round overlaps).
   */
  round(then?: () => Promise<void>): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject, ...(then === undefined ? {} : { then }) });
      // The first round of a turn waits for the turn's other frames (one append, one sync).
      this.#flushing ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#flush());
    });
  }

  /** Makes log `generation` the file appended to (run it as a round's `then`). */
  async switchTo(generation: number): Promise<void> {
    const previous = this.#segment;
    this.#segment = await openSegment(this.directory, generation);
    this.#segmentBytes = 0;
    await previous.handle.close();
  }

  /** Waits until no round is pending; then closes the file. */
  async close(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
    await this.#segment.handle.close();
  }

  /** Writes and syncs round after round until no one waits. */
  async #flush(): Promise<void> {
    while (this.#waiters.length > 0) {
      const frames = this.#frames;
      const waiters = this.#waiters;
      this.#frames = [];
      this.#waiters = [];
      try {
        if (this.#failure !== null) throw this.#failure;
        await this.#write(frames);
        for (const waiter of waiters) if (waiter.then !== undefined) await waiter.then();
      } catch (error) {
        this.#failure ??=
          error instanceof StorageError
            ? error
            : new StorageError(`log storage at ${this.directory} failed`, { cause: error });
        for (const waiter of waiters) waiter.reject(this.#failure);
        continue;
      }
      for (const waiter of waiters) waiter.resolve();
      // After every round: under steady load the loop may never run dry.
      this.afterRound();
    }
    this.#flushing = null;
  }

  /** Appends the frames to the current file and syncs it. */
  async #write(frames: readonly Buffer[]): Promise<void> {
    if (frames.length === 0) return;
    // A synchronous write into the page cache (tens of µs for a turn's batches) saves a trip
    // through libuv's pool; the sync that makes it durable is the slow part and stays async.
    let appended = 0;
    for (const chunk of chunksOf(frames, APPEND_CHUNK_BYTES)) {
      appended += this.#writeAll(chunk);
    }
    await this.#segment.handle.datasync();
    this.#segmentBytes += appended;
    this.#syncs++;
    this.#bytesAppended += appended;
  }

  /** Writes `buffers` in order with as few writev calls as the kernel allows; returns the bytes. */
  #writeAll(buffers: readonly Buffer[]): number {
    const fd = this.#segment.handle.fd;
    let total = 0;
    for (const buffer of buffers) total += buffer.byteLength;
    let pending = buffers;
    let written = 0;
    while (written < total) {
      const step = fs.writevSync(fd, pending);
      if (step <= 0) {
        throw new StorageError(`log storage at ${this.directory}: a write made no progress`);
      }
      written += step;
      pending = withoutFirstBytes(pending, step);
    }
    return total;
  }
}

/** `buffers` less their first `bytes` bytes (a short write's remainder). */
function withoutFirstBytes(buffers: readonly Buffer[], bytes: number): readonly Buffer[] {
  let rest = bytes;
  let i = 0;
  while (i < buffers.length && rest >= buffers[i]!.byteLength) {
    rest -= buffers[i]!.byteLength;
    i++;
  }
  if (i === buffers.length) return [];
  return [buffers[i]!.subarray(rest), ...buffers.slice(i + 1)];
}

/**
 * The frames in groups of about `max` bytes and at most IOV_MAX buffers, one writev each (a
 * frame, header and payload, is never split).
 */
function* chunksOf(frames: readonly Buffer[], max: number): Generator<Buffer[]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < frames.length; i++) {
    bytes += frames[i]!.byteLength;
    const count = i + 1 - start;
    // Frames come as header and payload pairs; cut only after a payload.
    if (i % 2 === 1 && (bytes >= max || count >= IOV_MAX || i === frames.length - 1)) {
      yield frames.slice(start, i + 1);
      start = i + 1;
      bytes = 0;
    }
  }
  assert(start === frames.length, 'frames come as header and payload pairs');
}
