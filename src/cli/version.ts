/**
 * The package's version for `ringkv --version`, read from its package.json: two folders up from
 * the sources (src/cli/) and three from the build (dist/src/cli/). npm ships package.json in
 * every package, so not finding it is a broken install, not a user error.
 */
import { readFileSync } from 'node:fs';

const CANDIDATES = ['../../package.json', '../../../package.json'];
const PACKAGE_NAME = 'ringkv';

let cached: string | null = null;

export function packageVersion(): string {
  if (cached !== null) return cached;
  for (const candidate of CANDIDATES) {
    const version = versionIn(new URL(candidate, import.meta.url));
    if (version !== null) {
      cached = version;
      return version;
    }
  }
  throw new Error(`${PACKAGE_NAME}'s package.json not found above ${import.meta.url}`);
}

/** The version in the package.json at `url` if it is ringkv's, else null. */
function versionIn(url: URL): string | null {
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch {
    return null;
  }
  const manifest = JSON.parse(text) as { name?: unknown; version?: unknown };
  if (manifest.name !== PACKAGE_NAME || typeof manifest.version !== 'string') return null;
  return manifest.version;
}
