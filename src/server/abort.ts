/**
 * Races a promise against a request's signal (request-signal.ts), so the server answers on time even when the callee
 * ignores the signal. The abort reason (a TimeoutError or ClientGoneError) is the rejection.
 */
import type { AbortLike } from './request-signal.js';

export function raceAbort<T>(promise: Promise<T>, signal: AbortLike): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const race = new AbortRace(signal, reject);
    signal.addEventListener('abort', race, ONCE);
    promise.then(
      (value) => {
        signal.removeEventListener('abort', race);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', race);
        reject(error);
      },
    );
  });
}

const ONCE = { once: true } as const;

/** The signal's listener (EventTarget calls handleEvent): one object, not a named closure. */
class AbortRace {
  constructor(
    private readonly signal: AbortLike,
    private readonly reject: (reason: unknown) => void,
  ) {}

  handleEvent(): void {
    this.reject(this.signal.reason);
  }
}
