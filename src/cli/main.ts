/**
 * The `ringkv` command-line program. `buildProgram()` builds it without side effects (tests
 * parse with it); `main()` runs it and maps failures to exit codes (exit-codes.ts): 0 ok (and
 * help), 1 cluster or server error, 2 bad arguments, 3 cluster unreachable, 4 not found.
 *
 * Commands: `up` starts a cluster (up.ts); `put`, `get`, `delete` (kv-commands.ts) and
 * `status`, `kill`, `restart`, `partition`, `heal`, `net` (admin-commands.ts) talk to a running
 * one over HTTP at `--url` (env RINGKV_URL, default http://127.0.0.1:8080). `bench staleness`
 * (bench-staleness.ts) runs the staleness benchmark. `certs` (certs.ts) makes the CA and node
 * certificates for TLS between nodes. `--version` prints the package's version.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option, type OutputConfiguration } from 'commander';
import { DEFAULT_CONFIG, LOG_LEVELS, NODES_MAX } from '../config.js';
import { addAdminCommands } from './admin-commands.js';
import { addBenchMatrixCommand, addBenchReportCommand } from './bench-matrix.js';
import { addBenchStalenessCommand } from './bench-staleness.js';
import { addCertsCommand } from './certs.js';
import { CliError, StartupError } from './exit-codes.js';
import { addInsightCommands } from './insight-commands.js';
import { type CliIo, processCliIo } from './io.js';
import { addKvCommands } from './kv-commands.js';
import { addNodeCommand } from './node-command.js';
import type { RunningUp } from './up.js';
import {
  DEFAULT_DATA_DIR,
  engineOption,
  integerIn,
  logLevelArg,
  nonEmpty,
  PORT_MAX,
  quorumOption,
  readSpeculateOption,
  storageMaxOption,
  toUpPlan,
  type UpFlags,
  type UpPlan,
  USAGE_EXIT_CODE,
} from './up-options.js';
import { packageVersion } from './version.js';

export interface CliDeps {
  /** Starts the cluster and the API for `up`. @default runUp */
  readonly runUp: (plan: UpPlan) => Promise<unknown>;
  /** Where commander writes help and errors. @default stdout / stderr */
  readonly output?: OutputConfiguration;
  /** Where client commands write their results. @default stdout / stderr */
  readonly io?: CliIo;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  ok (get: the key was found)
  1  the cluster answered with an error (quorum not met, timeout, unavailable: HTTP 5xx)
  2  bad arguments (rejected here or by the server: HTTP 400, 405, 413)
  3  cannot reach the cluster (connection refused, no answer within --timeout)
  4  not found (the key, or the node)
  5  up, node: an address to listen on is in use`;

/** Builds the program. Errors throw CommanderError (exitOverride) instead of exiting. */
export function buildProgram(deps: Partial<CliDeps> = {}): Command {
  const program = new Command('ringkv')
    .description('A leaderless, Dynamo-style replicated key-value store.')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  if (deps.output !== undefined) program.configureOutput(deps.output);
  program.addHelpText('after', EXIT_CODES_HELP);
  addUpCommand(program, deps.runUp ?? runUpLazily);
  addNodeCommand(program);
  const io = deps.io ?? processCliIo;
  addKvCommands(program, io);
  addAdminCommands(program, io);
  addInsightCommands(program, io);
  addCertsCommand(program, io);
  addBenchStalenessCommand(benchGroup(program), io);
  addBenchMatrixCommand(benchGroup(program), io);
  addBenchReportCommand(benchGroup(program), io);
  return program;
}

/** The `bench` command group (staleness, matrix): found, or created by whoever adds to it first. */
export function benchGroup(program: Command): Command {
  return (
    program.commands.find((command) => command.name() === 'bench') ??
    program
      .command('bench')
      .description('quorum-tuning benchmarks (see `ringkv bench <name> --help`)')
  );
}

/** Loads the cluster and server code only for `up`, so client commands start fast. */
async function runUpLazily(plan: UpPlan): Promise<RunningUp> {
  const { runUp } = await import('./up.js');
  return runUp(plan);
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
    .option(
      '--node-threads <count>',
      'worker threads the nodes share (1..nodes; default: one per node up to cores − 1)',
      integerIn(1, NODES_MAX),
    )
    .addOption(quorumOption('n', 'replicas per key (1..nodes)', DEFAULT_CONFIG.n))
    .addOption(quorumOption('r', 'replies a read waits for (1..n)', DEFAULT_CONFIG.r))
    .addOption(quorumOption('w', 'acks a write waits for (1..n)', DEFAULT_CONFIG.w))
    .addOption(readSpeculateOption())
    .option(
      '--port <port>',
      `HTTP port (0..${PORT_MAX}, 0 = any free port)`,
      integerIn(0, PORT_MAX),
      8080,
    )
    .option('--host <host>', 'HTTP listen address', nonEmpty, '127.0.0.1')
    .option(
      '--http-cert <file>',
      'serve HTTPS with this PEM certificate (with --http-key)',
      nonEmpty,
    )
    .option('--http-key <file>', 'the PEM private key of --http-cert', nonEmpty)
    .addOption(
      new Option(
        '--token <token>',
        'admin token required on /admin routes (required when --host is not loopback)',
      ).env('RINGKV_ADMIN_TOKEN'),
    )
    .option(
      '--data-dir <dir>',
      `keep data durably under this directory (default: ${DEFAULT_DATA_DIR})`,
      nonEmpty,
    )
    .addOption(engineOption())
    .addOption(storageMaxOption())
    .option('--memory', 'keep data in memory only, lost on exit (excludes --data-dir)')
    .option(
      '--processes',
      'run each node as its own OS process (TCP + mutual TLS between nodes; kill is SIGKILL)',
    )
    .option(
      '--resp <port>',
      `also serve the Redis protocol (RESP2/3) on this port at --host (0..${PORT_MAX}, 0 = any free port; default: off)`,
      integerIn(0, PORT_MAX),
    )
    .option(
      '--log-level <level>',
      `JSON logs on stderr from this level up: ${LOG_LEVELS.join(', ')} (default: ${DEFAULT_CONFIG.logLevel})`,
      logLevelArg,
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
  if (error instanceof StartupError || error instanceof CliError) return error.exitCode;
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
