/**
 * `ringkv status`, membership changes (`add-node [ID]` or `--id ID`, `remove-node NODE`: they wait
 * until the data has moved, up to `--wait`) and the fault commands against a running cluster's
 * HTTP API: `kill NODE`,
 * `restart NODE`, `partition A,B C,D,E` (nodes left out form one more group together), `heal`
 * (removes the partition; delay and loss stay) and `net` (delay, jitter, loss on every
 * node-to-node message; options left out keep their value, `--reset` clears all three, no
 * option just shows them).
 */
import { type Command, Option } from 'commander';
import type { ClusterStatus, MembershipChangeResult, NetworkStatus } from '../client/types.js';
import { MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX, MEMBERSHIP_CHANGE_WAIT_MS_DEFAULT } from '../config.js';
import { FAULT_DELAY_MS_MAX } from '../transport/faults.js';
import { addClientOptions, type ClientFlags, targetOf } from './client-options.js';
import { CliError, EXIT_USAGE } from './exit-codes.js';
import { type ApiTarget, callApi, expectStatus, jsonOf } from './http-client.js';
import type { CliIo } from './io.js';
import { formatNetwork, formatStatus } from './status-table.js';
import { durationMs, rate } from './units.js';

interface ChangeFlags extends ClientFlags {
  readonly id?: string;
  readonly wait: number;
}

interface StatusFlags extends ClientFlags {
  readonly json?: boolean;
}

interface NetFlags extends ClientFlags {
  readonly delay?: number;
  readonly jitter?: number;
  readonly loss?: number;
  readonly reset?: boolean;
}

export function addAdminCommands(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('status')
      .description('show every node: state, partitions, keys, hints pending, partition group')
      .option('--json', 'print the raw /status JSON'),
  ).action(async (flags: StatusFlags) => {
    const status = await fetchStatus(targetOf(flags));
    io.out(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
  });
  addMembershipCommands(program, io);
  addNodeCommand(program, io, 'kill', 'stop a node abruptly, as a crash would', 'killed');
  addNodeCommand(program, io, 'restart', 'start a killed node again', 'restarted');
  addClientOptions(
    program
      .command('partition')
      .description('split the nodes into groups that cannot talk to each other')
      .argument('<groups...>', 'comma-separated node ids per group, e.g. n1,n2 n3,n4,n5'),
  ).action(async (groups: string[], flags: ClientFlags) => {
    const body = JSON.stringify({ groups: groups.map(parseGroup) });
    const network = await postNetwork(targetOf(flags), '/admin/partition', body, 'partition');
    io.out(`${formatNetwork(network)}\n`);
  });
  addClientOptions(
    program.command('heal').description('remove the partition (delay and loss stay)'),
  ).action(async (flags: ClientFlags) => {
    const network = await postNetwork(targetOf(flags), '/admin/heal', undefined, 'heal');
    io.out(`${formatNetwork(network)}\n`);
  });
  addNetCommand(program, io);
}

function addMembershipCommands(program: Command, io: CliIo): void {
  const wait = new Option('--wait <duration>', 'how long to wait for the data to move, e.g. 5m')
    .argParser(durationMs(MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX))
    .default(MEMBERSHIP_CHANGE_WAIT_MS_DEFAULT, '10m');
  addClientOptions(
    program
      .command('add-node')
      .description('start a new node and move its share of the data to it')
      .argument('[node]', 'the new node id (default: the next free n<k>)')
      .option('--id <id>', 'the new node id, as an option')
      .addOption(wait),
  ).action(async (node: string | undefined, flags: ChangeFlags) => {
    if (node !== undefined && flags.id !== undefined && node !== flags.id) {
      throw new CliError(`add-node: two ids given, ${node} and --id ${flags.id}`, EXIT_USAGE);
    }
    const id = node ?? flags.id;
    const body = JSON.stringify(id === undefined ? {} : { id });
    const result = await changeMembership(flags, 'POST', '/admin/nodes', body, 'add-node');
    io.out(`${describeChange(result)}\n`);
  });
  addClientOptions(
    program
      .command('remove-node')
      .description('take a node out: a running one hands its data over first (exit 4: unknown)')
      .argument('<node>', 'node id, as in `ringkv status`')
      .option('--force', 'remove it even if fewer than n nodes remain (keys lose replicas)')
      .addOption(wait),
  ).action(async (node: string, flags: ChangeFlags & { force?: boolean }) => {
    const force = flags.force === true ? '?force=1' : '';
    const path = `/admin/nodes/${encodeURIComponent(node)}${force}`;
    const result = await changeMembership(flags, 'DELETE', path, undefined, `remove-node ${node}`);
    io.out(`${describeChange(result)}\n`);
  });
}

