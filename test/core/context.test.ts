import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  base64urlDecode,
  base64urlEncode,
  CONTEXT_LENGTH_MAX,
  ContextError,
  decodeContext,
  encodeContext,
} from '../../src/core/context.js';
import type { VersionVector } from '../../src/core/types.js';
import { vvNormalize } from '../../src/core/version.js';

/** Reference base64url, for checking the hand-written codec only (tests may use Buffer). */
const referenceEncode = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

const vvArb: fc.Arbitrary<VersionVector> = fc.array(
  fc.tuple(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  ),
  { maxLength: 8 },
);

/** decodeContext either returns a version vector or throws a ContextError, nothing else. */
function decodesOrContextError(input: string): void {
  try {
    const vv = decodeContext(input);
    expect(vvNormalize(vv)).toBe(vv);
  } catch (err) {
    expect(err).toBeInstanceOf(ContextError);
    expect((err as Error).name).toBe('ContextError');
  }
}

const shaped = (x: unknown): string => base64urlEncode(pack(x));

describe('base64url', () => {
  it('matches the reference encoding and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const encoded = base64urlEncode(bytes);
        expect(encoded).toBe(referenceEncode(bytes));
        expect(base64urlDecode(encoded)).toEqual(bytes);
      }),
    );
  });

  it('rejects bad characters, impossible lengths and non-canonical padding bits', () => {
    for (const bad of ['a', 'abcde', 'ab=', 'ab+c', 'ab/c', 'ab c', 'é0', 'kB']) {
      expect(() => base64urlDecode(bad)).toThrow(ContextError);
    }
  });
});

describe('context codec', () => {
  it('round-trips any version vector exactly (normalized)', () => {
    fc.assert(
      fc.property(vvArb, (vv) => {
        const encoded = encodeContext(vv);
        const decoded = decodeContext(encoded);
        expect(decoded).toEqual(vvNormalize(vv));
        expect(encodeContext(decoded)).toBe(encoded);
      }),
    );
  });

  it('gives equal vectors equal strings', () => {
    expect(
      encodeContext([
        ['b', 1],
        ['a', 2],
      ]),
    ).toBe(
      encodeContext([
        ['a', 2],
        ['b', 1],
        ['c', 0],
      ]),
    );
  });

  it('encodes the empty vector as a short constant, and decodes "" as the empty vector', () => {
    expect(encodeContext([])).toBe('kA');
    expect(decodeContext('kA')).toEqual([]);
    expect(decodeContext('')).toEqual([]);
  });

  it('rejects wrong shapes with a ContextError', () => {
    const shapes: unknown[] = [
      [['a', -1]],
      [['', 1]],
      [['a', 0]],
      [['a', 1.5]],
      [['a']],
      { a: 1 },
      'a',
      42,
      null,
      [[1, 'a']],
      [['a', 2 ** 60]],
    ];
    for (const shape of shapes) {
      expect(() => decodeContext(shaped(shape))).toThrow(ContextError);
    }
    expect(() => decodeContext(shaped([['a', -1]]))).toThrow(/not a version vector/);
  });

  it('rejects bad characters, trailing bytes and over-long strings with a ContextError', () => {
    expect(() => decodeContext('!!!!')).toThrow(/not base64url/);
    const trailing = base64urlEncode(new Uint8Array([0x90, 0x01]));
    expect(() => decodeContext(trailing)).toThrow(/not valid msgpack/);
    const truncated = base64urlEncode(new Uint8Array([0x91, 0x92]));
    expect(() => decodeContext(truncated)).toThrow(ContextError);
    expect(() => decodeContext('A'.repeat(CONTEXT_LENGTH_MAX + 4))).toThrow(/over/);
  });

  it('never throws anything but a ContextError on random strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), decodesOrContextError), {
      numRuns: 300,
    });
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/), decodesOrContextError), {
      numRuns: 300,
    });
  });

  it('never throws anything but a ContextError on valid base64url of random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) =>
        decodesOrContextError(base64urlEncode(bytes)),
      ),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a ContextError on random msgpack values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => decodesOrContextError(shaped(value))),
      { numRuns: 300 },
    );
  });
});
