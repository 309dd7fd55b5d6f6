/**
 * parser.ts: framing of multibulk and inline requests, every bound (argument count, bulk length,
 * argument and command size), and fast-check properties (fixed seed): any command list split at
 * any chunk boundaries parses back to itself; random bytes, truncated frames, huge lengths and
 * nested arrays never throw and end in a command, a refusal or one fatal error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ParseEvent,
  type ParserLimits,
  RespRequestParser,
} from '../../../src/server/resp/parser.js';

const LIMITS: ParserLimits = {
  argsMax: 16,
  bulkBytesMax: 1 << 20,
  argBytesMax: 64,
  commandBytesMax: 256,
};
const SEED = 0x72_65_73; // "res"

function encode(args: readonly (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : Buffer.from(arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Feeds `chunks` one at a time and collects every event. */
function parseAll(chunks: readonly Buffer[], limits = LIMITS): ParseEvent[] {
  const parser = new RespRequestParser(limits);
  const events: ParseEvent[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let event = parser.next(); event !== null; event = parser.next()) events.push(event);
  }
  return events;
}

function commands(events: readonly ParseEvent[]): string[][] {
  return events.map((e) => (e.kind === 'command' ? e.args.map((a) => a.toString()) : [e.kind]));
}

describe('RespRequestParser: framing', () => {
  it('parses a pipeline of multibulks, byte by byte as well as whole', () => {
    const bytes = Buffer.concat([
      encode(['SET', 'k', 'v']),
      encode(['GET', 'k']),
      encode(['PING']),
    ]);
    const expected = [['SET', 'k', 'v'], ['GET', 'k'], ['PING']];
    expect(commands(parseAll([bytes]))).toEqual(expected);
    const oneByOne = [...bytes].map((b) => Buffer.from([b]));
    expect(commands(parseAll(oneByOne))).toEqual(expected);
  });

  it('keeps binary arguments byte for byte, CRLF inside them included', () => {
    const value = Uint8Array.from([0, 13, 10, 255, 36, 42]);
    const [event] = parseAll([encode(['SET', 'k', value])]);
    expect(event?.kind).toBe('command');
    expect([...(event as { args: Buffer[] }).args[2]!]).toEqual([...value]);
  });

  it('parses inline commands and ignores empty lines and empty multibulks', () => {
    const events = parseAll([Buffer.from('\r\nPING\r\n*0\r\nset  a   b\n*-1\r\n')]);
    expect(commands(events)).toEqual([['PING'], ['set', 'a', 'b']]);
  });

  it('is fatal on a bulk that does not start with $ (a nested array) and stays dead after', () => {
    const parser = new RespRequestParser(LIMITS);
    parser.push(Buffer.from('*2\r\n*1\r\n$1\r\na\r\n'));
    expect(parser.next()).toEqual({
      kind: 'fatal',
      message: "Protocol error: expected '$', got '*'",
    });
    parser.push(encode(['PING']));
    expect(parser.next()).toBeNull();
  });

  it.each([
    ['a bad multibulk count', '*x\r\n', 'invalid multibulk length'],
    ['too many arguments', '*17\r\n', '17 arguments (the limit is 16)'],
    ['a negative bulk length', '*1\r\n$-1\r\n', 'invalid bulk length'],
    ['a bulk over bulkBytesMax', `*1\r\n$${(1 << 20) + 1}\r\n`, 'invalid bulk length'],
    ['a huge length', '*1\r\n$99999999999999999999\r\n', 'invalid bulk length'],
    ['a header line with no end', `*${'1'.repeat(40)}`, 'too big mbulk count string'],
    ['a bulk without its CRLF', '*1\r\n$1\r\naXY', 'does not end with CRLF'],
    ['an inline line over 64 KiB', 'P'.repeat(64 * 1024 + 1), 'too big inline request'],
  ])('is fatal on %s', (_label, input, message) => {
    const events = parseAll([Buffer.from(input)]);
    expect(events).toHaveLength(1);
    expect(events[0]!.kind).toBe('fatal');
    expect((events[0] as { message: string }).message).toContain(message);
  });

  it('is fatal on a bulk without its CRLF whether it arrived whole or in pieces', () => {
    const input = Buffer.from('*2\r\n$1\r\na\r\n$3\r\nabcXY');
    const whole = parseAll([input]);
    const pieces = parseAll(Array.from(input, (byte) => Buffer.from([byte])));
    for (const events of [whole, pieces]) {
      expect(events.map((e) => e.kind)).toEqual(['fatal']);
      expect((events[0] as { message: string }).message).toContain('does not end with CRLF');
    }
  });

  it('hands on a whole bulk as a view of the received bytes, a split one as a copy', () => {
    const input = encode(['SET', 'k', 'value']);
    const whole = new RespRequestParser(LIMITS);
    whole.push(input);
    const [, , viewed] = (whole.next() as { args: Buffer[] }).args;
    const split = new RespRequestParser(LIMITS);
    split.push(input.subarray(0, input.length - 4));
    expect(split.next()).toBeNull();
    split.push(input.subarray(input.length - 4));
    const [, , copied] = (split.next() as { args: Buffer[] }).args;
    input.write('V', input.indexOf('value'));
    expect(viewed!.toString()).toBe('Value');
    expect(copied!.toString()).toBe('value');
  });

  it('refuses an argument over argBytesMax without keeping it, then parses on', () => {
    const big = Buffer.alloc(65, 120);
    const events = parseAll([Buffer.concat([encode(['SET', 'k', big]), encode(['GET', 'k'])])]);
    expect(events[0]).toEqual({
      kind: 'refused',
      message: 'argument of 65 bytes is larger than the limit of 64 bytes',
    });
    expect(commands(events.slice(1))).toEqual([['GET', 'k']]);
  });

  it('refuses a command whose arguments together exceed commandBytesMax', () => {
    const arg = 'x'.repeat(60);
    const events = parseAll([encode(['MSET', arg, arg, arg, arg, arg]), encode(['PING'])]);
    expect(events.map((e) => e.kind)).toEqual(['refused', 'command']);
  });

  it('holds only a header line while a length is unknown', () => {
    const parser = new RespRequestParser(LIMITS);
    parser.push(Buffer.from('*1\r\n$10\r\n01234'));
    expect(parser.next()).toBeNull();
    expect(parser.buffered).toBe(0); // the body went to its own buffer
    parser.push(Buffer.from('56789\r\n'));
    expect(commands([parser.next()!])).toEqual([['0123456789']]);
  });
});

