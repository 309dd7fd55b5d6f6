/**
 * Bounding a wait on a promise: every network or process wait in ringkv has a timeout, and these
 * are the two shapes it takes (the one race of a promise against a timer the runtimes, the
 * client, the monitor and the CLI share). The timer is cleared as soon as the work settles, so a
 * bounded wait never holds the process open.
 */

/** `work`'s outcome, or a rejection with `late()` once `ms` have passed first. */
export function withTimeout<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(late()), ms);
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
  return withTimeout(work, ms, () => new Error('late')).catch(() => null);
}
