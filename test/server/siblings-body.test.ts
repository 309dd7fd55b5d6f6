import { describe, expect, it } from 'vitest';
import { siblingsBody } from '../../src/server/siblings-body.js';

function viaStringify(values: Uint8Array[], expiresAtMs: (number | null)[]): string {
  const siblings = values.map((value, i) => ({
    value: Buffer.from(value).toString('base64'),
    expiresAtMs: expiresAtMs[i] ?? null,
  }));
  return JSON.stringify({ siblings });
}

describe('siblingsBody', () => {
  it('is byte for byte what JSON.stringify gives', () => {
    const big = new Uint8Array(1024).map((_, i) => (i * 37) % 256);
    const values = [new Uint8Array([0xff, 0, 0x22, 0x5c]), big, new Uint8Array(0)];
    const deadlines = [null, 1_765_000_000_123, null];
    const body = siblingsBody(values, deadlines);
    expect(body.toString('utf8')).toBe(viaStringify(values, deadlines));
    expect(JSON.parse(body.toString('utf8')).siblings[1].expiresAtMs).toBe(1_765_000_000_123);
  });

  it('reads a missing deadline as null and a subarray as only its own bytes', () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5]);
    const body = siblingsBody([backing.subarray(1, 3)], []);
    expect(body.toString('latin1')).toBe('{"siblings":[{"value":"AgM=","expiresAtMs":null}]}');
  });
});
