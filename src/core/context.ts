/**
 * The opaque context a get hands to a client and a put hands back: a normalized version vector,
 * msgpack-encoded as an array of `[actor, counter]` pairs, then base64url without padding. The
 * client never looks inside; the server never trusts what comes back (decodeContext validates).
 *
 * base64url is implemented here over Uint8Array (no Buffer) so the core runs anywhere.
 */
import { Packr, Unpackr } from 'msgpackr';
import { assert } from './assert.js';
import type { VersionVector } from './types.js';
import { VersionVectorError, validateVersionVector, vvNormalize } from './version.js';

/** A context string a client sent back is not one this server could have produced. */
export class ContextError extends Error {
  override name = 'ContextError';
}

/** Longest context string accepted, in characters (64 KiB, about 48 KiB of msgpack). */
export const CONTEXT_LENGTH_MAX = 64 * 1024;

/** Longest excerpt of an underlying decoder message quoted in a ContextError. */
const CAUSE_EXCERPT_LENGTH_MAX = 120;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Maps a char code below 128 to its 6-bit value, or -1 for a character outside the alphabet. */
const DECODE_TABLE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

// Pack arrays as plain msgpack arrays; records (msgpackr's shared structures) are never wanted.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

/** base64url (RFC 4648 §5) without padding. */
export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
    out += ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
    if (rest === 2) out += ALPHABET[(n >> 6) & 63]!;
  }
  assert(out.length === Math.ceil((bytes.length * 4) / 3), 'base64url length is ceil(4n/3)');
  return out;
}

/**
 * Decodes unpadded base64url. Throws a ContextError for a character outside the alphabet, an
 * impossible length, or non-zero unused bits in the last character (so each byte string has
 * exactly one encoding).
 */
export function base64urlDecode(text: string): Uint8Array {
  if (text.length % 4 === 1) {
    throw new ContextError(`context has an impossible base64url length (${text.length})`);
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? DECODE_TABLE[code]! : -1;
    if (value < 0) {
      throw new ContextError(`context has a character that is not base64url at offset ${i}`);
    }
    acc = (acc << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = acc >> bits;
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0)
    throw new ContextError('context has non-zero padding bits: not canonical base64url');
  assert(o === out.length, 'base64url decoding fills the output exactly');
  return out;
}

/** Encodes a version vector as an opaque context string; equal vectors give equal strings. */
export function encodeContext(vv: VersionVector): string {
  const pairs = vvNormalize(vv).map(([actor, counter]) => [actor, counter]);
  const text = base64urlEncode(packr.pack(pairs));
  assert(text.length > 0, 'even the empty vector has a non-empty encoding');
  assert(text.length <= CONTEXT_LENGTH_MAX, `a context of ${pairs.length} actors is too long`);
  return text;
}

function excerpt(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length <= CAUSE_EXCERPT_LENGTH_MAX
    ? message
    : `${message.slice(0, CAUSE_EXCERPT_LENGTH_MAX)}…`;
}

/**
 * Decodes a context string from a client. The empty string is "no context" (the empty vector).
 * Throws a ContextError, and nothing else, for anything encodeContext could not have produced
 * in shape: bad characters, over CONTEXT_LENGTH_MAX, bad msgpack, or not a version vector.
 */
export function decodeContext(text: string): VersionVector {
  if (typeof text !== 'string') throw new ContextError('context must be a string');
  if (text.length === 0) return [];
  if (text.length > CONTEXT_LENGTH_MAX) {
    throw new ContextError(`context is ${text.length} characters, over ${CONTEXT_LENGTH_MAX}`);
  }
  const bytes = base64urlDecode(text);
  let decoded: unknown;
  try {
    decoded = unpackr.unpack(bytes);
  } catch (err) {
    throw new ContextError(`context is not valid msgpack: ${excerpt(err)}`, { cause: err });
  }
  try {
    return validateVersionVector(decoded);
  } catch (err) {
    if (!(err instanceof VersionVectorError)) throw err;
    throw new ContextError(`context is not a version vector: ${err.message}`, { cause: err });
  }
}
