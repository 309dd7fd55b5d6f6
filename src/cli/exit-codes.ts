/**
 * Exit codes of every `ringkv` command, stable for scripts:
 *
 *   0  success (for `get`: the key was found, one value or siblings)
 *   1  the cluster answered with an error: quorum not met, timeout, unavailable (HTTP 5xx),
 *      too many siblings (409), or `up` failed to start
 *   2  bad arguments: rejected by the command line or by the server (HTTP 400, 405, 413)
 *   3  cannot reach the cluster: connection refused, unknown host, or no answer in time
 *   4  not found: the key (get, delete) or the node (kill, restart) does not exist
 *   5  `up` or `node` could not listen: an address it was given is in use
 */
import { ValidationError } from '../errors.js';
import { ADDRESS_IN_USE_EXIT_CODE } from '../runtime/child-node.js';

export const EXIT_OK = 0;
export const EXIT_CLUSTER = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;
export const EXIT_NOT_FOUND = 4;
/** `ringkv up --processes` starts a node again on other ports when it exits with this code. */
export const EXIT_ADDRESS_IN_USE = ADDRESS_IN_USE_EXIT_CODE;

/** A command failure with the message to print and the exit code to leave with. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The exit code for an HTTP error status from the ringkv API. */
export function exitCodeForStatus(status: number): number {
  if (status === 404) return EXIT_NOT_FOUND;
  if (status === 400 || status === 405 || status === 413) return EXIT_USAGE;
  return EXIT_CLUSTER;
}

/** `up` failed to start, with the message to print and the process exit code. */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The exit code for a failed start: bad arguments, an address in use, or anything else. */
export function startupExitCode(error: unknown): number {
  if (error instanceof ValidationError) return EXIT_USAGE;
  if (isAddressInUse(error)) return EXIT_ADDRESS_IN_USE;
  return EXIT_CLUSTER;
}

/** Whether `error` is a listen's EADDRINUSE. */
function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
}
