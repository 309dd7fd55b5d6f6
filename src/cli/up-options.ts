/**
 * Options of `ringkv up`: per-option parsers (commander custom parsers that throw
 * InvalidArgumentError) and the cross-option checks (n ≤ nodes, r and w ≤ n) that turn the parsed
 * flags into an UpPlan. Bad arguments exit with code 2, the usual code for a usage error.
 */
import path from 'node:path';
import parseBytes from 'bytes';
import { InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_CONFIG,
  type LogLevel,
  NODES_MAX,
  type RingkvConfig,
  STORAGE_ENGINES,
  type StorageEngineName,
  TIMEOUT_MS_MAX,
} from '../config.js';
import { parseLogLevel } from '../runtime/log.js';

/** Exit code for bad command-line arguments. */
export const USAGE_EXIT_CODE = 2;
export const PORT_MAX = 65_535;

/** The flags as commander hands them to the action, after the per-option parsers ran. */
export interface UpFlags {
  readonly nodes: number;
  /** Worker threads the nodes share; absent: config's choice (nodeThreadsFor). */
  readonly nodeThreads?: number;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly port: number;
  readonly host: string;
  readonly dataDir?: string;
  /** The durable engine of new node directories; absent: config's default. */
  readonly engine?: StorageEngineName;
  /** config storageBytesMax (--storage-max); absent: the config's. */
  readonly storageMax?: number;
  readonly memory?: boolean;
  /** Each node a `ringkv node` child process rather than a worker thread. */
  readonly processes?: boolean;
  readonly logLevel?: LogLevel;
  readonly token?: string;
  readonly httpCert?: string;
  readonly httpKey?: string;
  readonly resp?: number;
  /** A get asks R replicas and the rest after this many ms; 0 asks all at once. */
  readonly readSpeculateMs?: number;
}

/** Where `up` keeps data unless told otherwise: durable by default, as Riak and Cassandra are. */
export const DEFAULT_DATA_DIR = './ringkv-data';

/** What `up` starts: the cluster options and where the HTTP API listens. */
export interface UpPlan {
  readonly config: Partial<RingkvConfig>;
  readonly host: string;
  readonly port: number;
  /** Required on /admin routes. @default none (only allowed on loopback) */
  readonly adminToken?: string | null;
  /** PEM files of the HTTPS certificate and key. @default none: plain HTTP */
  readonly https?: { readonly certFile: string; readonly keyFile: string } | null;
  /** How nodes run. @default 'threads' */
  readonly runtime?: 'threads' | 'processes';
  /** Port of the Redis-protocol server, at `host` (0: any free one). @default none: off */
  readonly resp?: number | null;
}

/** Shortest admin token accepted: a guessable token protects nothing. */
export const ADMIN_TOKEN_LENGTH_MIN = 16;

/** An InvalidArgumentError that exits with the usage code rather than commander's 1. */
export function usageError(message: string): InvalidArgumentError {
  const error = new InvalidArgumentError(message);
  error.exitCode = USAGE_EXIT_CODE;
  return error;
}

/** A commander parser accepting a decimal integer in min..max. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const parsed = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw usageError(`Must be an integer between ${min} and ${max}.`);
    }
    return parsed;
  };
}

/** `--n`, `--r` or `--w` (1..NODES_MAX; their bounds against each other are checked later). */
export function quorumOption(name: 'n' | 'r' | 'w', description: string, fallback: number): Option {
  return new Option(`--${name} <count>`, description)
    .argParser(integerIn(1, NODES_MAX))
    .default(fallback);
}

/**
 * `--read-speculate-ms` (up and node): how long a get waits for the R replicas it asked before it
 * asks the others; 0 asks every replica at once. Default: the config's.
 */
export function readSpeculateOption(): Option {
  return new Option(
    '--read-speculate-ms <ms>',
    `a get asks R replicas, and the others after this many ms without an answer; 0 asks all at once (default: ${DEFAULT_CONFIG.readSpeculateMs})`,
  ).argParser(integerIn(0, TIMEOUT_MS_MAX));
}

/**
 * `--storage-max` (up and node): config storageBytesMax, a size such as `512mb` or `2gb` (parsed
 * by `bytes`) or a count of bytes; 0 is no bound. Default: the config's.
 */
export function storageMaxOption(): Option {
  return new Option(
    '--storage-max <size>',
    'bytes of records one node may hold in memory (log and memory engines) before it refuses new values with 507 / -OOM; deletes and reads go on: 512mb, 2gb or a number of bytes, 0 = no bound (default: no bound)',
  ).argParser(byteSize);
}

/** What `bytes` reads as a size: a number and a unit it knows (it reads `2 parsecs` as 2). */
const BYTE_SIZE = /^[0-9]+(\.[0-9]+)?\s*(b|kb|mb|gb|tb|pb)?$/i;

