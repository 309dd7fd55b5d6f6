/**
 * Runs `ringkv <args>` in-process (buildProgram with captured output) and returns the exit code
 * and everything printed: what the CLI tests that look at stdout, stderr and the code share.
 */
import { buildProgram, exitCodeFor } from '../../src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface CliRunOptions {
  /** Text piped to stdin; without it, stdin is the default (none read). */
  readonly stdin?: string;
  /** Which thrown errors' messages go to `err`: usage errors (CliError) only, or any Error. */
  readonly errors?: 'cli' | 'all';
}

export async function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const piped = options.stdin;
  const program = buildProgram({
    io: {
      out: (data) => {
        out += typeof data === 'string' ? data : Buffer.from(data).toString();
      },
      err: (text) => {
        err += text;
      },
      isTty: false,
      ...(piped === undefined
        ? {}
        : { stdin: { isTty: false, read: async () => Buffer.from(piped, 'utf8') } }),
    },
    output: { writeOut: (text) => (out += text), writeErr: (text) => (err += text) },
  });
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    code = exitCodeFor(error);
    const shown = options.errors === 'all' || (error instanceof Error && error.name === 'CliError');
    if (error instanceof Error && shown) err += error.message;
  }
  return { code, out, err };
}
