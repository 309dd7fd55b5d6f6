import { describe, expect, it } from 'vitest';
import {
  AckedWrites,
  decodeValueId,
  encodeValue,
  isStaleRead,
} from '../../src/bench/matrix-stale.js';

describe('isStaleRead', () => {
  it('is never stale before any write was acknowledged', () => {
    expect(isStaleRead(null, [])).toBe(false);
    expect(isStaleRead(null, [3])).toBe(false);
  });

  it('is stale when every returned value was issued before the acknowledged write', () => {
    expect(isStaleRead(5, [])).toBe(true); // found nothing
    expect(isStaleRead(5, [4])).toBe(true);
    expect(isStaleRead(5, [1, 4])).toBe(true); // siblings, all older
  });

  it('is fresh when the acknowledged write or a later one is returned', () => {
    expect(isStaleRead(5, [5])).toBe(false);
    expect(isStaleRead(5, [7])).toBe(false); // a later write superseded it
    expect(isStaleRead(5, [2, 6])).toBe(false); // a sibling is new enough
  });
});

describe('AckedWrites', () => {
  it('keeps the newest acknowledged id per key, whatever the ack order', () => {
    const acked = new AckedWrites(3);
    expect(acked.expected(0)).toBeNull();
    acked.ack(0, 4);
    acked.ack(0, 2); // an older write acked late
    acked.ack(2, 0);
    expect(acked.expected(0)).toBe(4);
    expect(acked.expected(1)).toBeNull();
    expect(acked.expected(2)).toBe(0);
  });

  it('judges a scripted history: reads snapshot the expectation when issued', () => {
    const acked = new AckedWrites(1);
    acked.ack(0, 0); // preload
    const early = acked.expected(0); // read issued now…
    acked.ack(0, 1); // …a write is acked while it is in flight…
    expect(isStaleRead(early, [0])).toBe(false); // …so returning the old value is fine
    expect(isStaleRead(acked.expected(0), [0])).toBe(true); // a read issued after it is stale
    expect(isStaleRead(acked.expected(0), [1])).toBe(false);
  });
});

describe('value ids', () => {
  it('round-trips through the first 8 bytes of a value of any size', () => {
    for (const id of [0, 1, 123_456_789, 2 ** 52]) {
      const value = encodeValue(id, 1024);
      expect(value.byteLength).toBe(1024);
      expect(decodeValueId(value)).toBe(id);
    }
    expect(decodeValueId(encodeValue(9, 8))).toBe(9);
  });

  it('reads foreign values as no id', () => {
    expect(decodeValueId(new Uint8Array(3))).toBeNull();
    expect(decodeValueId(new TextEncoder().encode('hello world'))).toBeNull();
    const sub = encodeValue(77, 16).subarray(0, 8);
    expect(decodeValueId(sub)).toBe(77);
  });
});
