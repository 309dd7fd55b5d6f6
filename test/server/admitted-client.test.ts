/**
 * admitClient, the wrapper a front (RESP) puts around its KvClient: calls run within the
 * controller's limit, a refusal is an AdmissionRefusedError (OVERLOAD), the permit goes back
 * however the call ends, and a coordinator's overload shrinks the limit. Fake clock, no sockets.
 */
import { describe, expect, it } from 'vitest';
import type { KvClient, PutResult } from '../../src/client/types.js';
import { OverloadError, ValidationError } from '../../src/errors.js';
import {
  type AdmissionClock,
  AdmissionController,
  AdmissionRefusedError,
} from '../../src/server/admission.js';
import { admitClient } from '../../src/server/admitted-client.js';

const clock: AdmissionClock = { nowMs: () => 0, schedule: () => () => {}, lagMs: () => 0 };

/** A client whose puts finish when the test says, or fail with the error it is given. */
function fakeClient() {
  const finishers: ((error?: Error) => void)[] = [];
  const result = { acked: 2, w: 2, coordinator: 'n1', sloppy: false, siblings: 1 } as PutResult;
  const client: KvClient = {
    put: () =>
      new Promise<PutResult>((resolve, reject) =>
        finishers.push((error) => (error ? reject(error) : resolve(result))),
      ),
    get: () => Promise.reject(new Error('not used')),
    delete: () => Promise.reject(new Error('not used')),
    status: () => Promise.reject(new Error('not used')),
  };
  return { client, finishers };
}

describe('admitClient', () => {
  it('runs at most limit calls, refuses past limit + queue, frees the slot however a call ends', async () => {
    const admission = new AdmissionController(
      { limitInitial: 2, limitMin: 1, limitMax: 2, queueMax: 0 },
      clock,
    );
    const { client, finishers } = fakeClient();
    const admitted = admitClient(client, admission);
    const first = admitted.put('a', 'x');
    const second = admitted.put('b', 'x').catch((error: unknown) => error);
    await expect(admitted.put('c', 'x')).rejects.toBeInstanceOf(AdmissionRefusedError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(finishers).toHaveLength(2);
    expect(admission.inFlight).toBe(2);
    finishers[0]!();
    await first;
    finishers[1]!(new ValidationError('bad'));
    expect(await second).toBeInstanceOf(ValidationError);
    expect(admission.inFlight).toBe(0);
    expect(admission.stats()).toMatchObject({ admitted: 2, refusedQueueFull: 1 });
  });

  it("counts a coordinator's overload as dropped and backs off", async () => {
    const admission = new AdmissionController(
      { limitInitial: 20, limitMin: 4, windowSamplesMin: 1, smoothing: 1, backoffRatio: 0.5 },
      clock,
    );
    const { client, finishers } = fakeClient();
    const admitted = admitClient(client, admission);
    const calls = Array.from({ length: 20 }, (_, i) =>
      admitted.put(`k${i}`, 'x').catch((error: unknown) => error),
    );
    await new Promise((resolve) => setImmediate(resolve));
    for (const finish of finishers)
      finish(new OverloadError('node n1 has 10000 requests in flight'));
    for (const outcome of await Promise.all(calls)) expect(outcome).toBeInstanceOf(OverloadError);
    expect(admission.stats().dropped).toBe(20);
    expect(admission.limit).toBe(10);
  });
});
