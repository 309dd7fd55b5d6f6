/**
 * The `ringkv node` command's options (see node.ts for what it runs). Kept apart from node.ts so
 * that building the program loads no node, transport or server code.
 */
import { type Command, Option } from 'commander';
import {
  CLUSTER_NAME_DEFAULT,
  DEFAULT_CONFIG,
  LOG_LEVELS,
  MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX,
  NODE_DRAIN_MS_DEFAULT,
  NODE_JOIN_TIMEOUT_MS_DEFAULT,
  TIMEOUT_MS_MAX,
} from '../config.js';
import type { NodeFlags } from './node.js';
import {
  ADMIN_TOKEN_LENGTH_MIN,
  engineOption,
  integerIn,
  logLevelArg,
  nonEmpty,
  quorumOption,
  readSpeculateOption,
  storageMaxOption,
  usageError,
} from './up-options.js';

function controlToken(value: string): string {
  if (value.length < ADMIN_TOKEN_LENGTH_MIN) {
    throw usageError(`Must be at least ${ADMIN_TOKEN_LENGTH_MIN} characters long.`);
  }
  return value;
}

export function addNodeCommand(program: Command): void {
  program
    .command('node')
    .description('run one node of a multi-process cluster: peers over TCP (mutual TLS), HTTP API')
    .requiredOption('--id <id>', 'this node id (letters, digits, . _ -)', nonEmpty)
    .requiredOption('--listen <host:port>', 'address to listen on for peers', nonEmpty)
    .requiredOption(
      '--http <host:port>',
      'address of the HTTP API (port 0: any free one)',
      nonEmpty,
    )
    .requiredOption('--data-dir <dir>', 'where the node keeps its data and identity', nonEmpty)
    .addOption(engineOption())
    .addOption(storageMaxOption())
    .option(
      '--initial-cluster <list>',
      'every node of the first cluster, this one included: n1=HOST:PORT,n2=HOST:PORT,… (or --join)',
      nonEmpty,
    )
    .option(
      '--join <host:port>',
      'join a running cluster: the peer address (--listen/--advertise) of any member (or --initial-cluster)',
      nonEmpty,
    )
    .option(
      '--join-timeout <ms>',
      `how long --join may take until this node owns its partitions (1000..${MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX})`,
      integerIn(1000, MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX),
      NODE_JOIN_TIMEOUT_MS_DEFAULT,
    )
    .addOption(
      new Option(
        '--token <token>',
        'admin token required on /admin (remove-node); without one /admin is served only on a loopback --http',
      ).env('RINGKV_ADMIN_TOKEN'),
    )
    .option('--tls-dir <dir>', 'ca.crt, <id>.crt and <id>.key (made by `ringkv certs`)', nonEmpty)
    .option('--insecure', 'plain TCP between nodes, no authentication (excludes --tls-dir)')
    .option(
      '--http-cert <file>',
      'serve the HTTP API over HTTPS with this PEM certificate',
      nonEmpty,
    )
    .option('--http-key <file>', 'the PEM private key of --http-cert', nonEmpty)
    .option('--advertise <host:port>', 'address peers dial (default: --listen)', nonEmpty)
    .option(
      '--resp <host:port>',
      'also serve the Redis protocol (RESP2/3) here (port 0: any free one; default: off; AUTH with RINGKV_ADMIN_TOKEN when set)',
      nonEmpty,
    )
    .addOption(quorumOption('n', 'replicas per key', DEFAULT_CONFIG.n))
    .addOption(quorumOption('r', 'replies a read waits for (1..n)', DEFAULT_CONFIG.r))
    .addOption(quorumOption('w', 'acks a write waits for (1..n)', DEFAULT_CONFIG.w))
    .addOption(readSpeculateOption())
    .option('--cluster-name <name>', 'label every peer must share', nonEmpty, CLUSTER_NAME_DEFAULT)
    .option(
      '--drain-ms <ms>',
      `on SIGTERM, how long requests in flight may finish (0..${TIMEOUT_MS_MAX})`,
      integerIn(0, TIMEOUT_MS_MAX),
      NODE_DRAIN_MS_DEFAULT,
    )
    .addOption(
      new Option(
        '--control-token <token>',
        `serve the /control routes for a supervisor (ringkv up --processes), with this token (${ADMIN_TOKEN_LENGTH_MIN}+ characters)`,
      )
        .env('RINGKV_CONTROL_TOKEN')
        .argParser(controlToken),
    )
    .option('--exit-with-stdin', 'drain and exit when stdin closes (the supervisor died)')
    .option(
      '--log-level <level>',
      `JSON logs on stderr from this level up: ${LOG_LEVELS.join(', ')} (default: info)`,
      logLevelArg,
    )
    .action(async (flags: NodeFlags) => {
      // Loaded only for `node`, so client commands start fast (as `up` does).
      const { runNode } = await import('./node.js');
      const { installShutdown, processIo } = await import('./up.js');
      const running = await runNode(flags);
      installShutdown({ ...running, shutdown: () => running.shutdown() }, processIo);
      if (flags.exitWithStdin === true) {
        // The supervisor holds the other end: EOF means it exited, even by SIGKILL.
        process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
        process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
        process.stdin.resume();
      }
    });
}
