/**
 * Output files of long commands (benchmarks): checked before the work starts, so a typo in
 * `--json` or `--html` fails in a second rather than after a twenty-minute run.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError, EXIT_USAGE } from './exit-codes.js';

/** Throws a usage error unless `path` can be created or overwritten. */
export async function checkWritable(flag: string, path: string): Promise<void> {
  const full = resolve(path);
  const existing = await stat(full).catch(() => null);
  try {
    if (existing?.isDirectory()) throw new Error('it is a directory');
    await access(existing === null ? dirname(full) : full, constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`${flag} ${path}: cannot write there (${reason})`, EXIT_USAGE);
  }
}
