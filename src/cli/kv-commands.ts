/**
 * `ringkv put`, `get` and `delete`: the key-value routes of a running cluster over HTTP.
 *
 * - put KEY VALUE | --file F (`-` reads stdin): a write without `--context` is blind, so over
 *   an existing value it makes a sibling (nothing is silently lost); pass the context from `get`
 *   to replace what that read saw. `--ttl 30s` makes the value expire (README "Expiry (TTL)");
 *   `--supersede local` replaces what the coordinating node holds, with no read first.
 * - get KEY: one value is written to stdout as is; siblings are listed numbered; the context
 *   goes to stderr (`--context-only` prints just the context, to stdout, for scripts).
 *   Exit 4 when the key is not found.
 * - delete KEY: reads the key's context first (unless `--context` is given), so the delete
 *   covers the values that read saw; exit 4 when there is nothing to delete.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { NODES_MAX, TIMEOUT_MS_MAX, TTL_MS_MAX, VALUE_SIZE_LIMIT_BYTES } from '../config.js';
import { addClientOptions, type ClientFlags, targetOf } from './client-options.js';
import { CliError, EXIT_NOT_FOUND, EXIT_UNREACHABLE, EXIT_USAGE } from './exit-codes.js';
import {
  type ApiReply,
  type ApiTarget,
  callApi,
  errorCodeOf,
  expectStatus,
  jsonOf,
} from './http-client.js';
import type { CliIo, StdinSource } from './io.js';
import { formatSiblings } from './siblings.js';
import { durationMs } from './units.js';
import { integerIn, usageError } from './up-options.js';

const CONTEXT_HEADER = 'x-ringkv-context';
const EXPIRES_AT_HEADER = 'x-ringkv-expires-at-ms';

/** Longest coordinator timeout a request may ask for (the server caps it lower). */

interface WriteFlags extends ClientFlags {
  readonly requestTimeout?: number;
  readonly context?: string;
  readonly w?: number;
  readonly pw?: number;
  readonly file?: string;
  /** put: the value's TTL in ms. */
  readonly ttl?: number;
  /** put: `local` supersedes what the coordinator holds for the key (no sibling). */
  readonly supersede?: 'local';
  /** The write's Idempotency-Key: run again with the same id, it is the same write. */
  readonly requestId?: string;
}

interface GetFlags extends ClientFlags {
  readonly requestTimeout?: number;
  readonly r?: number;
  readonly pr?: number;
  readonly contextOnly?: boolean;
}

interface WriteReply {
  readonly acked: number;
  readonly w: number;
  readonly coordinator: string;
  readonly sloppy: boolean;
  readonly siblings: number;
  readonly warning?: string;
}

