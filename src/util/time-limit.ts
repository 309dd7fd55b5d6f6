/** Bounding a wait: the one race of a promise against a timer the runtimes and the CLI share. */

/**
 * `work`'s outcome, or a rejection with `late()` once `ms` have passed first. The timer is
 * cleared either way, so it never holds the process open.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
