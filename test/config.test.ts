import { expect, it } from 'vitest';
import { DEFAULT_CONFIG, nodeThreadsFor, validateConfig } from '../src/config.js';
import { ValidationError } from '../src/errors.js';

it('picks one thread per node up to cores − 1, at least one, unless nodeThreads says', () => {
  const auto = { nodes: 5, nodeThreads: 0 };
  expect([1, 2, 3, 4, 6, 64].map((cores) => nodeThreadsFor(auto, cores))).toEqual([
    1, 1, 2, 3, 5, 5,
  ]);
  expect(nodeThreadsFor({ nodes: 5, nodeThreads: 3 }, 2)).toBe(3);
  expect(nodeThreadsFor({ nodes: 1, nodeThreads: 0 }, 8)).toBe(1);
});

it('nodeThreads is 0 (auto) up to nodes', () => {
  expect(() => validateConfig({ ...DEFAULT_CONFIG, nodeThreads: 5 })).not.toThrow();
  for (const bad of [-1, 6, 1.5]) {
    expect(() => validateConfig({ ...DEFAULT_CONFIG, nodeThreads: bad })).toThrow(ValidationError);
  }
});

it('storageEngine is log by default, or lmdb', () => {
  expect(DEFAULT_CONFIG.storageEngine).toBe('log');
  expect(() => validateConfig({ ...DEFAULT_CONFIG, storageEngine: 'lmdb' })).not.toThrow();
  for (const bad of ['memory', 'LOG', '', null]) {
    const config = { ...DEFAULT_CONFIG, storageEngine: bad as never };
    expect(() => validateConfig(config)).toThrow(/storageEngine must be one of log, lmdb/);
  }
});