export function addKvCommands(program: Command, io: CliIo): void {
  const quorum = integerIn(1, NODES_MAX);
  const primaries = integerIn(0, NODES_MAX);
  const requestTimeout = durationMs(TIMEOUT_MS_MAX);
  const ttlMs = positiveDurationMs(TTL_MS_MAX);
  const timeoutHelp = "the coordinator's deadline (default: the cluster's)";
  const requestIdHelp = 'idempotency key: run again with the same id, it is the same write';
  addClientOptions(
    program
      .command('put')
      .description('store a value under a key (blind unless --context is given)')
      .argument('<key>', 'the key')
      .argument('[value]', 'the value, as UTF-8 text (or use --file)')
      .option('--file <path>', 'read the value from a file (- for stdin)')
      .option('--context <context>', 'the context from `ringkv get`: replace what it saw')
      .option('--w <count>', 'acks to wait for (default: the cluster W)', quorum)
      .option('--pw <count>', "of those, acks from the key's own replicas", primaries)
      .option('--ttl <duration>', 'the value expires after this long (e.g. 30s, 5m)', ttlMs)
      .option(
        '--supersede <mode>',
        "'local': replace what the coordinator holds for the key, without --context",
        supersedeMode,
      )
      .option('--request-id <id>', requestIdHelp)
      .option('--request-timeout <duration>', timeoutHelp, requestTimeout),
  ).action(async (key: string, value: string | undefined, flags: WriteFlags) => {
    const body = await valueToStore(value, flags.file, io.stdin);
    await put(targetOf(flags), io, key, body, flags);
  });
  addClientOptions(
    program
      .command('get')
      .description('read a key: its value, or its numbered siblings (exit 4 if not found)')
      .argument('<key>', 'the key')
      .option('--r <count>', 'replies to wait for (default: the cluster R)', quorum)
      .option('--pr <count>', "of those, replies from the key's own replicas", primaries)
      .option('--request-timeout <duration>', timeoutHelp, requestTimeout)
      .option('--context-only', 'print only the context (to stdout)'),
  ).action(async (key: string, flags: GetFlags) => get(targetOf(flags), io, key, flags));
  addClientOptions(
    program
      .command('delete')
      .description('delete a key (reads its context first unless --context is given)')
      .argument('<key>', 'the key')
      .option('--context <context>', 'delete what this context saw instead of reading first')
      .option('--w <count>', 'acks to wait for (default: the cluster W)', quorum)
      .option('--pw <count>', "of those, acks from the key's own replicas", primaries)
      .option('--request-id <id>', requestIdHelp)
      .option('--request-timeout <duration>', timeoutHelp, requestTimeout),
  ).action(async (key: string, flags: WriteFlags) => remove(targetOf(flags), io, key, flags));
}

