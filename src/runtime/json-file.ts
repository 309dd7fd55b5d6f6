/**
 * Small JSON state files a node or a local cluster keeps in its data dir (the membership file,
 * node.json): read back as untrusted `unknown` for the caller to check, written whole through a
 * temporary file and a rename, so a crash mid-write leaves the old file, never half of one.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ValidationError } from '../errors.js';

/** The parsed file, or null when it does not exist; a ValidationError when it is not JSON. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(`${file} is not JSON: fix or remove it`);
  }
}

export function writeJsonFile(file: string, value: unknown): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, file);
}
