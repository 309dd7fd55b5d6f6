import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeProfile,
  loadProfile,
  messageDelaysOf,
  ProfileError,
  parseProfile,
} from '../../src/bench/profile.js';

const ONE = { constant: 1 };
const VALID = { w: { exp: { rate: 0.5 } }, a: ONE, r: ONE, s: ONE };

function errorOf(raw: unknown): string {
  try {
    parseProfile(raw, 'p.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileError);
    return (error as Error).message;
  }
  throw new Error('expected a ProfileError');
}

describe('parseProfile', () => {
  it('accepts the four classes and an optional description', () => {
    expect(parseProfile(VALID)).toEqual(VALID);
    const described = parseProfile({ ...VALID, description: 'LAN' });
    expect(described.description).toBe('LAN');
  });

  it('rejects what is not an object', () => {
    for (const raw of [null, 3, 'w', [VALID]]) {
      expect(errorOf(raw)).toBe('p.json: must be a JSON object with fields w, a, r, s');
    }
  });

  it('names a missing class and the message it stands for', () => {
    const { s: _s, ...noS } = VALID;
    expect(errorOf(noS)).toBe('p.json: missing field "s" (the replica-get-reply latency)');
  });

  it('rejects unknown fields, so a typo never falls back to a default', () => {
    expect(errorOf({ ...VALID, W: ONE })).toMatch(/unknown field "W"/);
    expect(errorOf({ ...VALID, description: 7 })).toBe('p.json: description must be a string');
  });

  it('points at the bad parameter inside a class, however deep', () => {
    expect(errorOf({ ...VALID, w: { exp: { rate: 0 } } })).toBe(
      'p.json: w.exp.rate must be positive, got 0',
    );
    expect(errorOf({ ...VALID, a: { normal: 1 } })).toMatch(/^p\.json: a must have exactly one of/);
    const mix = { mix: [{ weight: 1, dist: { pareto: { xm: 1, alpha: -2 } } }] };
    expect(errorOf({ ...VALID, r: mix })).toBe(
      'p.json: r.mix[0].dist.pareto.alpha must be positive, got -2',
    );
    expect(errorOf({ ...VALID, s: { constant: -1 } })).toBe(
      'p.json: s.constant must be at least 0, got -1',
    );
  });
});

describe('loadProfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-profile-'));

  it('reads a file and names it in errors', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(VALID));
    expect(loadProfile(good)).toEqual(VALID);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "w": ');
    expect(() => loadProfile(bad)).toThrow(/bad\.json: not valid JSON/);
    expect(() => loadProfile(join(dir, 'missing.json'))).toThrow(/cannot read profile .*missing/);
  });

  it('parses every shipped profile', () => {
    for (const name of ['lan-ssd', 'spinning-disk', 'wan']) {
      const profile = loadProfile(join(import.meta.dirname, `../../bench/profiles/${name}.json`));
      expect(profile.description).toBeTypeOf('string');
      expect(describeProfile(profile)).toHaveLength(4);
    }
  });
});

describe('messageDelaysOf', () => {
  it('maps the WARS classes to the ringkv messages they are', () => {
    expect(messageDelaysOf(VALID)).toEqual({
      'replica-put': VALID.w,
      'replica-put-ack': ONE,
      'replica-get': ONE,
      'replica-get-reply': ONE,
    });
  });
});
