import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../src/cli/profile-arg.js';

describe('--profile of bench staleness and bench matrix', () => {
  it.each(['lan-ssd', 'spinning-disk', 'wan'])('takes the shipped name %s', (name) => {
    const resolved = resolveProfile(name);
    expect(resolved.name).toBe(name);
    expect(Object.keys(resolved.profile)).toEqual(expect.arrayContaining(['w', 'a', 'r', 's']));
  });

  it('takes a file path', () => {
    const path = new URL('../../bench/profiles/wan.json', import.meta.url).pathname;
    expect(resolveProfile(path).name).toBe('wan');
  });

  it('an unknown name is a usage error (exit 2)', () => {
    expect(() => resolveProfile('no-such-profile')).toThrow(
      expect.objectContaining({ exitCode: 2 }),
    );
  });
});
