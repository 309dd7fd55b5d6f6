/**
 * The server side of RESP: a streaming parser of requests. A request is a multibulk (`*N`
 * then N bulk strings `$len`, each on its own CRLF-terminated line) or an inline command (one
 * line of space-separated words, for telnet). Written here rather than taken from a library:
 * `redis-parser` parses replies (the client side) with no bounds, and json-pack's RESP decoder
 * decodes whole buffers, so a value split over many TCP chunks would be re-decoded from its
 * start on every chunk. This one never buffers more than a header line before it knows a
 * length, checks each length against its bounds before reading a byte of it, hands on a bulk
 * that arrived whole as a view of the received bytes (one split over chunks is copied once into
 * a buffer of its final size), and skips (without keeping) a bulk that is too large for the
 * command to be served, so the connection stays usable.
 *
 * Events: `command` (the arguments), `refused` (the whole command was read but is too large:
 * answer with an error and carry on) and `fatal` (the stream cannot be framed any more: answer
 * with the error and close, as Redis does on a protocol error).
 */
import { assert } from '../../core/assert.js';

export interface ParserLimits {
  /** Arguments in one command (name included); more is fatal. */
  readonly argsMax: number;
  /** A length prefix above this is fatal (never read). */
  readonly bulkBytesMax: number;
  /** A bulk above this is skipped and the command refused. */
  readonly argBytesMax: number;
  /** Bytes of all arguments of one command; past it the command is refused. */
  readonly commandBytesMax: number;
}

export type ParseEvent =
  | { readonly kind: 'command'; readonly args: Buffer[] }
  | { readonly kind: 'refused'; readonly message: string }
  | { readonly kind: 'fatal'; readonly message: string };

/** Longest `*N` or `$N` header line, CRLF included: 1 type byte, a sign, 19 digits. */
const HEADER_BYTES_MAX = 32;
/** Longest inline command line (Redis: 64 KiB). */
export const INLINE_BYTES_MAX = 64 * 1024;
const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

type State =
  | { readonly kind: 'start' }
  | { readonly kind: 'header' }
  | { readonly kind: 'body'; readonly target: Buffer; filled: number }
  | { readonly kind: 'skip'; left: number }
  | { readonly kind: 'dead' };