function byteSize(value: string): number {
  const text = value.trim();
  const parsed = BYTE_SIZE.test(text) ? parseBytes(text) : null;
  if (parsed === null || !Number.isSafeInteger(parsed) || parsed < 0) {
    throw usageError('Must be a size such as 512mb or 2gb, or a number of bytes (0: no bound).');
  }
  return parsed;
}

/**
 * `--engine` (up and node): the durable engine of a node directory that holds no data yet; one
 * that does keeps its own. Default: the config's.
 */
export function engineOption(): Option {
  return new Option(
    '--engine <engine>',
    `durable storage of new node directories: log (records in memory, an append-only log on disk) or lmdb (a B-tree on disk, for data larger than memory); a directory with data keeps its engine (default: ${DEFAULT_CONFIG.storageEngine})`,
  ).choices(STORAGE_ENGINES);
}

/** A commander parser for `--log-level`. */
export function logLevelArg(value: string): LogLevel {
  try {
    return parseLogLevel(value);
  } catch (error) {
    throw usageError(`${error instanceof Error ? error.message : String(error)}.`);
  }
}

export function nonEmpty(value: string): string {
  if (value.trim() === '') throw usageError('Must not be empty.');
  return value;
}

/** Checks the options against each other; throws a usage error naming the first conflict. */
export function toUpPlan(flags: UpFlags): UpPlan {
  if (flags.n > flags.nodes) {
    throw usageError(
      `--n ${flags.n} needs at least ${flags.n} nodes, but --nodes is ${flags.nodes}.`,
    );
  }
  if (flags.nodeThreads !== undefined && flags.nodeThreads > flags.nodes) {
    throw usageError(`--node-threads ${flags.nodeThreads} must not exceed --nodes ${flags.nodes}.`);
  }
  if (flags.nodeThreads !== undefined && flags.processes) {
    throw usageError(
      '--node-threads is for worker threads: with --processes each node is its own process.',
    );
  }
  if (flags.r > flags.n) throw usageError(`--r ${flags.r} must not exceed --n ${flags.n}.`);
  if (flags.w > flags.n) throw usageError(`--w ${flags.w} must not exceed --n ${flags.n}.`);
  if (flags.memory && flags.dataDir !== undefined) {
    throw usageError('--memory and --data-dir exclude each other: pick one.');
  }
  if (flags.memory && flags.engine !== undefined) {
    throw usageError('--engine picks a durable engine: it does not go with --memory.');
  }
  const dataDir = flags.memory ? null : path.resolve(flags.dataDir ?? DEFAULT_DATA_DIR);
  const adminToken = adminTokenOf(flags);
  return {
    config: {
      nodes: flags.nodes,
      ...(flags.nodeThreads === undefined ? {} : { nodeThreads: flags.nodeThreads }),
      n: flags.n,
      r: flags.r,
      w: flags.w,
      dataDir,
      ...(flags.engine === undefined ? {} : { storageEngine: flags.engine }),
      ...(flags.storageMax === undefined ? {} : { storageBytesMax: flags.storageMax }),
      ...(flags.logLevel === undefined ? {} : { logLevel: flags.logLevel }),
      ...(flags.readSpeculateMs === undefined ? {} : { readSpeculateMs: flags.readSpeculateMs }),
    },
    host: flags.host,
    port: flags.port,
    adminToken,
    https: httpsOf(flags),
    ...(flags.processes ? { runtime: 'processes' as const } : {}),
    ...(flags.resp === undefined ? {} : { resp: flags.resp }),
  };
}

/** `--http-cert` and `--http-key` (both or neither), as absolute paths; null: plain HTTP. */
export function httpsOf(flags: {
  readonly httpCert?: string;
  readonly httpKey?: string;
}): { certFile: string; keyFile: string } | null {
  if (flags.httpCert === undefined && flags.httpKey === undefined) return null;
  if (flags.httpCert === undefined || flags.httpKey === undefined) {
    throw usageError('--http-cert and --http-key go together: give both for HTTPS, or neither.');
  }
  return { certFile: path.resolve(flags.httpCert), keyFile: path.resolve(flags.httpKey) };
}

/**
 * The admin token, checked: beyond loopback the admin API (kill, partition, add/remove node) is
 * open to anyone who can reach the port, so `up` does not start there without one.
 */
function adminTokenOf(flags: UpFlags): string | null {
  const token = flags.token === undefined || flags.token === '' ? null : flags.token;
  if (token !== null && token.length < ADMIN_TOKEN_LENGTH_MIN) {
    throw usageError(`--token must be at least ${ADMIN_TOKEN_LENGTH_MIN} characters long.`);
  }
  if (token === null && !isLoopback(flags.host)) {
    throw usageError(
      `--host ${flags.host} is reachable from other machines, and so would be /admin: ` +
        'pass --token <secret> or set RINGKV_ADMIN_TOKEN (e.g. RINGKV_ADMIN_TOKEN=$(openssl rand -hex 16)).',
    );
  }
  return token;
}

/** Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}
