import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, exitCodeFor } from '../../src/cli/main.js';

const manifest = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

describe('ringkv --version', () => {
  it.each([['--version'], ['-V']])('%s prints the package version and exits 0', async (flag) => {
    let stdout = '';
    const program = buildProgram({
      runUp: async () => {
        throw new Error('no command should run');
      },
      output: { writeOut: (text) => (stdout += text), writeErr: () => {} },
    });
    const error = await program.parseAsync([flag], { from: 'user' }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CommanderError);
    expect(exitCodeFor(error)).toBe(0);
    expect(stdout).toBe(`${manifest.version}\n`);
  });
});