async function changeMembership(
  flags: ChangeFlags,
  method: string,
  path: string,
  body: string | undefined,
  what: string,
): Promise<MembershipChangeResult> {
  const target = { ...targetOf(flags), timeoutMs: Math.max(1, flags.wait) };
  const headers = { 'content-type': 'application/json' };
  const reply = await callApi(target, method, path, body === undefined ? {} : { body, headers });
  expectStatus(reply, [200, 201], what);
  return jsonOf<MembershipChangeResult>(reply);
}

function describeChange(result: MembershipChangeResult): string {
  const verb = { join: 'joined', leave: 'left', remove: 'was removed' }[result.kind];
  const seconds = (result.ms / 1000).toFixed(1);
  return `${result.id} ${verb}: ring version ${result.version}, ${result.keysSent} keys moved, ${result.keysDrained} drained, ${seconds} s`;
}

const already = { kill: 'down already', restart: 'up already' } as const;

function addNodeCommand(
  program: Command,
  io: CliIo,
  action: 'kill' | 'restart',
  description: string,
  done: string,
): void {
  addClientOptions(
    program
      .command(action)
      .description(`${description} (exit 4 for an unknown node)`)
      .argument('<node>', 'node id, as in `ringkv status`'),
  ).action(async (node: string, flags: ClientFlags) => {
    const path = `/admin/nodes/${encodeURIComponent(node)}/${action}`;
    const reply = await callApi(targetOf(flags), 'POST', path);
    expectStatus(reply, [200], `${action} ${node}`);
    // Exit 0 either way (the node is in the state asked for), but say when nothing happened.
    const { changed } = jsonOf<{ changed?: boolean }>(reply);
    io.out(
      changed === false ? `${node} was ${already[action]}: nothing to do\n` : `${node} ${done}\n`,
    );
  });
}

function addNetCommand(program: Command, io: CliIo): void {
  const delay = durationMs(FAULT_DELAY_MS_MAX);
  addClientOptions(
    program
      .command('net')
      .description('inject delay, jitter and loss on node-to-node messages; no option shows them')
      .option('--delay <duration>', 'added to every message, e.g. 5ms', delay)
      .option('--jitter <duration>', 'plus a uniform random 0..jitter, e.g. 1ms', delay)
      .option('--loss <rate>', 'share of messages lost, e.g. 1% or 0.01', rate)
      .option('--reset', 'set delay, jitter and loss back to 0'),
  ).action(async (flags: NetFlags) => {
    const target = targetOf(flags);
    const changes = netChanges(flags);
    const network =
      changes === null
        ? (await fetchStatus(target)).network
        : await postNetwork(target, '/admin/network', JSON.stringify(changes), 'net');
    io.out(`${formatNetwork(network)}\n`);
  });
}

/** The /admin/network body for the flags, or null when they change nothing. */
function netChanges(flags: NetFlags): Record<string, number> | null {
  const given = [flags.delay, flags.jitter, flags.loss].some((value) => value !== undefined);
  if (flags.reset && given) {
    throw new CliError('--reset cannot be combined with --delay, --jitter or --loss', EXIT_USAGE);
  }
  if (flags.reset) return { delay_ms: 0, jitter_ms: 0, loss: 0 };
  if (!given) return null;
  const changes: Record<string, number> = {};
  if (flags.delay !== undefined) changes.delay_ms = flags.delay;
  if (flags.jitter !== undefined) changes.jitter_ms = flags.jitter;
  if (flags.loss !== undefined) changes.loss = flags.loss;
  return changes;
}

function parseGroup(text: string): string[] {
  const ids = text.split(',').map((id) => id.trim());
  if (ids.some((id) => id === '')) {
    throw new CliError(
      `bad group ${JSON.stringify(text)}: use comma-separated node ids`,
      EXIT_USAGE,
    );
  }
  return ids;
}

async function fetchStatus(target: ApiTarget): Promise<ClusterStatus> {
  const reply = await callApi(target, 'GET', '/status');
  expectStatus(reply, [200], 'status');
  return jsonOf<ClusterStatus>(reply);
}

async function postNetwork(
  target: ApiTarget,
  path: string,
  body: string | undefined,
  what: string,
): Promise<NetworkStatus> {
  const headers = { 'content-type': 'application/json' };
  const reply = await callApi(target, 'POST', path, body === undefined ? {} : { body, headers });
  expectStatus(reply, [200], what);
  return jsonOf<{ network: NetworkStatus }>(reply).network;
}
