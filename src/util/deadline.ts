/**
 * Bounding a wait on a promise: every network or process wait in ringkv has a timeout, and these
 * are the two shapes it takes. The timer never outlives the race (it is cleared as soon as the
 * work settles), so a bounded wait keeps no process alive.
 */
import { TimeoutError } from '../errors.js';

/** `work`'s outcome, or a TimeoutError with `message` if `ms` pass first. */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(message)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** `work`'s value, or null when it rejects or does not settle within `ms`. */
export function valueWithin<T>(work: Promise<T>, ms: number): Promise<T | null> {
  return withTimeout(work, ms, '').catch(() => null);
}
