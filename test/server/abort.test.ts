import { describe, expect, it } from 'vitest';
import { raceAbort } from '../../src/server/abort.js';

describe('raceAbort', () => {
  it('settles as the promise does while the signal stays quiet', async () => {
    const controller = new AbortController();
    await expect(raceAbort(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    const failure = new Error('callee failed');
    await expect(raceAbort(Promise.reject(failure), controller.signal)).rejects.toBe(failure);
  });

  it('rejects with the abort reason when the signal fires first', async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => {});
    const raced = raceAbort(never, controller.signal);
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(raced).rejects.toBe(reason);
  });

  it('rejects at once on a signal already aborted', async () => {
    const reason = new Error('gone');
    const signal = AbortSignal.abort(reason);
    await expect(raceAbort(Promise.reject(new Error('ignored')), signal)).rejects.toBe(reason);
  });
});
