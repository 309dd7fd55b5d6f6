import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWritable } from '../../src/cli/output-path.js';

describe('benchmark output paths are checked before the run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-out-'));

  it('accepts a new file in a writable folder', async () => {
    await expect(checkWritable('--json', join(dir, 'out.json'))).resolves.toBeUndefined();
  });

  it.each([
    ['a folder that does not exist', () => join(dir, 'missing', 'out.json')],
    ['a folder given as the file', () => dir],
  ])('refuses %s with a usage error (exit 2)', async (_what, path) => {
    await expect(checkWritable('--json', path())).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^--json .*: cannot write there/),
    });
  });
});
