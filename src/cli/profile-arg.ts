/** `--profile` of the benchmarks: a latency profile file, or the name of a shipped one. */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LatencyProfile, loadProfile, ProfileError } from '../bench/profile.js';
import { CliError, EXIT_USAGE } from './exit-codes.js';

/** The shipped profiles' directory, from sources (src/cli) or from the build (dist/src/cli). */
function shippedProfilesDir(): string | null {
  for (const up of ['../../bench/profiles/', '../../../bench/profiles/']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return null;
}

/** `--profile` is a file path, or the name of a shipped profile (`lan-ssd`). */
export function resolveProfile(value: string): { name: string; profile: LatencyProfile } {
  const dir = shippedProfilesDir();
  const shipped = dir === null ? null : `${dir}${value}.json`;
  const isName = /^[a-z0-9-]+$/.test(value);
  const path = isName && shipped !== null && existsSync(shipped) ? shipped : value;
  try {
    const name = path === value ? basename(value).replace(/\.json$/, '') : value;
    return { name, profile: loadProfile(path) };
  } catch (error) {
    if (error instanceof ProfileError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
}
