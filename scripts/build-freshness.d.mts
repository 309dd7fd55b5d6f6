/** Types of build-freshness.mjs, for the TypeScript that imports it (benchmarks, tests). */

/** Written last by a build, its mtime the build's start. */
export const STAMP_FILE: string;

/** How long a caller waits for a build (its lock wait included) before it gives up on it. */
export const BUILD_TIMEOUT_MS: number;

/** True when `root`/dist holds a whole build and no input changed since that build started. */
export function isBuildFresh(root: string): boolean;

/** Compiles `root` unless its build is fresh; true when dist/ is fresh afterwards. */
export function ensureBuilt(root: string, stdout?: 'inherit' | 'ignore'): boolean;
