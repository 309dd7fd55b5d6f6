import { describe, expect, it } from 'vitest';
import { raceAbort } from '../../src/server/abort.js';
import { RequestSignal } from '../../src/server/request-signal.js';

describe('RequestSignal', () => {
  it('fires once, calling function and handleEvent listeners once each, with its reason', () => {
    const signal = new RequestSignal();
    const calls: string[] = [];
    const fn = () => calls.push(`fn:${String(signal.reason)}`);
    const object = { handleEvent: () => calls.push('object') };
    signal.addEventListener('abort', fn);
    signal.addEventListener('abort', object);
    expect(signal.aborted).toBe(false);
    signal.abort('timeout');
    signal.abort('again');
    expect(signal).toMatchObject({ aborted: true, reason: 'timeout' });
    expect(calls).toEqual(['fn:timeout', 'object']);
  });

  it('never calls a listener removed before, or added after, the abort', () => {
    const signal = new RequestSignal();
    const calls: string[] = [];
    const removed = () => calls.push('removed');
    signal.addEventListener('abort', removed);
    signal.removeEventListener('abort', removed);
    signal.removeEventListener('abort', removed); // absent: nothing happens
    signal.abort(new Error('gone'));
    signal.addEventListener('abort', () => calls.push('late'));
    expect(calls).toEqual([]);
  });

  it('races a promise as an AbortSignal would: the abort rejects it, a settled race leaves no listener', async () => {
    const signal = new RequestSignal();
    await expect(raceAbort(Promise.resolve(1), signal)).resolves.toBe(1);
    const reason = new Error('request did not complete');
    const hanging = raceAbort(new Promise<never>(() => {}), signal);
    signal.abort(reason);
    await expect(hanging).rejects.toBe(reason);
    await expect(raceAbort(Promise.resolve(2), signal)).rejects.toBe(reason);
  });
});
