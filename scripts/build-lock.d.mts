/** Types of build-lock.mjs, for the TypeScript that imports it (tests). */

export const LOCK_FILE: string;

/** How long a build waits for another one by default. */
export const LOCK_WAIT_MS: number;

/**
 * Takes the build lock of `root`, waiting up to `waitMs` for a live holder; resolves with a
 * function that releases it, or null when the deadline passed first.
 */
export function acquireBuildLock(
  root: string,
  options?: { waitMs?: number; pollMs?: number },
): Promise<(() => void) | null>;