export class RespRequestParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private state: State = { kind: 'start' };
  /** The multibulk being read: arguments still expected, those read, their bytes. */
  private remaining = 0;
  private args: Buffer[] = [];
  private argBytes = 0;
  private refusal: string | null = null;

  constructor(private readonly limits: ParserLimits) {
    assert(limits.argsMax >= 1, 'a command has at least its name');
    assert(limits.argBytesMax <= limits.bulkBytesMax, 'a kept bulk is an accepted bulk');
  }

  /** Bytes received and not parsed yet (small: bulk bodies go straight to their buffer). */
  get buffered(): number {
    return this.buf.length - this.pos;
  }

  push(chunk: Buffer): void {
    if (this.state.kind === 'dead' || chunk.length === 0) return;
    this.buf =
      this.pos >= this.buf.length ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  /** The next complete event, or null until more bytes arrive. After `fatal`, always null. */
  next(): ParseEvent | null {
    for (;;) {
      const state = this.state;
      let event: ParseEvent | null | 'more';
      switch (state.kind) {
        case 'dead':
          return null;
        case 'start':
          event = this.start();
          break;
        case 'header':
          event = this.header();
          break;
        case 'body':
          event = this.body(state);
          break;
        case 'skip':
          event = this.skip(state);
          break;
      }
      if (event === null) return null;
      if (event === 'more') continue;
      if (event.kind === 'fatal') this.die();
      return event;
    }
  }

  private die(): void {
    this.state = { kind: 'dead' };
    this.buf = EMPTY;
    this.pos = 0;
    this.args = [];
  }

  /** Start of a request: a multibulk header or an inline line. */
  private start(): ParseEvent | null | 'more' {
    if (this.pos >= this.buf.length) return null;
    if (this.buf[this.pos] !== 0x2a /* '*' */) return this.inline();
    const line = this.line(HEADER_BYTES_MAX);
    if (line === null) return null;
    if (line === 'long') return fatal('Protocol error: too big mbulk count string');
    const count = parseLength(line, 1);
    if (count === null) return fatal('Protocol error: invalid multibulk length');
    if (count <= 0) return 'more'; // `*0` and `*-1` are empty requests: Redis ignores them
    if (count > this.limits.argsMax) {
      return fatal(`Protocol error: ${count} arguments (the limit is ${this.limits.argsMax})`);
    }
    this.remaining = count;
    this.args = [];
    this.argBytes = 0;
    this.refusal = null;
    this.state = { kind: 'header' };
    return 'more';
  }

  private inline(): ParseEvent | null | 'more' {
    const line = this.line(INLINE_BYTES_MAX);
    if (line === null) return null;
    if (line === 'long') return fatal('Protocol error: too big inline request');
    const text = line.toString('latin1');
    const words = text.split(/[ \t]+/).filter((word) => word.length > 0);
    if (words.length === 0) return 'more';
    if (words.length > this.limits.argsMax) {
      return fatal(
        `Protocol error: ${words.length} arguments (the limit is ${this.limits.argsMax})`,
      );
    }
    return { kind: 'command', args: words.map((word) => Buffer.from(word, 'latin1')) };
  }

  /** A `$len` line: the next bulk is read, skipped, or the stream is unframeable. */
  private header(): ParseEvent | null | 'more' {
    if (this.pos >= this.buf.length) return null;
    const type = this.buf[this.pos]!;
    if (type !== 0x24 /* '$' */) {
      return fatal(`Protocol error: expected '$', got '${printable(type)}'`);
    }
    const line = this.line(HEADER_BYTES_MAX);
    if (line === null) return null;
    if (line === 'long') return fatal('Protocol error: invalid bulk length');
    const length = parseLength(line, 1);
    if (length === null || length < 0 || length > this.limits.bulkBytesMax) {
      return fatal('Protocol error: invalid bulk length');
    }
    if (this.refusal === null) this.refusal = this.tooLarge(length);
    if (this.refusal !== null) {
      this.state = { kind: 'skip', left: length + 2 };
      return 'more';
    }
    this.argBytes += length;
    if (this.buf.length - this.pos >= length + 2) return this.wholeBulk(length);
    this.state = { kind: 'body', target: Buffer.allocUnsafe(length + 2), filled: 0 };
    return 'more';
  }

  /**
   * A bulk that has arrived whole: a view of the received bytes, not a copy. The view keeps
   * its chunk alive only while the command runs: whatever outlives a command is copied from it
   * (a written value by the client, names and options as strings).
   */
  private wholeBulk(length: number): ParseEvent | 'more' {
    const end = this.pos + length;
    if (this.buf[end] !== CR || this.buf[end + 1] !== LF) {
      return fatal('Protocol error: a bulk string does not end with CRLF');
    }
    this.args.push(this.buf.subarray(this.pos, end));
    this.pos = end + 2;
    return this.argumentDone();
  }

  private tooLarge(length: number): string | null {
    const { argBytesMax, commandBytesMax } = this.limits;
    if (length > argBytesMax) {
      return `argument of ${length} bytes is larger than the limit of ${argBytesMax} bytes`;
    }
    if (this.argBytes + length > commandBytesMax) {
      return `command is larger than the limit of ${commandBytesMax} bytes`;
    }
    return null;
  }

  /** Copies what has arrived of a bulk (and its CRLF) into its buffer. */
  private body(state: { readonly target: Buffer; filled: number }): ParseEvent | null | 'more' {
    const copied = this.buf.copy(state.target, state.filled, this.pos);
    state.filled += copied;
    this.pos += copied;
    if (state.filled < state.target.length) return null;
    const end = state.target.length - 2;
    if (state.target[end] !== CR || state.target[end + 1] !== LF) {
      return fatal('Protocol error: a bulk string does not end with CRLF');
    }
    this.args.push(state.target.subarray(0, end));
    return this.argumentDone();
  }

  private skip(state: { left: number }): ParseEvent | null | 'more' {
    const dropped = Math.min(state.left, this.buf.length - this.pos);
    state.left -= dropped;
    this.pos += dropped;
    if (state.left > 0) return null;
    return this.argumentDone();
  }

  private argumentDone(): ParseEvent | 'more' {
    this.remaining--;
    if (this.remaining > 0) {
      this.state = { kind: 'header' };
      return 'more';
    }
    this.state = { kind: 'start' };
    const args = this.args;
    this.args = [];
    if (this.refusal !== null) return { kind: 'refused', message: this.refusal };
    assert(args.length > 0, 'a multibulk command has arguments');
    return { kind: 'command', args };
  }

  /**
   * The line at `pos` without its line end (CRLF, or a bare LF as Redis accepts inline), or
   * null while incomplete, or 'long' once more than `maxBytes` arrived without one.
   */
  private line(maxBytes: number): Buffer | null | 'long' {
    const limit = Math.min(this.buf.length, this.pos + maxBytes);
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf === -1 || lf >= limit) return this.buf.length - this.pos >= maxBytes ? 'long' : null;
    const end = lf > this.pos && this.buf[lf - 1] === CR ? lf - 1 : lf;
    const line = this.buf.subarray(this.pos, end);
    this.pos = lf + 1;
    return line;
  }
}

function fatal(message: string): ParseEvent {
  return { kind: 'fatal', message };
}

/** The integer after the type byte(s), or null when it is not a plain decimal. */
function parseLength(line: Buffer, skip: number): number | null {
  const text = line.toString('latin1', skip);
  if (!/^-?[0-9]{1,18}$/.test(text)) return null;
  return Number(text);
}

function printable(byte: number): string {
  return byte >= 0x20 && byte < 0x7f
    ? String.fromCharCode(byte)
    : `\\x${byte.toString(16).padStart(2, '0')}`;
}
