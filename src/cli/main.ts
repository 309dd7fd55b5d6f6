/**
 * The `ringkv` command-line program. `buildProgram()` builds it without side effects (tests
 * parse with it); `main()` runs it and maps failures to exit codes: 0 for help, 2 for bad
 * arguments, a StartupError's own code, 1 for anything else.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, type OutputConfiguration } from 'commander';
import { DEFAULT_CONFIG } from '../config.js';
import { type RunningUp, runUp, StartupError } from './up.js';
import {
  integerIn,
  NODES_MAX,
  nonEmpty,
  PORT_MAX,
  toUpPlan,
  type UpFlags,
  type UpPlan,
  USAGE_EXIT_CODE,
} from './up-options.js';

export interface CliDeps {
  /** Starts the cluster and the API for `up`. @default runUp */
  readonly runUp: (plan: UpPlan) => Promise<unknown>;
  /** Where commander writes help and errors. @default stdout / stderr */
  readonly output?: OutputConfiguration;
}

/** Builds the program. Errors throw CommanderError (exitOverride) instead of exiting. */
export function buildProgram(deps: Partial<CliDeps> = {}): Command {
  const program = new Command('ringkv')
    .description('A leaderless, Dynamo-style replicated key-value store.')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  if (deps.output !== undefined) program.configureOutput(deps.output);
  addUpCommand(program, deps.runUp ?? ((plan: UpPlan): Promise<RunningUp> => runUp(plan)));
  return program;
}

function addUpCommand(program: Command, start: (plan: UpPlan) => Promise<unknown>): void {
  program
    .command('up')
    .description('start a local cluster with an HTTP API; Ctrl-C stops it')
    .option(
      '--nodes <count>',
      `storage nodes (1..${NODES_MAX})`,
      integerIn(1, NODES_MAX),
      DEFAULT_CONFIG.nodes,
    )
    .option('--n <count>', 'replicas per key (1..nodes)', integerIn(1, NODES_MAX), DEFAULT_CONFIG.n)
    .option(
      '--r <count>',
      'replies a read waits for (1..n)',
      integerIn(1, NODES_MAX),
      DEFAULT_CONFIG.r,
    )
    .option(
      '--w <count>',
      'acks a write waits for (1..n)',
      integerIn(1, NODES_MAX),
      DEFAULT_CONFIG.w,
    )
    .option(
      '--port <port>',
      `HTTP port (0..${PORT_MAX}, 0 = any free port)`,
      integerIn(0, PORT_MAX),
      8080,
    )
    .option('--host <host>', 'HTTP listen address', nonEmpty, '127.0.0.1')
    .option(
      '--data-dir <dir>',
      'keep data in lmdb under this directory (default: in memory)',
      nonEmpty,
    )
    .action(async (flags: UpFlags, command: Command) => {
      await start(planOrExit(flags, command));
    });
}

function planOrExit(flags: UpFlags, command: Command): UpPlan {
  try {
    return toUpPlan(flags);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    command.error(`error: ${message}`, {
      exitCode: USAGE_EXIT_CODE,
      code: 'commander.invalidArgument',
    });
  }
}

/** The exit code for a failure thrown out of parseAsync. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
    if (error.code === 'commander.help') return error.exitCode;
    return USAGE_EXIT_CODE;
  }
  if (error instanceof StartupError) return error.exitCode;
  return 1;
}

/** Runs the program on `argv` (node-style, with the two leading entries). */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    const code = exitCodeFor(error);
    if (!(error instanceof CommanderError)) {
      process.stderr.write(`ringkv: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exit(code);
  }
}

function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

if (isEntryPoint(import.meta.url)) void main();