describe('RespRequestParser: properties', () => {
  const arg = fc.uint8Array({ maxLength: 40 });
  const command = fc.array(arg, { minLength: 1, maxLength: 6 });

  it('parses any command list back, whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(command, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (list, cuts) => {
          const bytes = Buffer.concat(list.map(encode));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: Buffer[] = [];
          let from = 0;
          for (const point of [...points, bytes.length]) {
            chunks.push(bytes.subarray(from, point));
            from = point;
          }
          const events = parseAll(chunks);
          expect(events.map((e) => e.kind)).toEqual(list.map(() => 'command'));
          events.forEach((event, i) => {
            const args = (event as { args: Buffer[] }).args.map((a) => [...a]);
            expect(args).toEqual(list[i]!.map((a) => [...a]));
          });
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  /** Frames that are almost right: real ones cut short, with wrong lengths, nested, or noise. */
  const hostile = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.tuple(command, fc.nat()).map(([c, n]) => {
      const bytes = encode(c);
      return bytes.subarray(0, n % bytes.length);
    }),
    fc
      .bigInt({ min: -(2n ** 70n), max: 2n ** 70n })
      .map((n) => Buffer.from(`*1\r\n$${n}\r\nabc\r\n`)),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Buffer.from(`*${n}\r\n`)),
    fc.nat({ max: 5 }).map((depth) => Buffer.from(`${'*1\r\n'.repeat(depth + 2)}$1\r\na\r\n`)),
    fc
      .constantFrom(':1\r\n', '+OK\r\n', '-ERR x\r\n', '%1\r\n', '_\r\n', '$5\r\nhello\r\n')
      .map((s) => Buffer.from(s)),
  );

  it('never throws on hostile input: every event is a command, a refusal or a final fatal', () => {
    fc.assert(
      fc.property(fc.array(hostile, { maxLength: 6 }), fc.boolean(), (chunks, thenValid) => {
        const parser = new RespRequestParser(LIMITS);
        const events: ParseEvent[] = [];
        for (const chunk of [...chunks, ...(thenValid ? [encode(['PING'])] : [])]) {
          parser.push(chunk);
          for (let e = parser.next(); e !== null; e = parser.next()) events.push(e);
        }
        const fatal = events.findIndex((e) => e.kind === 'fatal');
        // Nothing follows a fatal event.
        if (fatal !== -1) expect(fatal).toBe(events.length - 1);
        for (const event of events) {
          if (event.kind === 'command') {
            expect(event.args.length).toBeGreaterThan(0);
            expect(event.args.length).toBeLessThanOrEqual(LIMITS.argsMax);
            for (const a of event.args) expect(a.length).toBeLessThanOrEqual(LIMITS.argBytesMax);
          } else {
            expect(event.message.length).toBeGreaterThan(0);
          }
        }
        expect(parser.buffered).toBeLessThanOrEqual(chunks.reduce((n, c) => n + c.length, 0) + 64);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