/** The value: the argument, the --file, or (neither given) what is piped into stdin. */
async function valueToStore(
  value: string | undefined,
  file: string | undefined,
  stdin: StdinSource | undefined,
): Promise<Uint8Array> {
  if (value !== undefined && file !== undefined) {
    throw new CliError('give the value as an argument or with --file, not both', EXIT_USAGE);
  }
  if (value !== undefined) return Buffer.from(value, 'utf8');
  if (file === undefined && (stdin === undefined || stdin.isTty)) {
    throw new CliError('missing value (give it, pipe it in, or use --file <path>)', EXIT_USAGE);
  }
  try {
    if (file === undefined || file === '-') {
      if (stdin === undefined) throw new Error('no standard input');
      // Past the largest value a cluster may accept, the write would be refused anyway.
      return await stdin.read(VALUE_SIZE_LIMIT_BYTES);
    }
    return await readFile(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot read ${file ?? 'stdin'}: ${reason}`, EXIT_USAGE);
  }
}

async function put(
  target: ApiTarget,
  io: CliIo,
  key: string,
  body: Uint8Array,
  flags: WriteFlags,
): Promise<void> {
  const query = writeQuery(flags);
  if (flags.ttl !== undefined) query.set('ttl_ms', String(Math.ceil(flags.ttl)));
  if (flags.supersede !== undefined) query.set('supersede', flags.supersede);
  const reply = await callApi(target, 'PUT', keyPath(key, query), {
    body,
    headers: writeHeaders(flags.context, flags.requestId),
  });
  expectStatus(reply, [200], `put ${key}`);
  reportWrite(io, 'stored', key, jsonOf<WriteReply>(reply));
}

async function get(target: ApiTarget, io: CliIo, key: string, flags: GetFlags): Promise<void> {
  const query = requestQuery({ r: flags.r, pr: flags.pr, timeout_ms: flags.requestTimeout });
  const reply = await callApi(target, 'GET', keyPath(key, query));
  expectStatus(reply, [200, 300, 404], `get ${key}`);
  const context = reply.headers.get(CONTEXT_HEADER) ?? '';
  if (flags.contextOnly) {
    if (context !== '') io.out(`${context}\n`);
  } else if (reply.status === 200) {
    io.out(reply.body);
    if (io.isTty) io.out('\n');
    const deadline = Number(reply.headers.get(EXPIRES_AT_HEADER) ?? Number.NaN);
    if (Number.isSafeInteger(deadline)) io.err(`expires: ${new Date(deadline).toISOString()}\n`);
  } else if (reply.status === 300) {
    io.out(formatSiblings(jsonOf<{ siblings: { value: string }[] }>(reply).siblings));
  }
  if (!flags.contextOnly && context !== '') io.err(`context: ${context}\n`);
  if (reply.status === 404) throw notFound(reply, key, target);
}

/**
 * A 404 of a key (`NOT_FOUND`) is exit 4; any other 404 (a wrong --url: no such route, or not a
 * ringkv server at all) is exit 3, so a script never reads a misconfiguration as a missing key.
 */
function notFound(reply: ApiReply, key: string, target: ApiTarget): CliError {
  if (errorCodeOf(reply) === 'NOT_FOUND') return new CliError(`not found: ${key}`, EXIT_NOT_FOUND);
  return new CliError(
    `${target.url} answered 404 for /kv/: is --url (or RINGKV_URL) a ringkv cluster?`,
    EXIT_UNREACHABLE,
  );
}

async function remove(target: ApiTarget, io: CliIo, key: string, flags: WriteFlags): Promise<void> {
  const context = flags.context ?? (await currentContext(target, key));
  const reply = await callApi(target, 'DELETE', keyPath(key, writeQuery(flags)), {
    headers: writeHeaders(context, flags.requestId),
  });
  expectStatus(reply, [200], `delete ${key}`);
  reportWrite(io, 'deleted', key, jsonOf<WriteReply>(reply));
}

/** The context of the key's live values; exit 4 when it has none. */
async function currentContext(target: ApiTarget, key: string): Promise<string> {
  const reply: ApiReply = await callApi(target, 'GET', keyPath(key, new URLSearchParams()));
  expectStatus(reply, [200, 300, 404], `read ${key} before deleting it`);
  if (reply.status === 404) throw notFound(reply, key, target);
  return reply.headers.get(CONTEXT_HEADER) ?? '';
}

function reportWrite(io: CliIo, verb: string, key: string, result: WriteReply): void {
  const sloppy = result.sloppy ? ', sloppy: a stand-in acked for a down replica' : '';
  io.out(
    `${verb} ${key}: acked ${result.acked} of w=${result.w}, coordinator ${result.coordinator}, ` +
      `siblings ${result.siblings}${sloppy}\n`,
  );
  if (result.warning !== undefined) io.err(`warning: ${result.warning}\n`);
}

/** A duration of at least 1 ms (a TTL of 0 would mean "already expired"). */
function positiveDurationMs(maxMs: number): (value: string) => number {
  const parse = durationMs(maxMs);
  return (value: string): number => {
    const ms = parse(value);
    if (ms < 1) throw usageError('A TTL must be at least 1ms (e.g. 500ms, 30s, 1h).');
    return ms;
  };
}

/** `--supersede`: `local` is the only mode (README "HTTP API", PUT). */
function supersedeMode(value: string): 'local' {
  if (value === 'local') return value;
  throw usageError(`The only supersede mode is 'local', got '${value}'.`);
}

function writeQuery(flags: WriteFlags): URLSearchParams {
  return requestQuery({ w: flags.w, pw: flags.pw, timeout_ms: flags.requestTimeout });
}

/** The query string of the given parameters, leaving out the undefined ones. */
function requestQuery(params: Readonly<Record<string, number | undefined>>): URLSearchParams {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) query.set(name, String(Math.ceil(value)));
  }
  return query;
}

/** The key's route; every key round-trips, `.` and `..` too (callApi sends the path as is). */
function keyPath(key: string, query: URLSearchParams): string {
  const search = query.size === 0 ? '' : `?${query}`;
  return `/kv/${encodeURIComponent(key)}${search}`;
}

function contextHeader(context: string | undefined): Record<string, string> {
  return context === undefined || context === '' ? {} : { 'X-Ringkv-Context': context };
}

/** A write's context and Idempotency-Key headers (the server checks the id: a 400 is exit 2). */
function writeHeaders(context: string | undefined, requestId: string | undefined) {
  const headers = contextHeader(context);
  return requestId === undefined ? headers : { ...headers, 'Idempotency-Key': requestId };
}
